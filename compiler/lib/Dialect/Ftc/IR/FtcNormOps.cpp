//===- FtcNormOps.cpp - Layer normalisation -------------------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// One op family in one file (docs/plugins.md, "When the op set lacks
// something"): layer_norm, its gradient op and the fused add_layer_norm.
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
      b, getLoc(),
      TypeRange{getInput().getType(), getGamma().getType(),
                getBeta().getType()},
      getInput(), getGamma(), resultGrad(resultGrads), getEpsAttr());
  for (unsigned i = 0; i < 3; ++i)
    if (wanted(needed, i))
      grads[i] = lg->getResult(i);
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
