//===- FtcElementwiseOps.cpp - Activations, arithmetic, dropout -----------===//
// SPDX-License-Identifier: Apache-2.0
//
// One op family in one file (docs/plugins.md, "When the op set lacks
// something"): relu, relu6, gelu (erf and tanh forms), tanh, scale,
// broadcasting add/sub/mul, fill, dropout and their gradient ops. Each op's
// type inference and verifier, its vector-Jacobian product, its other
// interfaces and the kernel calls it lowers to, side by side.
//===----------------------------------------------------------------------===//
#include "OpSupport.h"

#include "ftc/Dialect/Ftc/IR/PlanEmitter.h"

using namespace mlir;
using namespace mlir::ftc;
using namespace mlir::ftc::support;
namespace plan = ::ftc::plan;

namespace {

#define FTC_SAME_AS_FIRST(OpClass, mnemonic, count)                            \
  LogicalResult OpClass::inferReturnTypes(                                     \
      MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,          \
      SmallVectorImpl<Type> &types) {                                          \
    return inferSameAsFirst(ctx, loc, mnemonic, adaptor.getOperands(), count,  \
                            types);                                            \
  }

LogicalResult inferBroadcast(std::optional<Location> loc, StringRef op,
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

LogicalResult verifyGeluForm(Operation *op, StringRef approximate) {
  if (approximate != "none" && approximate != "tanh")
    return op->emitOpError("approximate must be \"none\" (erf) or \"tanh\", "
                           "got \"")
           << approximate << "\"";
  return success();
}

/// Element-wise: an example operand must not be broadcast against the
/// result.
bool sameTypeAsResult(Operation *op, ArrayRef<Value> exampleOperands) {
  return llvm::all_of(exampleOperands, [&](Value v) {
    return v.getType() == op->getResult(0).getType();
  });
}

/// A dropout kernel: the op's operands and the trainer's random state.
template <typename DropoutLike>
LogicalResult dropoutKernel(DropoutLike o, PlanEmitter &e, StringRef kernel) {
  FailureOr<int32_t> rng = e.rngInput(o);
  if (failed(rng))
    return failure();
  return e.simple(
      o, kernel,
      {{"p", planFloat(o.getP())}, {"stream", planInt(o.getStream())}}, {*rng});
}

/// The tanh form says so; the erf form is the kernels' default.
PlanAttrs geluForm(StringRef approximate) {
  if (approximate == "tanh")
    return {{"approximate", planString("tanh")}};
  return {};
}

} // namespace

//===----------------------------------------------------------------------===//
// Types and verifiers
//===----------------------------------------------------------------------===//

FTC_SAME_AS_FIRST(ReluOp, "relu", 1)

FTC_SAME_AS_FIRST(GeluOp, "gelu", 1)

FTC_SAME_AS_FIRST(ReluGradOp, "relu_grad", 2)

FTC_SAME_AS_FIRST(Relu6Op, "relu6", 1)

FTC_SAME_AS_FIRST(Relu6GradOp, "relu6_grad", 2)

FTC_SAME_AS_FIRST(GeluGradOp, "gelu_grad", 2)

FTC_SAME_AS_FIRST(ScaleOp, "scale", 1)

FTC_BROADCAST(AddOp, "add")

FTC_BROADCAST(SubOp, "sub")

FTC_BROADCAST(MulOp, "mul")

LogicalResult GeluOp::verify() {
  return verifyGeluForm(*this, getApproximate());
}

LogicalResult GeluGradOp::verify() {
  return verifyGeluForm(*this, getApproximate());
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

//===----------------------------------------------------------------------===//
// Vector-Jacobian products
//===----------------------------------------------------------------------===//

LogicalResult Relu6Op::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                ArrayRef<bool> needed,
                                SmallVectorImpl<Value> &grads) {
  return firstOperandOnly(*this, needed, grads, [&] {
    return Relu6GradOp::create(b, getLoc(), getType(), getInput(),
                               resultGrad(resultGrads));
  });
}

LogicalResult ReluOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                               ArrayRef<bool> needed,
                               SmallVectorImpl<Value> &grads) {
  return firstOperandOnly(*this, needed, grads, [&] {
    return ReluGradOp::create(b, getLoc(), getType(), getInput(),
                              resultGrad(resultGrads));
  });
}

LogicalResult GeluOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                               ArrayRef<bool> needed,
                               SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  if (wanted(needed, 0))
    grads[0] =
        GeluGradOp::create(b, getLoc(), getType(), getInput(),
                           resultGrad(resultGrads), getApproximateAttr());
  return success();
}

