//===- FtcConvOps.cpp - Convolution and pooling ---------------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// One op family in one file (docs/plugins.md, "When the op set lacks
// something"): conv2d with its two gradient ops, max_pool2d and avg_pool2d
// with theirs. Each op's type inference and verifier, its vector-Jacobian
// product, its other interfaces and the kernel calls it lowers to, side by
// side. Every op here works on NCHW tensors with PyTorch's geometry.
//===----------------------------------------------------------------------===//
#include "OpSupport.h"

#include "ftc/Dialect/Ftc/IR/PlanEmitter.h"

using namespace mlir;
using namespace mlir::ftc;
using namespace mlir::ftc::support;

namespace {

/// A 2-D window: its size, stride, dilation and padding on each side.
struct Window {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t top = 0, left = 0, bottom = 0, right = 0;

  /// The output length of an axis of length `in` (floor mode), < 1 when
  /// the window does not fit.
  static int64_t out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t lo,
                     int64_t hi) {
    int64_t span = in + lo + hi - d * (k - 1) - 1;
    return span < 0 ? 0 : span / s + 1;
  }
  int64_t outH(int64_t h) const { return out(h, kh, sh, dh, top, bottom); }
  int64_t outW(int64_t w) const { return out(w, kw, sw, dw, left, right); }
  SmallVector<int64_t> padding() const { return {top, left, bottom, right}; }
};

/// Reads the geometry: `kernel` [kh, kw], `stride` and `dilation` [h, w]
/// (positive), `padding` [h, w] or [top, left, bottom, right] (>= 0).
FailureOr<Window> makeWindow(std::optional<Location> loc, StringRef op,
                             ArrayRef<int64_t> kernel, ArrayRef<int64_t> stride,
                             ArrayRef<int64_t> padding,
                             ArrayRef<int64_t> dilation) {
  auto pair = [&](ArrayRef<int64_t> v, StringRef what, int64_t min) {
    if (v.size() != 2 || v[0] < min || v[1] < min)
      return fail(loc, "'ftc." + op + "' " + what +
                           " must be two integers >= " + Twine(min));
    return success();
  };
  if (failed(pair(kernel, "kernel", 1)) || failed(pair(stride, "stride", 1)) ||
      failed(pair(dilation, "dilation", 1)))
    return failure();
  if ((padding.size() != 2 && padding.size() != 4) ||
      llvm::any_of(padding, [](int64_t p) { return p < 0; }))
    return fail(loc, "'ftc." + op +
                         "' padding must be [h, w] or [top, left, bottom, "
                         "right], each >= 0");
  Window w;
  w.kh = kernel[0], w.kw = kernel[1];
  w.sh = stride[0], w.sw = stride[1];
  w.dh = dilation[0], w.dw = dilation[1];
  w.top = padding[0], w.left = padding[1];
  w.bottom = padding.size() == 4 ? padding[2] : padding[0];
  w.right = padding.size() == 4 ? padding[3] : padding[1];
  return w;
}

/// `name` from an inferred op's attributes, or `dflt` when absent.
SmallVector<int64_t> arrayOr(DictionaryAttr attrs, StringRef name,
                             ArrayRef<int64_t> dflt) {
  if (DenseI64ArrayAttr a = getI64Array(attrs, name))
    return SmallVector<int64_t>(a.asArrayRef());
  return SmallVector<int64_t>(dflt);
}

/// The output shape of a window op over `x` [N, C, H, W] with `channels`
/// output channels, or a diagnostic when the window does not fit.
FailureOr<SmallVector<int64_t>> windowOutput(std::optional<Location> loc,
                                             StringRef op, RankedTensorType x,
                                             const Window &w,
                                             int64_t channels) {
  int64_t ho = w.outH(x.getDimSize(2)), wo = w.outW(x.getDimSize(3));
  if (ho < 1 || wo < 1)
    return fail(loc, "'ftc." + op + "' window does not fit the " +
                         Twine(x.getDimSize(2)) + "x" + Twine(x.getDimSize(3)) +
                         " input (output " + Twine(ho) + "x" + Twine(wo) + ")");
  return SmallVector<int64_t>{x.getDimSize(0), channels, ho, wo};
}

