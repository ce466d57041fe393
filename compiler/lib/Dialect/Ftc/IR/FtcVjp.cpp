//===- FtcVjp.cpp - Each differentiable op's vector-Jacobian product ------===//
// SPDX-License-Identifier: Apache-2.0
//
// DifferentiableOpInterface::buildVjp for every op that declares it in
// FtcOps.td. The gradient ops emitted here are checked against central
// finite differences through the whole compiler and runtime
// (test/unit/compiler/VjpTest.cpp).
//===----------------------------------------------------------------------===//
#include "OpSupport.h"
#include "ftc/Dialect/Ftc/IR/FtcOps.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::ftc;
using namespace mlir::ftc::support;

#include "ftc/Dialect/Ftc/IR/FtcInterfaces.cpp.inc"

namespace mlir::ftc::support {

bool wanted(ArrayRef<bool> needed, unsigned i) {
  return i < needed.size() && needed[i];
}

/// Sizes `grads` to the op's operands, all null.
void reset(Operation *op, SmallVectorImpl<Value> &grads) {
  grads.assign(op->getNumOperands(), Value());
}

/// The one result's gradient of a single-result op.
Value resultGrad(ArrayRef<Value> resultGrads) { return resultGrads.front(); }

/// The VJP of an op whose only operand with a gradient is the first (the
/// others are data: labels, ids, masks): `make` builds it, only when needed.
LogicalResult firstOperandOnly(Operation *op, ArrayRef<bool> needed,
                               SmallVectorImpl<Value> &grads,
                               llvm::function_ref<Value()> make) {
  reset(op, grads);
  if (wanted(needed, 0))
    grads[0] = make();
  return success();
}

/// A gradient of a broadcast result, for an operand of type `operandType`:
/// summed over the axes the operand was broadcast along (size 1 there),
/// then reshaped to the operand (the summed axes back as 1s).
Value unbroadcast(OpBuilder &b, Location loc, Value grad, Type operandType) {
  auto to = cast<RankedTensorType>(operandType);
  auto from = cast<RankedTensorType>(grad.getType());
  if (from == to)
    return grad;
  SmallVector<int64_t> axes, kept;
  for (int64_t i = 0; i < from.getRank(); ++i) {
    if (to.getDimSize(i) == 1 && from.getDimSize(i) != 1)
      axes.push_back(i);
    else
      kept.push_back(from.getDimSize(i));
  }
  Value summed = ReduceSumOp::create(
      b, loc, RankedTensorType::get(kept, from.getElementType()), grad,
      b.getDenseI64ArrayAttr(axes));
  return ReshapeOp::create(b, loc, to, summed,
                           b.getDenseI64ArrayAttr(to.getShape()));
}

} // namespace mlir::ftc::support

LogicalResult LinearOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 ArrayRef<bool> needed,
                                 SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  Value g = resultGrad(resultGrads);
  Location loc = getLoc();
  if (wanted(needed, 0))
    grads[0] =
        LinearGradDataOp::create(b, loc, getInput().getType(), g, getWeight());
  if (wanted(needed, 1))
    grads[1] = LinearGradWeightOp::create(b, loc, getWeight().getType(),
                                          getInput(), g);
  if (getBias() && wanted(needed, 2))
    grads[2] = ReduceSumOp::create(b, loc, getBias().getType(), g,
                                   b.getDenseI64ArrayAttr({0}));
  return success();
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

LogicalResult ReduceSumOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &grads) {
  return firstOperandOnly(*this, needed, grads, [&] {
    return BroadcastOp::create(b, getLoc(), getInput().getType(),
                               resultGrad(resultGrads), getAxesAttr());
  });
}

LogicalResult ReduceMeanOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     ArrayRef<bool> needed,
                                     SmallVectorImpl<Value> &grads) {
  return firstOperandOnly(*this, needed, grads, [&] {
    auto type = getInput().getType();
    double count = 1;
    for (int64_t axis : getAxes())
      count *= double(type.getDimSize(axis));
    Value spread = BroadcastOp::create(b, getLoc(), type,
                                       resultGrad(resultGrads), getAxesAttr());
    return ScaleOp::create(b, getLoc(), type, spread,
                           b.getF64FloatAttr(1.0 / count));
  });
}

LogicalResult BroadcastOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &grads) {
  return firstOperandOnly(*this, needed, grads, [&] {
    return ReduceSumOp::create(b, getLoc(), getInput().getType(),
                               resultGrad(resultGrads), getAxesAttr());
  });
}

LogicalResult ReshapeOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                  ArrayRef<bool> needed,
                                  SmallVectorImpl<Value> &grads) {
  return firstOperandOnly(*this, needed, grads, [&] {
    auto type = getInput().getType();
    return ReshapeOp::create(b, getLoc(), type, resultGrad(resultGrads),
                             b.getDenseI64ArrayAttr(type.getShape()));
  });
}

LogicalResult TransposeOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &grads) {
  return firstOperandOnly(*this, needed, grads, [&] {
    SmallVector<int64_t> inverse(getPerm().size());
    for (auto [i, p] : llvm::enumerate(getPerm()))
      inverse[p] = int64_t(i);
    return TransposeOp::create(b, getLoc(), getInput().getType(),
                               resultGrad(resultGrads),
                               b.getDenseI64ArrayAttr(inverse));
  });
}

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

LogicalResult EmbeddingOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &grads) {
  // The ids are data: no gradient.
  return firstOperandOnly(*this, needed, grads, [&] {
    return EmbeddingGradOp::create(b, getLoc(), getTable().getType(), getIds(),
                                   resultGrad(resultGrads));
  });
}

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

LogicalResult BatchMatmulOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                      ArrayRef<bool> needed,
                                      SmallVectorImpl<Value> &grads) {
  // C = op(A)·op(B); each case keeps the transposes in the kernel call
  // instead of materialising transposed copies.
  reset(*this, grads);
  Value g = resultGrad(resultGrads);
  bool ta = getTransposeLhs(), tb = getTransposeRhs();
  Value a = getLhs(), bv = getRhs();
  Location loc = getLoc();
  auto mm = [&](Type t, Value x, Value y, bool tx, bool ty) {
    return BatchMatmulOp::create(b, loc, t, x, y, b.getI64IntegerAttr(tx),
                                 b.getI64IntegerAttr(ty))
        .getResult();
  };
  Type at = a.getType(), bt = bv.getType();
  bool wa = wanted(needed, 0), wb = wanted(needed, 1);
  if (!ta && !tb) {
    grads[0] = wa ? mm(at, g, bv, false, true) : Value();
    grads[1] = wb ? mm(bt, a, g, true, false) : Value();
  } else if (!ta && tb) {
    grads[0] = wa ? mm(at, g, bv, false, false) : Value();
    grads[1] = wb ? mm(bt, g, a, true, false) : Value();
  } else if (ta && !tb) {
    grads[0] = wa ? mm(at, bv, g, false, true) : Value();
    grads[1] = wb ? mm(bt, a, g, false, false) : Value();
  } else {
    grads[0] = wa ? mm(at, bv, g, true, true) : Value();
    grads[1] = wb ? mm(bt, g, a, true, true) : Value();
  }
  return success();
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

LogicalResult SelectOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 ArrayRef<bool> needed,
                                 SmallVectorImpl<Value> &grads) {
  return firstOperandOnly(*this, needed, grads, [&] {
    return SelectGradOp::create(b, getLoc(), getInput().getType(),
                                resultGrad(resultGrads), getAxisAttr(),
                                getIndexAttr());
  });
}
