//===- FtcOps.cpp - ftc op verifiers and type inference -----------*- C++
//-*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Type inference is written defensively (operand counts, attribute presence
// and kinds are checked) because model plugins build ops generically by name
// through the C ABI; a plugin bug must become a diagnostic, never a crash.
//===----------------------------------------------------------------------===//
#include "ftc/Dialect/Ftc/IR/FtcOps.h"
#include "OpSupport.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace mlir::ftc;
using namespace mlir::ftc::support;

namespace mlir::ftc::support {

RankedTensorType rankedType(Value v) {
  return v ? llvm::dyn_cast<RankedTensorType>(v.getType()) : nullptr;
}

LogicalResult fail(std::optional<Location> loc, const Twine &message) {
  return emitOptionalError(loc, message);
}

/// Checks the operand count and that each operand is a ranked tensor.
LogicalResult checkOperands(std::optional<Location> loc, StringRef op,
                            ValueRange operands, size_t minCount,
                            size_t maxCount) {
  if (operands.size() < minCount || operands.size() > maxCount) {
    if (minCount == maxCount)
      return fail(loc, "'ftc." + op + "' expects " + Twine(minCount) +
                           " operands, got " + Twine(operands.size()));
    return fail(loc, "'ftc." + op + "' expects " + Twine(minCount) + " to " +
                         Twine(maxCount) + " operands, got " +
                         Twine(operands.size()));
  }
  for (Value v : operands)
    if (!rankedType(v))
      return fail(loc, "'ftc." + op + "' expects ranked tensor operands");
  return success();
}

IntegerAttr getI64(DictionaryAttr attrs, StringRef name) {
  return attrs ? llvm::dyn_cast_or_null<IntegerAttr>(attrs.get(name)) : nullptr;
}

DenseI64ArrayAttr getI64Array(DictionaryAttr attrs, StringRef name) {
  return attrs ? llvm::dyn_cast_or_null<DenseI64ArrayAttr>(attrs.get(name))
               : nullptr;
}

/// Validates `axes` against `rank`: in range, strictly increasing.
LogicalResult checkAxes(std::optional<Location> loc, ArrayRef<int64_t> axes,
                        int64_t rank) {
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] < 0 || axes[i] >= rank)
      return fail(loc, "axis " + Twine(axes[i]) + " out of range for rank " +
                           Twine(rank));
    if (i > 0 && axes[i] <= axes[i - 1])
      return fail(loc, "axes must be strictly increasing");
  }
  return success();
}

SmallVector<int64_t> removeAxes(ArrayRef<int64_t> shape,
                                ArrayRef<int64_t> axes) {
  SmallVector<int64_t> out;
  for (auto [i, d] : llvm::enumerate(shape))
    if (!llvm::is_contained(axes, int64_t(i)))
      out.push_back(d);
  return out;
}

LogicalResult inferSameAsFirst(MLIRContext *, std::optional<Location> loc,
                               StringRef op, ValueRange operands, size_t count,
                               SmallVectorImpl<Type> &types) {
  if (failed(checkOperands(loc, op, operands, count, count)))
    return failure();
  types.push_back(operands[0].getType());
  return success();
}

} // namespace mlir::ftc::support

static int64_t numElements(RankedTensorType t) { return t.getNumElements(); }

//===----------------------------------------------------------------------===//
// ParamOp
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::verify() {
  if (getName().empty())
    return emitOpError("needs a non-empty parameter name");
  StringRef init = getInit();
  if (init != "zeros" && init != "ones" && init != "normal" &&
      init != "uniform")
    return emitOpError("unknown init '")
           << init << "'; expected zeros, ones, normal or uniform";
  if (init == "normal" && getInitB().convertToDouble() < 0)
    return emitOpError("normal init needs a non-negative std (init_b)");
  if (init == "uniform" &&
      getInitA().convertToDouble() > getInitB().convertToDouble())
    return emitOpError("uniform init needs init_a <= init_b");
  if (!getResult().getType().hasStaticShape())
    return emitOpError("needs a static shape");
  return success();
}