/// The checks conv2d and its gradient ops share: input [N, C, H, W], weight
/// [O, C / groups, kh, kw], groups dividing C and O. Returns the window.
FailureOr<Window> convGeometry(std::optional<Location> loc, StringRef op,
                               RankedTensorType x, RankedTensorType w,
                               ArrayRef<int64_t> stride,
                               ArrayRef<int64_t> padding,
                               ArrayRef<int64_t> dilation, int64_t groups) {
  if (x.getRank() != 4 || w.getRank() != 4)
    return fail(loc, "'ftc." + op +
                         "' needs input [N, C, H, W] and weight [O, C / "
                         "groups, kh, kw]");
  int64_t c = x.getDimSize(1), o = w.getDimSize(0);
  if (groups < 1 || c % groups || o % groups)
    return fail(loc, "'ftc." + op + "' groups (" + Twine(groups) +
                         ") must divide the input channels (" + Twine(c) +
                         ") and the output channels (" + Twine(o) + ")");
  if (w.getDimSize(1) * groups != c)
    return fail(loc, "'ftc." + op + "' weight has " + Twine(w.getDimSize(1)) +
                         " input channels per group, expected " +
                         Twine(c / groups));
  return makeWindow(loc, op, {w.getDimSize(2), w.getDimSize(3)}, stride,
                    padding, dilation);
}

/// The geometry attributes of a convolution kernel call.
PlanAttrs convAttrs(const Window &w, int64_t groups) {
  return {{"stride", planInts({w.sh, w.sw})},
          {"padding", planInts(w.padding())},
          {"dilation", planInts({w.dh, w.dw})},
          {"groups", planInt(groups)}};
}

PlanAttrs poolAttrs(const Window &w, bool countIncludePad) {
  return {{"kernel", planInts({w.kh, w.kw})},
          {"stride", planInts({w.sh, w.sw})},
          {"padding", planInts(w.padding())},
          {"count_include_pad", planInt(countIncludePad)}};
}

/// The checks of a pooling op: input [N, C, H, W], padding at most half
/// the window (PyTorch's rule: every window holds an input element).
FailureOr<Window> poolGeometry(std::optional<Location> loc, StringRef op,
                               RankedTensorType x, ArrayRef<int64_t> kernel,
                               ArrayRef<int64_t> stride,
                               ArrayRef<int64_t> padding) {
  if (x.getRank() != 4)
    return fail(loc, "'ftc." + op + "' needs an input [N, C, H, W]");
  FailureOr<Window> w = makeWindow(loc, op, kernel, stride, padding, {1, 1});
  if (failed(w))
    return failure();
  if (2 * std::max(w->top, w->bottom) > w->kh ||
      2 * std::max(w->left, w->right) > w->kw)
    return fail(loc, "'ftc." + op +
                         "' padding must be at most half the "
                         "window");
  return w;
}

} // namespace

//===----------------------------------------------------------------------===//
// Types and verifiers
//===----------------------------------------------------------------------===//

LogicalResult Conv2dOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "conv2d", operands, 2, 3)))
    return failure();
  DictionaryAttr attrs = adaptor.getAttributes();
  IntegerAttr groups = getI64(attrs, "groups");
  auto x = rankedType(operands[0]), w = rankedType(operands[1]);
  FailureOr<Window> win = convGeometry(
      loc, "conv2d", x, w, arrayOr(attrs, "stride", {1, 1}),
      arrayOr(attrs, "padding", {0, 0}), arrayOr(attrs, "dilation", {1, 1}),
      groups ? groups.getInt() : 1);
  if (failed(win))
    return failure();
  FailureOr<SmallVector<int64_t>> shape =
      windowOutput(loc, "conv2d", x, *win, w.getDimSize(0));
  if (failed(shape))
    return failure();
  types.push_back(RankedTensorType::get(*shape, x.getElementType()));
  return success();
}

