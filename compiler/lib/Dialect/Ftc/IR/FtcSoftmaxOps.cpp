//===- FtcSoftmaxOps.cpp - Softmaxes and the loss -------------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// One op family in one file (docs/plugins.md, "When the op set lacks
// something"): masked_softmax (key and causal masks), softmax_grad,
// softmax_cross_entropy and its gradient op. Each op's type inference and
// verifier, its vector-Jacobian product, its other interfaces and the kernel
// calls it lowers to, side by side.
//===----------------------------------------------------------------------===//
#include "OpSupport.h"

#include "ftc/Dialect/Ftc/IR/PlanEmitter.h"

using namespace mlir;
using namespace mlir::ftc;
using namespace mlir::ftc::support;
namespace plan = ::ftc::plan;

namespace {

LogicalResult checkLogitsLabels(std::optional<Location> loc,
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

PlanAttrs ignoreIndex(std::optional<int64_t> index) {
  if (!index)
    return {};
  return {{"ignore_index", planInt(*index)}};
}

} // namespace

//===----------------------------------------------------------------------===//
// Types and verifiers
//===----------------------------------------------------------------------===//

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

//===----------------------------------------------------------------------===//
// Vector-Jacobian products
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxCrossEntropyOp::buildVjp(OpBuilder &b,
                                              ArrayRef<Value> resultGrads,
                                              ArrayRef<bool> needed,
                                              SmallVectorImpl<Value> &grads) {
  // The labels are data: no gradient.
  return firstOperandOnly(*this, needed, grads, [&] {
    return SoftmaxCrossEntropyGradOp::create(
        b, getLoc(), getLogits().getType(), getLogits(), getLabels(),
        resultGrad(resultGrads), getIgnoreIndexAttr());
  });
}

LogicalResult MaskedSoftmaxOp::buildVjp(OpBuilder &b,
                                        ArrayRef<Value> resultGrads,
                                        ArrayRef<bool> needed,
                                        SmallVectorImpl<Value> &grads) {
  // The mask is data: no gradient.
  return firstOperandOnly(*this, needed, grads, [&] {
    return SoftmaxGradOp::create(b, getLoc(), getType(), getResult(),
                                 resultGrad(resultGrads), getScaleAttr());
  });
}

//===----------------------------------------------------------------------===//
// Plan lowering
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxCrossEntropyOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "softmax_cross_entropy",
                  ignoreIndex(getIgnoreIndex()));
}

LogicalResult MaskedSoftmaxOp::lowerToPlan(PlanEmitter &e) {
  PlanAttrs attrs{{"scale", planFloat(getScale())}};
  if (getCausal())
    attrs["causal"] = planInt(1);
  return e.simple(*this, "masked_softmax", std::move(attrs));
}

LogicalResult SoftmaxCrossEntropyGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "softmax_cross_entropy_bwd",
                  ignoreIndex(getIgnoreIndex()));
}

LogicalResult SoftmaxGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "softmax_bwd", {{"scale", planFloat(getScale())}});
}