//===----------------------------------------------------------------------===//
// Unary, binary and activation gradients
//===----------------------------------------------------------------------===//

#define FTC_SAME_AS_FIRST(OpClass, mnemonic, count)                            \
  LogicalResult OpClass::inferReturnTypes(                                     \
      MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,          \
      SmallVectorImpl<Type> &types) {                                          \
    return inferSameAsFirst(ctx, loc, mnemonic, adaptor.getOperands(), count,  \
                            types);                                            \
  }
FTC_SAME_AS_FIRST(ReluOp, "relu", 1)
FTC_SAME_AS_FIRST(GeluOp, "gelu", 1)
FTC_SAME_AS_FIRST(ReluGradOp, "relu_grad", 2)
FTC_SAME_AS_FIRST(GeluGradOp, "gelu_grad", 2)
FTC_SAME_AS_FIRST(ScaleOp, "scale", 1)
#undef FTC_SAME_AS_FIRST

/// NumPy's broadcast of shapes of one rank (each axis equal, or 1 in all
/// but one size), or failure naming the axis.
LogicalResult support::inferBroadcastShape(std::optional<Location> loc,
                                           StringRef op, ValueRange operands,
                                           SmallVectorImpl<int64_t> &shape) {
  auto first = cast<RankedTensorType>(operands[0].getType());
  shape.assign(first.getShape().begin(), first.getShape().end());
  for (Value v : operands.drop_front()) {
    auto t = cast<RankedTensorType>(v.getType());
    if (t.getRank() != first.getRank())
      return fail(loc, "'ftc." + op + "' operands must have one rank, got " +
                           Twine(first.getRank()) + " and " +
                           Twine(t.getRank()) +
                           " (reshape to add axes of size 1)");
    for (int64_t i = 0; i < t.getRank(); ++i) {
      int64_t x = shape[i], y = t.getDimSize(i);
      if (x != y && x != 1 && y != 1)
        return fail(loc, "'ftc." + op + "' operands do not broadcast: axis " +
                             Twine(i) + " is " + Twine(x) + " and " + Twine(y));
      shape[i] = std::max(x, y);
    }
  }
  return success();
}

static LogicalResult inferBroadcast(std::optional<Location> loc, StringRef op,
                                    ValueRange operands,
                                    SmallVectorImpl<Type> &types) {
  SmallVector<int64_t> shape;
  if (failed(checkOperands(loc, op, operands, 2, 2)) ||
      failed(inferBroadcastShape(loc, op, operands, shape)))
    return failure();
  types.push_back(RankedTensorType::get(
      shape, cast<RankedTensorType>(operands[0].getType()).getElementType()));
  return success();
}

#define FTC_BROADCAST(OpClass, mnemonic)                                       \
  LogicalResult OpClass::inferReturnTypes(                                     \
      MLIRContext *, std::optional<Location> loc, Adaptor adaptor,             \
      SmallVectorImpl<Type> &types) {                                          \
    return inferBroadcast(loc, mnemonic, adaptor.getOperands(), types);        \
  }
FTC_BROADCAST(AddOp, "add")
FTC_BROADCAST(SubOp, "sub")
FTC_BROADCAST(MulOp, "mul")
#undef FTC_BROADCAST

/// `: T` when the operands and the result are all T, else `: (A, B) -> C`.
static ParseResult parseBinaryTypes(OpAsmParser &parser, Type &lhs, Type &rhs,
                                    Type &result) {
  if (succeeded(parser.parseOptionalLParen())) {
    if (parser.parseType(lhs) || parser.parseComma() || parser.parseType(rhs) ||
        parser.parseRParen() || parser.parseArrow() || parser.parseType(result))
      return failure();
    return success();
  }
  if (parser.parseType(lhs))
    return failure();
  rhs = result = lhs;
  return success();
}

static void printBinaryTypes(OpAsmPrinter &printer, Operation *, Type lhs,
                             Type rhs, Type result) {
  if (lhs == rhs && rhs == result) {
    printer << lhs;
    return;
  }
  printer << "(" << lhs << ", " << rhs << ") -> " << result;
}