LogicalResult Conv2dOp::verify() {
  auto x = getInput().getType(), w = getWeight().getType();
  if (failed(convGeometry(getLoc(), "conv2d", x, w, getStride(), getPadding(),
                          getDilation(), getGroups())))
    return failure();
  if (getBias() && (getBias().getType().getRank() != 1 ||
                    getBias().getType().getDimSize(0) != w.getDimSize(0)))
    return emitOpError("bias must be [") << w.getDimSize(0) << "]";
  return success();
}

LogicalResult Conv2dGradInputOp::verify() {
  auto dx = getType(), w = getWeight().getType();
  FailureOr<Window> win =
      convGeometry(getLoc(), "conv2d_grad_input", dx, w, getStride(),
                   getPadding(), getDilation(), getGroups());
  if (failed(win))
    return failure();
  FailureOr<SmallVector<int64_t>> dy =
      windowOutput(getLoc(), "conv2d_grad_input", dx, *win, w.getDimSize(0));
  if (failed(dy))
    return failure();
  if (getGrad().getType().getShape() != ArrayRef<int64_t>(*dy))
    return emitOpError("grad does not have the convolution's output shape");
  return success();
}

LogicalResult Conv2dGradWeightOp::verify() {
  auto x = getInput().getType(), dw = getType();
  FailureOr<Window> win =
      convGeometry(getLoc(), "conv2d_grad_weight", x, dw, getStride(),
                   getPadding(), getDilation(), getGroups());
  if (failed(win))
    return failure();
  FailureOr<SmallVector<int64_t>> dy =
      windowOutput(getLoc(), "conv2d_grad_weight", x, *win, dw.getDimSize(0));
  if (failed(dy))
    return failure();
  if (getGrad().getType().getShape() != ArrayRef<int64_t>(*dy))
    return emitOpError("grad does not have the convolution's output shape");
  return success();
}

namespace {

template <typename PoolOp>
LogicalResult inferPool(std::optional<Location> loc, StringRef op,
                        typename PoolOp::Adaptor adaptor,
                        SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, op, operands, 1, 1)))
    return failure();
  DictionaryAttr attrs = adaptor.getAttributes();
  DenseI64ArrayAttr kernel = getI64Array(attrs, "kernel");
  if (!kernel)
    return fail(loc, "'ftc." + op + "' needs 'kernel' [kh, kw]");
  auto x = rankedType(operands[0]);
  FailureOr<Window> w = poolGeometry(loc, op, x, kernel.asArrayRef(),
                                     arrayOr(attrs, "stride", {1, 1}),
                                     arrayOr(attrs, "padding", {0, 0}));
  if (failed(w))
    return failure();
  FailureOr<SmallVector<int64_t>> shape =
      windowOutput(loc, op, x, *w, x.getDimSize(1));
  if (failed(shape))
    return failure();
  types.push_back(RankedTensorType::get(*shape, x.getElementType()));
  return success();
}

} // namespace

LogicalResult MaxPool2dOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferPool<MaxPool2dOp>(loc, "max_pool2d", adaptor, types);
}

LogicalResult AvgPool2dOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferPool<AvgPool2dOp>(loc, "avg_pool2d", adaptor, types);
}

LogicalResult MaxPool2dOp::verify() {
  return poolGeometry(getLoc(), "max_pool2d", getInput().getType(), getKernel(),
                      getStride(), getPadding());
}

LogicalResult AvgPool2dOp::verify() {
  return poolGeometry(getLoc(), "avg_pool2d", getInput().getType(), getKernel(),
                      getStride(), getPadding());
}

//===----------------------------------------------------------------------===//
// Vector-Jacobian products
//===----------------------------------------------------------------------===//

LogicalResult Conv2dOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 ArrayRef<bool> needed,
                                 SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  Location loc = getLoc();
  Value dy = resultGrad(resultGrads);
  if (wanted(needed, 0))
    grads[0] = Conv2dGradInputOp::create(
        b, loc, getInput().getType(), dy, getWeight(), getStrideAttr(),
        getPaddingAttr(), getDilationAttr(), getGroupsAttr());
  if (wanted(needed, 1))
    grads[1] = Conv2dGradWeightOp::create(
        b, loc, getWeight().getType(), getInput(), dy, getStrideAttr(),
        getPaddingAttr(), getDilationAttr(), getGroupsAttr());
  if (getBias() && wanted(needed, 2))
    grads[2] = ReduceSumOp::create(b, loc, getBias().getType(), dy,
                                   b.getDenseI64ArrayAttr({0, 2, 3}));
  return success();
}

