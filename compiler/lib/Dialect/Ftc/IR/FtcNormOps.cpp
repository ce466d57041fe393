//===- FtcNormOps.cpp - Layer normalisation -------------------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// One op family in one file (docs/plugins.md, "When the op set lacks
// something"): layer_norm, its gradient op and the fused add_layer_norm;
// batch_norm (training), batch_norm_inference and their gradient ops.
// Each op's type inference and verifier, its vector-Jacobian product, its
// other interfaces and the kernel calls it lowers to, side by side.
//===----------------------------------------------------------------------===//
#include "OpSupport.h"

#include "ftc/Dialect/Ftc/IR/PlanEmitter.h"

using namespace mlir;
using namespace mlir::ftc;
using namespace mlir::ftc::support;
namespace plan = ::ftc::plan;

namespace {

/// Shapes and eps of ftc.layer_norm and ftc.add_layer_norm.
LogicalResult verifyLayerNorm(Operation *op, RankedTensorType x, Value gamma,
                              Value beta, double eps) {
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

/// Shapes, eps and momentum of the batch norms: input [N, C, ...], every
/// per-channel operand [C], the running statistics ftc.running_stats (the
/// training form writes them in place).
LogicalResult verifyBatchNorm(Operation *op, RankedTensorType x,
                              ValueRange perChannel, double eps,
                              double momentum) {
  if (x.getRank() < 2)
    return op->emitOpError("needs an input [N, C, ...] of rank >= 2");
  int64_t c = x.getDimSize(1);
  for (Value v : perChannel) {
    auto t = llvm::cast<RankedTensorType>(v.getType());
    if (t.getRank() != 1 || t.getDimSize(0) != c)
      return op->emitOpError("gamma, beta and the running statistics must be [")
             << c << "]";
  }
  for (Value v : perChannel.drop_front(2))
    if (!v.getDefiningOp<RunningStatOp>())
      return op->emitOpError(
          "running mean and variance must be ftc.running_stat values");
  if (eps <= 0)
    return op->emitOpError("eps must be positive");
  if (momentum < 0 || momentum > 1)
    return op->emitOpError("momentum must be in [0, 1]");
  return success();
}

/// The gradients of a normalisation's input, scale and shift: the three
/// results of its gradient op `g`, where wanted.
void affineNormGrads(Operation *g, ArrayRef<bool> needed,
                     SmallVectorImpl<Value> &grads) {
  for (unsigned i = 0; i < 3; ++i)
    if (wanted(needed, i))
      grads[i] = g->getResult(i);
}

/// The types of those gradients: the input's and the per-channel ones.
SmallVector<Type> affineNormGradTypes(Value input, Value gamma, Value beta) {
  return {input.getType(), gamma.getType(), beta.getType()};
}

/// The eps attribute of the normalisation kernels.
PlanAttrs epsAttr(const llvm::APFloat &eps) {
  return {{"eps", planFloat(eps)}};
}

} // namespace

//===----------------------------------------------------------------------===//
// Types and verifiers
//===----------------------------------------------------------------------===//

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferSameAsFirst(nullptr, loc, "layer_norm", adaptor.getOperands(), 3,
                          types);
}

LogicalResult LayerNormOp::verify() {
  return verifyLayerNorm(*this, getInput().getType(), getGamma(), getBeta(),
                         getEps().convertToDouble());
}

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferSameAsFirst(nullptr, loc, "batch_norm", adaptor.getOperands(), 5,
                          types);
}

LogicalResult BatchNormInferenceOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  return inferSameAsFirst(nullptr, loc, "batch_norm_inference",
                          adaptor.getOperands(), 5, types);
}

LogicalResult BatchNormOp::verify() {
  return verifyBatchNorm(
      *this, getInput().getType(), getOperation()->getOperands().drop_front(),
      getEps().convertToDouble(), getMomentum().convertToDouble());
}

LogicalResult BatchNormInferenceOp::verify() {
  return verifyBatchNorm(*this, getInput().getType(),
                         getOperation()->getOperands().drop_front(),
                         getEps().convertToDouble(), 0.0);
}

LogicalResult AddLayerNormOp::verify() {
  return verifyLayerNorm(*this, getLhs().getType(), getGamma(), getBeta(),
                         getEps().convertToDouble());
}

//===----------------------------------------------------------------------===//
// Vector-Jacobian products
//===----------------------------------------------------------------------===//

LogicalResult LayerNormOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  auto lg = LayerNormGradOp::create(
      b, getLoc(), affineNormGradTypes(getInput(), getGamma(), getBeta()),
      getInput(), getGamma(), resultGrad(resultGrads), getEpsAttr());
  affineNormGrads(lg, needed, grads);
  return success();
}