namespace {
LogicalResult verifyGeluForm(Operation *op, StringRef approximate) {
  if (approximate != "none" && approximate != "tanh")
    return op->emitOpError("approximate must be \"none\" (erf) or \"tanh\", "
                           "got \"")
           << approximate << "\"";
  return success();
}
} // namespace

LogicalResult GeluOp::verify() {
  return verifyGeluForm(*this, getApproximate());
}
LogicalResult GeluGradOp::verify() {
  return verifyGeluForm(*this, getApproximate());
}

//===----------------------------------------------------------------------===//
// Linear and its gradients
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "linear", operands, 2, 3)))
    return failure();
  auto x = rankedType(operands[0]), w = rankedType(operands[1]);
  if (x.getRank() != 2 || w.getRank() != 2)
    return fail(loc, "'ftc.linear' expects a rank-2 input and weight, got " +
                         Twine(x.getRank()) + " and " + Twine(w.getRank()));
  types.push_back(RankedTensorType::get({x.getDimSize(0), w.getDimSize(0)},
                                        x.getElementType()));
  return success();
}

/// Shapes of ftc.linear and ftc.linear_gelu.
template <typename LinearLikeOp>
static LogicalResult verifyLinearShapes(LinearLikeOp op) {
  auto x = op.getInput().getType(), w = op.getWeight().getType();
  if (x.getRank() != 2 || w.getRank() != 2)
    return op.emitOpError("expects a rank-2 input and weight");
  if (x.getDimSize(1) != w.getDimSize(1))
    return op.emitOpError("input features (")
           << x.getDimSize(1) << ") do not match weight columns ("
           << w.getDimSize(1) << ")";
  if (Value b = op.getBias()) {
    auto bt = llvm::cast<RankedTensorType>(b.getType());
    if (bt.getRank() != 1 || bt.getDimSize(0) != w.getDimSize(0))
      return op.emitOpError("bias must be [") << w.getDimSize(0) << "]";
  }
  auto y = op.getResult().getType();
  if (y.getRank() != 2 || y.getDimSize(0) != x.getDimSize(0) ||
      y.getDimSize(1) != w.getDimSize(0))
    return op.emitOpError("result must be [batch, out_features]");
  return success();
}

LogicalResult LinearOp::verify() { return verifyLinearShapes(*this); }
LogicalResult LinearGeluOp::verify() { return verifyLinearShapes(*this); }

LogicalResult LinearGradDataOp::inferReturnTypes(MLIRContext *,
                                                 std::optional<Location> loc,
                                                 Adaptor adaptor,
                                                 SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "linear_grad_data", operands, 2, 2)))
    return failure();
  auto dy = rankedType(operands[0]), w = rankedType(operands[1]);
  if (dy.getRank() != 2 || w.getRank() != 2)
    return fail(loc, "'ftc.linear_grad_data' expects rank-2 operands");
  types.push_back(RankedTensorType::get({dy.getDimSize(0), w.getDimSize(1)},
                                        dy.getElementType()));
  return success();
}

LogicalResult LinearGradDataOp::verify() {
  auto dy = getGrad().getType(), w = getWeight().getType(),
       dx = getResult().getType();
  if (dy.getRank() != 2 || w.getRank() != 2 || dx.getRank() != 2 ||
      dy.getDimSize(1) != w.getDimSize(0) ||
      dx.getDimSize(0) != dy.getDimSize(0) ||
      dx.getDimSize(1) != w.getDimSize(1))
    return emitOpError("expects grad [B, O], weight [O, I] and result [B, I]");
  return success();
}

LogicalResult
LinearGradWeightOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                     Adaptor adaptor,
                                     SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "linear_grad_weight", operands, 2, 2)))
    return failure();
  auto x = rankedType(operands[0]), dy = rankedType(operands[1]);
  if (x.getRank() != 2 || dy.getRank() != 2)
    return fail(loc, "'ftc.linear_grad_weight' expects rank-2 operands");
  types.push_back(RankedTensorType::get({dy.getDimSize(1), x.getDimSize(1)},
                                        x.getElementType()));
  return success();
}