LogicalResult MaxPool2dOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &grads) {
  return firstOperandOnly(*this, needed, grads, [&] {
    return MaxPool2dGradOp::create(
        b, getLoc(), getInput().getType(), getInput(), resultGrad(resultGrads),
        getKernelAttr(), getStrideAttr(), getPaddingAttr());
  });
}

LogicalResult AvgPool2dOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &grads) {
  return firstOperandOnly(*this, needed, grads, [&] {
    return AvgPool2dGradOp::create(b, getLoc(), getInput().getType(),
                                   resultGrad(resultGrads), getKernelAttr(),
                                   getStrideAttr(), getPaddingAttr(),
                                   getCountIncludePadAttr());
  });
}

//===----------------------------------------------------------------------===//
// Matrix products: what each sums over
//===----------------------------------------------------------------------===//

// Each output element of the convolution sums over C / groups · kh · kw
// products.
int64_t Conv2dOp::getContractedDim() {
  auto w = getWeight().getType();
  return w.getDimSize(1) * w.getDimSize(2) * w.getDimSize(3);
}

// Each input gradient sums over O / groups · kh · kw.
int64_t Conv2dGradInputOp::getContractedDim() {
  auto w = getWeight().getType();
  return w.getDimSize(0) / getGroups() * w.getDimSize(2) * w.getDimSize(3);
}

// Each weight gradient sums over N · Ho · Wo.
int64_t Conv2dGradWeightOp::getContractedDim() {
  auto dy = getGrad().getType();
  return dy.getDimSize(0) * dy.getDimSize(2) * dy.getDimSize(3);
}

//===----------------------------------------------------------------------===//
// Plan lowering
//===----------------------------------------------------------------------===//

namespace {

Window convWindow(RankedTensorType weight, ArrayRef<int64_t> stride,
                  ArrayRef<int64_t> padding, ArrayRef<int64_t> dilation) {
  // Verified already: cannot fail.
  return *makeWindow(std::nullopt, "conv2d",
                     {weight.getDimSize(2), weight.getDimSize(3)}, stride,
                     padding, dilation);
}

Window poolWindow(ArrayRef<int64_t> kernel, ArrayRef<int64_t> stride,
                  ArrayRef<int64_t> padding) {
  return *makeWindow(std::nullopt, "pool", kernel, stride, padding, {1, 1});
}

} // namespace

LogicalResult Conv2dOp::lowerToPlan(PlanEmitter &e) {
  Window w = convWindow(getWeight().getType(), getStride(), getPadding(),
                        getDilation());
  return e.simple(*this, "conv2d", convAttrs(w, getGroups()));
}

LogicalResult Conv2dGradInputOp::lowerToPlan(PlanEmitter &e) {
  Window w = convWindow(getWeight().getType(), getStride(), getPadding(),
                        getDilation());
  return e.simple(*this, "conv2d_bwd_data", convAttrs(w, getGroups()));
}

LogicalResult Conv2dGradWeightOp::lowerToPlan(PlanEmitter &e) {
  Window w = convWindow(getType(), getStride(), getPadding(), getDilation());
  return e.simple(*this, "conv2d_bwd_weights", convAttrs(w, getGroups()));
}

LogicalResult MaxPool2dOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "max_pool2d",
                  poolAttrs(poolWindow(getKernel(), getStride(), getPadding()),
                            getCountIncludePad() != 0));
}

LogicalResult MaxPool2dGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(
      *this, "max_pool2d_bwd",
      poolAttrs(poolWindow(getKernel(), getStride(), getPadding()), true));
}

LogicalResult AvgPool2dOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "avg_pool2d",
                  poolAttrs(poolWindow(getKernel(), getStride(), getPadding()),
                            getCountIncludePad() != 0));
}

LogicalResult AvgPool2dGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "avg_pool2d_bwd",
                  poolAttrs(poolWindow(getKernel(), getStride(), getPadding()),
                            getCountIncludePad() != 0));
}