LogicalResult TanhOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                               ArrayRef<bool> needed,
                               SmallVectorImpl<Value> &grads) {
  return firstOperandOnly(*this, needed, grads, [&] {
    return TanhGradOp::create(b, getLoc(), getType(), getResult(),
                              resultGrad(resultGrads));
  });
}

LogicalResult AddOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                              ArrayRef<bool> needed,
                              SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  for (unsigned i = 0; i < 2; ++i)
    if (wanted(needed, i))
      grads[i] = unbroadcast(b, getLoc(), resultGrad(resultGrads),
                             getOperand(i).getType());
  return success();
}

LogicalResult SubOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                              ArrayRef<bool> needed,
                              SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  Value g = resultGrad(resultGrads);
  if (wanted(needed, 0))
    grads[0] = unbroadcast(b, getLoc(), g, getLhs().getType());
  if (wanted(needed, 1))
    grads[1] = unbroadcast(
        b, getLoc(),
        ScaleOp::create(b, getLoc(), getType(), g, b.getF64FloatAttr(-1.0)),
        getRhs().getType());
  return success();
}

LogicalResult MulOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                              ArrayRef<bool> needed,
                              SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  Value g = resultGrad(resultGrads);
  if (wanted(needed, 0))
    grads[0] = unbroadcast(b, getLoc(),
                           MulOp::create(b, getLoc(), getType(), g, getRhs()),
                           getLhs().getType());
  if (wanted(needed, 1))
    grads[1] = unbroadcast(b, getLoc(),
                           MulOp::create(b, getLoc(), getType(), g, getLhs()),
                           getRhs().getType());
  return success();
}

LogicalResult ScaleOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                ArrayRef<bool> needed,
                                SmallVectorImpl<Value> &grads) {
  return firstOperandOnly(*this, needed, grads, [&] {
    return ScaleOp::create(b, getLoc(), getType(), resultGrad(resultGrads),
                           getFactorAttr());
  });
}

LogicalResult DropoutOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                  ArrayRef<bool> needed,
                                  SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  if (wanted(needed, 0))
    grads[0] =
        DropoutGradOp::create(b, getLoc(), getType(), resultGrad(resultGrads),
                              getPAttr(), getStreamAttr());
  return success();
}

//===----------------------------------------------------------------------===//
// Frozen-prefix rules and the other interfaces
//===----------------------------------------------------------------------===//

bool AddOp::keepsExamplesContiguous(ArrayRef<Value> exampleOperands) {
  return sameTypeAsResult(*this, exampleOperands);
}

bool SubOp::keepsExamplesContiguous(ArrayRef<Value> exampleOperands) {
  return sameTypeAsResult(*this, exampleOperands);
}

bool MulOp::keepsExamplesContiguous(ArrayRef<Value> exampleOperands) {
  return sameTypeAsResult(*this, exampleOperands);
}

// A new mask every step: cacheable only when it drops nothing.
bool DropoutOp::isDeterministic() { return getP().convertToDouble() == 0; }

// Evaluation keeps every activation, unscaled.
Value DropoutOp::getEvalValue() { return getInput(); }

//===----------------------------------------------------------------------===//
// Plan lowering
//===----------------------------------------------------------------------===//

LogicalResult ReluOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "relu");
}

LogicalResult GeluOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "gelu", geluForm(getApproximate()));
}

LogicalResult TanhOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "tanh");
}

LogicalResult AddOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "add");
}

LogicalResult SubOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "sub");
}

LogicalResult MulOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "mul");
}

LogicalResult ScaleOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "scale", {{"factor", planFloat(getFactor())}});
}

LogicalResult FillOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "fill", {{"value", planFloat(getValue())}});
}

LogicalResult DropoutOp::lowerToPlan(PlanEmitter &e) {
  return dropoutKernel(*this, e, "dropout");
}

LogicalResult Relu6Op::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "relu6");
}

LogicalResult Relu6GradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "relu6_bwd");
}

LogicalResult ReluGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "relu_bwd");
}

LogicalResult GeluGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "gelu_bwd", geluForm(getApproximate()));
}

LogicalResult TanhGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "tanh_bwd");
}

LogicalResult DropoutGradOp::lowerToPlan(PlanEmitter &e) {
  return dropoutKernel(*this, e, "dropout_bwd");
}