LogicalResult LinearGradWeightOp::verify() {
  auto x = getInput().getType(), dy = getGrad().getType(),
       dw = getResult().getType();
  if (x.getRank() != 2 || dy.getRank() != 2 || dw.getRank() != 2 ||
      x.getDimSize(0) != dy.getDimSize(0) ||
      dw.getDimSize(0) != dy.getDimSize(1) ||
      dw.getDimSize(1) != x.getDimSize(1))
    return emitOpError("expects input [B, I], grad [B, O] and result [O, I]");
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions, broadcast, reshape
//===----------------------------------------------------------------------===//

static LogicalResult inferReduce(std::optional<Location> loc, StringRef op,
                                 ValueRange operands, DictionaryAttr attrs,
                                 SmallVectorImpl<Type> &types) {
  if (failed(checkOperands(loc, op, operands, 1, 1)))
    return failure();
  auto x = rankedType(operands[0]);
  DenseI64ArrayAttr axes = getI64Array(attrs, "axes");
  if (!axes)
    return fail(loc, "'ftc." + op + "' needs an 'axes' integer array");
  if (failed(checkAxes(loc, axes.asArrayRef(), x.getRank())))
    return failure();
  types.push_back(RankedTensorType::get(
      removeAxes(x.getShape(), axes.asArrayRef()), x.getElementType()));
  return success();
}

LogicalResult ReduceSumOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferReduce(loc, "reduce_sum", adaptor.getOperands(),
                     adaptor.getAttributes(), types);
}

LogicalResult ReduceMeanOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  return inferReduce(loc, "reduce_mean", adaptor.getOperands(),
                     adaptor.getAttributes(), types);
}

template <typename ReduceOp> static LogicalResult verifyReduce(ReduceOp op) {
  auto x = op.getInput().getType();
  if (failed(checkAxes(op.getLoc(), op.getAxes(), x.getRank())))
    return failure();
  if (op.getResult().getType().getShape() !=
      ArrayRef<int64_t>(removeAxes(x.getShape(), op.getAxes())))
    return op.emitOpError("result shape must be the input shape without the "
                          "reduced axes");
  return success();
}

LogicalResult ReduceSumOp::verify() { return verifyReduce(*this); }
LogicalResult ReduceMeanOp::verify() { return verifyReduce(*this); }

LogicalResult BroadcastOp::verify() {
  auto x = getInput().getType(), y = getResult().getType();
  if (failed(checkAxes(getLoc(), getAxes(), y.getRank())))
    return failure();
  if (ArrayRef<int64_t>(removeAxes(y.getShape(), getAxes())) != x.getShape())
    return emitOpError("input shape must be the result shape without the "
                       "broadcast axes");
  return success();
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "reshape", operands, 1, 1)))
    return failure();
  DenseI64ArrayAttr shape = getI64Array(adaptor.getAttributes(), "shape");
  if (!shape)
    return fail(loc, "'ftc.reshape' needs a 'shape' integer array");
  for (int64_t d : shape.asArrayRef())
    if (d <= 0)
      return fail(loc, "'ftc.reshape' needs positive dimensions");
  types.push_back(RankedTensorType::get(
      shape.asArrayRef(), rankedType(operands[0]).getElementType()));
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto x = getInput().getType(), y = getResult().getType();
  // numElements() is only meaningful (and only defined) for static shapes.
  if (!x.hasStaticShape() || !y.hasStaticShape())
    return emitOpError("needs statically shaped operand and result");
  if (y.getShape() != getShape())
    return emitOpError("result type must have the 'shape' attribute's shape");
  if (numElements(x) != numElements(y))
    return emitOpError("cannot reshape ")
           << numElements(x) << " elements into " << numElements(y);
  return success();
}

//===----------------------------------------------------------------------===//
// Loss
//===----------------------------------------------------------------------===//