LogicalResult AddLayerNormOp::buildVjp(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       ArrayRef<bool> needed,
                                       SmallVectorImpl<Value> &grads) {
  // Two results: the normalised `result` and `sum` = lhs + rhs, each of
  // which the loss may read. The sum's gradient is its own plus what flows
  // back through the normalisation.
  reset(*this, grads);
  Location loc = getLoc();
  Value gResult = resultGrads[0], gSum = resultGrads[1];
  Value dSum = gSum;
  if (gResult) {
    auto lg = LayerNormGradOp::create(
        b, loc,
        TypeRange{getSum().getType(), getGamma().getType(),
                  getBeta().getType()},
        getSum(), getGamma(), gResult, getEpsAttr());
    if (wanted(needed, 2))
      grads[2] = lg.getGammaGrad();
    if (wanted(needed, 3))
      grads[3] = lg.getBetaGrad();
    dSum = gSum ? AddOp::create(b, loc, gSum.getType(), lg.getInputGrad(), gSum)
                      .getResult()
                : lg.getInputGrad();
  }
  // Without a gradient of `result`, gamma and beta do not affect the loss:
  // their gradients are zero.
  for (unsigned i : {2u, 3u})
    if (wanted(needed, i) && !grads[i])
      grads[i] = FillOp::create(b, loc, getOperand(i).getType(),
                                b.getF64FloatAttr(0.0));
  for (unsigned i : {0u, 1u})
    if (wanted(needed, i))
      grads[i] = dSum;
  return success();
}

LogicalResult BatchNormOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &grads) {
  // The running statistics are state, not functions of a parameter: they
  // never need a gradient.
  reset(*this, grads);
  auto bg = BatchNormGradOp::create(
      b, getLoc(), affineNormGradTypes(getInput(), getGamma(), getBeta()),
      getInput(), getGamma(), resultGrad(resultGrads), getEpsAttr());
  affineNormGrads(bg, needed, grads);
  return success();
}

LogicalResult BatchNormInferenceOp::buildVjp(OpBuilder &b,
                                             ArrayRef<Value> resultGrads,
                                             ArrayRef<bool> needed,
                                             SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  auto bg = BatchNormInferenceGradOp::create(
      b, getLoc(), affineNormGradTypes(getInput(), getGamma(), getBeta()),
      getInput(), getGamma(), getRunningMean(), getRunningVar(),
      resultGrad(resultGrads), getEpsAttr());
  affineNormGrads(bg, needed, grads);
  return success();
}

//===----------------------------------------------------------------------===//
// Frozen-prefix rules and the other interfaces
//===----------------------------------------------------------------------===//

// The scale and shift of a normalisation (no weight decay by default).
SmallVector<Value> LayerNormOp::getAffineOperands() {
  return {getGamma(), getBeta()};
}

SmallVector<Value> AddLayerNormOp::getAffineOperands() {
  return {getGamma(), getBeta()};
}

SmallVector<Value> BatchNormOp::getAffineOperands() {
  return {getGamma(), getBeta()};
}

SmallVector<Value> BatchNormInferenceOp::getAffineOperands() {
  return {getGamma(), getBeta()};
}

// Evaluation normalises with the running statistics.
Value BatchNormOp::getEvalValue() {
  OpBuilder b(getOperation());
  return BatchNormInferenceOp::create(b, getLoc(), getType(), getInput(),
                                      getGamma(), getBeta(), getRunningMean(),
                                      getRunningVar(), getEpsAttr());
}

// A frozen batch norm keeps its statistics (`freeze.batch_norm`).
bool BatchNormOp::evalWhenFrozen() { return true; }

//===----------------------------------------------------------------------===//
// Plan lowering
//===----------------------------------------------------------------------===//

LogicalResult LayerNormOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "layer_norm", epsAttr(getEps()));
}

LogicalResult LayerNormGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "layer_norm_bwd", epsAttr(getEps()));
}

LogicalResult AddLayerNormOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "add_layer_norm", epsAttr(getEps()));
}

// Training normalises with the batch's statistics and updates the running
// ones in place: they are outputs of the kernel call as well as state.
LogicalResult BatchNormOp::lowerToPlan(PlanEmitter &e) {
  FailureOr<int32_t> y = e.temp(*this, 0);
  if (failed(y))
    return failure();
  e.bind(getResult(), *y);
  PlanAttrs attrs = epsAttr(getEps());
  attrs["momentum"] = planFloat(getMomentum());
  e.emit("batch_norm_train",
         {e.lookup(getInput()), e.lookup(getGamma()), e.lookup(getBeta())},
         {*y, e.lookup(getRunningMean()), e.lookup(getRunningVar())}, attrs);
  return success();
}

LogicalResult BatchNormGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "batch_norm_train_bwd", epsAttr(getEps()));
}

LogicalResult BatchNormInferenceOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "batch_norm_inference", epsAttr(getEps()));
}

LogicalResult BatchNormInferenceGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "batch_norm_inference_bwd", epsAttr(getEps()));
}