static LogicalResult checkLogitsLabels(std::optional<Location> loc,
                                       RankedTensorType logits,
                                       RankedTensorType labels) {
  if (logits.getRank() != 2)
    return fail(loc, "logits must be [batch, classes]");
  if (!labels.getElementType().isInteger(32) || labels.getRank() != 1 ||
      labels.getDimSize(0) != logits.getDimSize(0))
    return fail(loc, "labels must be i32 [" + Twine(logits.getDimSize(0)) +
                         "] to match the logits' batch");
  return success();
}

// SoftmaxCrossEntropyOp's result type (tensor<f32>) is inferred by ODS.

LogicalResult SoftmaxCrossEntropyOp::verify() {
  return checkLogitsLabels(getLoc(), getLogits().getType(),
                           getLabels().getType());
}

LogicalResult SoftmaxCrossEntropyGradOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "softmax_cross_entropy_grad", operands, 3, 3)))
    return failure();
  types.push_back(operands[0].getType());
  return success();
}

LogicalResult SoftmaxCrossEntropyGradOp::verify() {
  if (getResult().getType() != getLogits().getType())
    return emitOpError("result must have the logits' type");
  return checkLogitsLabels(getLoc(), getLogits().getType(),
                           getLabels().getType());
}

//===----------------------------------------------------------------------===//
// Optimizer updates
//===----------------------------------------------------------------------===//

LogicalResult LinearGradWeightBiasOp::verify() {
  auto x = getInput().getType(), dy = getGrad().getType();
  auto dw = getWeightGrad().getType(), db = getBiasGrad().getType();
  if (x.getRank() != 2 || dy.getRank() != 2 ||
      x.getDimSize(0) != dy.getDimSize(0))
    return emitOpError("expects [B, I] input and [B, O] grad");
  if (dw.getShape() != ArrayRef<int64_t>{dy.getDimSize(1), x.getDimSize(1)} ||
      db.getShape() != ArrayRef<int64_t>{dy.getDimSize(1)})
    return emitOpError("results must be [O, I] and [O]");
  return success();
}

LogicalResult AccumulateGradOp::verify() {
  if (!getAccumulator().getDefiningOp<GradAccumulatorOp>())
    return emitOpError("must accumulate into an 'ftc.grad_accumulator' value");
  return success();
}

template <typename UpdateOp> static LogicalResult verifyUpdate(UpdateOp op) {
  if (!op.getParam().template getDefiningOp<ParamOp>())
    return op.emitOpError("updates must target an 'ftc.param' value");
  if (op.getParam().getType() != op.getGrad().getType())
    return op.emitOpError("gradient type must match the parameter type");
  return success();
}

/// SGD's hyperparameters, single or grouped: as torch.optim.SGD and the
/// runtime contract (plan::verify rejects the same).
template <typename Op> static LogicalResult verifySgdAttrs(Op op) {
  if (op.getMomentum().convertToDouble() < 0 ||
      op.getWeightDecay().convertToDouble() < 0)
    return op.emitOpError("momentum and weight_decay must be non-negative");
  if (op.getNesterov() && (op.getMomentum().convertToDouble() <= 0 ||
                           op.getDampening().convertToDouble() != 0))
    return op.emitOpError("Nesterov momentum needs momentum > 0 and zero "
                          "dampening");
  return success();
}

/// AdamW's betas, single or grouped.
template <typename Op> static LogicalResult verifyAdamWAttrs(Op op) {
  double b1 = op.getBeta1().convertToDouble(),
         b2 = op.getBeta2().convertToDouble();
  if (b1 < 0 || b1 >= 1 || b2 < 0 || b2 >= 1)
    return op.emitOpError("betas must be in [0, 1)");
  return success();
}

/// A group update: one gradient per parameter, each of its type, every
/// parameter an `ftc.param`, none twice.
template <typename GroupOp> static LogicalResult verifyGroup(GroupOp op) {
  if (op.getParams().empty())
    return op.emitOpError("needs at least one parameter");
  if (op.getParams().size() != op.getGrads().size())
    return op.emitOpError("has ") << op.getParams().size() << " parameters but "
                                  << op.getGrads().size() << " gradients";
  llvm::SmallPtrSet<Operation *, 16> seen;
  for (auto [param, grad] : llvm::zip(op.getParams(), op.getGrads())) {
    Operation *def = param.getDefiningOp();
    if (!def || !isa<ParamOp>(def))
      return op.emitOpError("updates must target 'ftc.param' values");
    if (!seen.insert(def).second)
      return op.emitOpError("updates a parameter twice");
    if (param.getType() != grad.getType())
      return op.emitOpError("gradient type must match the parameter type");
  }
  return success();
}

LogicalResult SgdUpdateOp::verify() {
  return failure(failed(verifySgdAttrs(*this)) || failed(verifyUpdate(*this)));
}

LogicalResult AdamWUpdateOp::verify() {
  return failure(failed(verifyAdamWAttrs(*this)) ||
                 failed(verifyUpdate(*this)));
}

LogicalResult SgdGroupUpdateOp::verify() {
  return failure(failed(verifySgdAttrs(*this)) || failed(verifyGroup(*this)));
}

LogicalResult AdamWGroupUpdateOp::verify() {
  return failure(failed(verifyAdamWAttrs(*this)) || failed(verifyGroup(*this)));
}

//===----------------------------------------------------------------------===//
// Transformer building blocks
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "embedding", operands, 2, 2)))
    return failure();
  auto table = rankedType(operands[0]), ids = rankedType(operands[1]);
  if (table.getRank() != 2 || !ids.getElementType().isInteger(32))
    return fail(loc, "'ftc.embedding' expects a [V, H] table and i32 ids");
  SmallVector<int64_t> shape(ids.getShape());
  shape.push_back(table.getDimSize(1));
  types.push_back(RankedTensorType::get(shape, table.getElementType()));
  return success();
}

LogicalResult EmbeddingGradOp::verify() {
  auto ids = getIds().getType(), dy = getGrad().getType(),
       dt = getResult().getType();
  SmallVector<int64_t> expected(ids.getShape());
  expected.push_back(dt.getRank() == 2 ? dt.getDimSize(1) : -1);
  if (dt.getRank() != 2 || dy.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError("expects grad of shape ids × [H] and a [V, H] result");
  return success();
}

LogicalResult IotaOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  if (!adaptor.getOperands().empty())
    return fail(loc, "'ftc.iota' takes no operands");
  DenseI64ArrayAttr shape = getI64Array(adaptor.getAttributes(), "shape");
  IntegerAttr axis = getI64(adaptor.getAttributes(), "axis");
  if (!shape || !axis)
    return fail(loc, "'ftc.iota' needs 'shape' and 'axis'");
  for (int64_t d : shape.asArrayRef())
    if (d <= 0)
      return fail(loc, "'ftc.iota' needs positive dimensions");
  if (axis.getInt() < 0 || axis.getInt() >= int64_t(shape.size()))
    return fail(loc, "'ftc.iota' axis out of range");
  types.push_back(
      RankedTensorType::get(shape.asArrayRef(), IntegerType::get(ctx, 32)));
  return success();
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferSameAsFirst(nullptr, loc, "layer_norm", adaptor.getOperands(), 3,
                          types);
}

/// Shapes and eps of ftc.layer_norm and ftc.add_layer_norm.
static LogicalResult verifyLayerNorm(Operation *op, RankedTensorType x,
                                     Value gamma, Value beta, double eps) {
  if (x.getRank() < 1)
    return op->emitOpError("needs an input of rank >= 1");
  int64_t h = x.getDimSize(x.getRank() - 1);
  for (Value v : {gamma, beta}) {
    auto t = llvm::cast<RankedTensorType>(v.getType());
    if (t.getRank() != 1 || t.getDimSize(0) != h)
      return op->emitOpError("gamma and beta must be [") << h << "]";
  }
  if (eps <= 0)
    return op->emitOpError("eps must be positive");
  return success();
}

LogicalResult LayerNormOp::verify() {
  return verifyLayerNorm(*this, getInput().getType(), getGamma(), getBeta(),
                         getEps().convertToDouble());
}

LogicalResult AddLayerNormOp::verify() {
  return verifyLayerNorm(*this, getLhs().getType(), getGamma(), getBeta(),
                         getEps().convertToDouble());
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "transpose", operands, 1, 1)))
    return failure();
  auto x = rankedType(operands[0]);
  DenseI64ArrayAttr perm = getI64Array(adaptor.getAttributes(), "perm");
  if (!perm || int64_t(perm.size()) != x.getRank())
    return fail(loc, "'ftc.transpose' needs a 'perm' of the input's rank");
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm.asArrayRef()) {
    if (p < 0 || p >= x.getRank() || seen[p])
      return fail(loc, "'ftc.transpose' perm is not a permutation");
    seen[p] = true;
    shape.push_back(x.getDimSize(p));
  }
  types.push_back(RankedTensorType::get(shape, x.getElementType()));
  return success();
}

LogicalResult BatchMatmulOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "batch_matmul", operands, 2, 2)))
    return failure();
  auto a = rankedType(operands[0]), b = rankedType(operands[1]);
  IntegerAttr ta = getI64(adaptor.getAttributes(), "transpose_lhs");
  IntegerAttr tb = getI64(adaptor.getAttributes(), "transpose_rhs");
  bool transA = ta && ta.getInt(), transB = tb && tb.getInt();
  int64_t r = a.getRank();
  if (r < 2 || b.getRank() != r)
    return fail(loc, "'ftc.batch_matmul' needs operands of equal rank >= 2");
  if (a.getShape().drop_back(2) != b.getShape().drop_back(2))
    return fail(loc, "'ftc.batch_matmul' needs identical batch dimensions");
  int64_t m = a.getDimSize(transA ? r - 1 : r - 2);
  int64_t ka = a.getDimSize(transA ? r - 2 : r - 1);
  int64_t kb = b.getDimSize(transB ? r - 1 : r - 2);
  int64_t n = b.getDimSize(transB ? r - 2 : r - 1);
  if (ka != kb)
    return fail(loc, "'ftc.batch_matmul' contraction sizes differ: " +
                         Twine(ka) + " vs " + Twine(kb));
  SmallVector<int64_t> shape(a.getShape().drop_back(2));
  shape.push_back(m);
  shape.push_back(n);
  types.push_back(RankedTensorType::get(shape, a.getElementType()));
  return success();
}

/// True when `perm` is a permutation of [0, rank).
static bool isPermutation(ArrayRef<int64_t> perm, int64_t rank) {
  if (int64_t(perm.size()) != rank)
    return false;
  SmallVector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p])
      return false;
    seen[p] = true;
  }
  return true;
}

LogicalResult StridedBatchMatmulOp::verify() {
  auto a = getLhs().getType(), b = getRhs().getType(),
       c = getResult().getType();
  int64_t r = a.getRank();
  if (r < 2 || b.getRank() != r || c.getRank() != r)
    return emitOpError("needs operands and result of equal rank >= 2");
  for (ArrayRef<int64_t> perm : {getLhsPerm(), getRhsPerm(), getResultPerm()})
    if (!isPermutation(perm, r))
      return emitOpError("permutations must be of [0, ") << r << ")";
  auto view = [](RankedTensorType t, ArrayRef<int64_t> perm) {
    SmallVector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(t.getDimSize(p));
    return shape;
  };
  SmallVector<int64_t> va = view(a, getLhsPerm()), vb = view(b, getRhsPerm());
  if (ArrayRef<int64_t>(va).drop_back(2) !=
          ArrayRef<int64_t>(vb).drop_back(2) ||
      va[r - 1] != vb[r - 2])
    return emitOpError("viewed operands [")
           << va << "] and [" << vb << "] do not multiply";
  SmallVector<int64_t> product(ArrayRef<int64_t>(va).drop_back(1));
  product.push_back(vb[r - 1]);
  SmallVector<int64_t> expected;
  for (int64_t p : getResultPerm())
    expected.push_back(product[p]);
  if (ArrayRef<int64_t>(expected) != c.getShape())
    return emitOpError("result must be [") << expected << "]";
  return success();
}

LogicalResult MaskedSoftmaxOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "masked_softmax", operands, 1, 2)))
    return failure();
  types.push_back(operands[0].getType());
  return success();
}

LogicalResult MaskedSoftmaxOp::verify() {
  auto x = getInput().getType();
  if (x.getRank() < 1)
    return emitOpError("needs an input of rank >= 1");
  if (Value mask = getMask()) {
    auto m = llvm::cast<RankedTensorType>(mask.getType());
    if (x.getRank() < 2 || m.getRank() != 2 ||
        m.getDimSize(0) != x.getDimSize(0) ||
        m.getDimSize(1) != x.getDimSize(x.getRank() - 1))
      return emitOpError("mask must be [batch, keys] matching the input's "
                         "first and last axes");
  }
  if (getCausal() != 0 && getCausal() != 1)
    return emitOpError("causal must be 0 or 1, got ") << getCausal();
  if (getCausal() && (x.getRank() < 2 || x.getDimSize(x.getRank() - 1) <
                                             x.getDimSize(x.getRank() - 2)))
    return emitOpError("a causal mask needs an input [..., queries, keys] "
                       "with at least as many keys as queries");
  return success();
}

LogicalResult SoftmaxGradOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  return inferSameAsFirst(nullptr, loc, "softmax_grad", adaptor.getOperands(),
                          2, types);
}

LogicalResult TanhOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  return inferSameAsFirst(ctx, loc, "tanh", adaptor.getOperands(), 1, types);
}

LogicalResult TanhGradOp::inferReturnTypes(MLIRContext *ctx,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  return inferSameAsFirst(ctx, loc, "tanh_grad", adaptor.getOperands(), 2,
                          types);
}

LogicalResult DropoutOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  return inferSameAsFirst(ctx, loc, "dropout", adaptor.getOperands(), 1, types);
}

LogicalResult DropoutOp::verify() {
  double p = getP().convertToDouble();
  if (p < 0 || p >= 1)
    return emitOpError("p must be in [0, 1), got ") << p;
  return success();
}

LogicalResult DropoutGradOp::inferReturnTypes(MLIRContext *ctx,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  return inferSameAsFirst(ctx, loc, "dropout_grad", adaptor.getOperands(), 1,
                          types);
}

LogicalResult SelectOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "select", operands, 1, 1)))
    return failure();
  auto x = rankedType(operands[0]);
  IntegerAttr axis = getI64(adaptor.getAttributes(), "axis");
  IntegerAttr index = getI64(adaptor.getAttributes(), "index");
  if (!axis || !index)
    return fail(loc, "'ftc.select' needs 'axis' and 'index'");
  if (axis.getInt() < 0 || axis.getInt() >= x.getRank() || index.getInt() < 0 ||
      index.getInt() >= x.getDimSize(axis.getInt()))
    return fail(loc, "'ftc.select' axis or index out of range");
  types.push_back(RankedTensorType::get(
      removeAxes(x.getShape(), {axis.getInt()}), x.getElementType()));
  return success();
}

LogicalResult SelectGradOp::verify() {
  auto dy = getGrad().getType(), dx = getResult().getType();
  // I64Attr getters return uint64_t; the attributes hold signed values.
  int64_t axis = int64_t(getAxis()), index = int64_t(getIndex());
  if (axis < 0 || axis >= dx.getRank() || index < 0 ||
      index >= dx.getDimSize(axis) ||
      ArrayRef<int64_t>(removeAxes(dx.getShape(), {axis})) != dy.getShape())
    return emitOpError("result must be the gradient's shape with the axis "
                       "reinserted, and the index in range");
  return success();
}

LogicalResult GradNormScaleOp::verify() {
  if (getGrads().empty())
    return emitOpError("needs at least one gradient");
  if (getMaxNorm().convertToDouble() <= 0)
    return emitOpError("max_norm must be positive");
  return success();
}

#define GET_OP_CLASSES
#include "ftc/Dialect/Ftc/IR/FtcOps.cpp.inc"
