//===- FtcLinearOps.cpp - Linear layers, batched products -----------------===//
// SPDX-License-Identifier: Apache-2.0
//
// One op family in one file (docs/plugins.md, "When the op set lacks
// something"): linear, its two backward products and fused forms, batch_matmul
// and strided_batch_matmul. Each op's type inference and verifier, its
// vector-Jacobian product, its other interfaces and the kernel calls it lowers
// to, side by side.
//===----------------------------------------------------------------------===//
#include "OpSupport.h"

#include "ftc/Dialect/Ftc/IR/PlanEmitter.h"

using namespace mlir;
using namespace mlir::ftc;
using namespace mlir::ftc::support;
namespace plan = ::ftc::plan;

namespace {

/// Shapes of ftc.linear and ftc.linear_gelu.
template <typename LinearLikeOp>
LogicalResult verifyLinearShapes(LinearLikeOp op) {
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

/// True when `perm` is a permutation of [0, rank).
bool isPermutation(ArrayRef<int64_t> perm, int64_t rank) {
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

/// Products accumulate and return f32 whatever their multiplicands are.
Type f32Like(RankedTensorType operand) {
  return Float32Type::get(operand.getContext());
}

int64_t dimOf(Value v, int64_t axis) {
  auto t = cast<RankedTensorType>(v.getType());
  return t.getDimSize(axis < 0 ? t.getRank() + axis : axis);
}

} // namespace

//===----------------------------------------------------------------------===//
// Types and verifiers
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
  types.push_back(
      RankedTensorType::get({x.getDimSize(0), w.getDimSize(0)}, f32Like(x)));
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
  types.push_back(
      RankedTensorType::get({dy.getDimSize(0), w.getDimSize(1)}, f32Like(dy)));
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
  types.push_back(
      RankedTensorType::get({dy.getDimSize(1), x.getDimSize(1)}, f32Like(x)));
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
  types.push_back(RankedTensorType::get(shape, f32Like(a)));
  return success();
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

//===----------------------------------------------------------------------===//
// Vector-Jacobian products
//===----------------------------------------------------------------------===//

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

//===----------------------------------------------------------------------===//
// Frozen-prefix rules and the other interfaces
//===----------------------------------------------------------------------===//

// x [B, I] · w[O, I]ᵀ: over I.
int64_t LinearOp::getContractedDim() { return dimOf(getInput(), 1); }

int64_t LinearGeluOp::getContractedDim() { return dimOf(getInput(), 1); }

// dy [B, O] · w [O, I]: over O.
int64_t LinearGradDataOp::getContractedDim() { return dimOf(getGrad(), 1); }

// dyᵀ [O, B] · x [B, I]: over the rows B.
int64_t LinearGradWeightOp::getContractedDim() { return dimOf(getInput(), 0); }

int64_t LinearGradWeightBiasOp::getContractedDim() {
  return dimOf(getInput(), 0);
}

// op(lhs) [..., M, K]: K is lhs's last axis, or the one before transposed.
int64_t BatchMatmulOp::getContractedDim() {
  return dimOf(getLhs(), getTransposeLhs() ? -2 : -1);
}

// The viewed lhs transpose(lhs, lhs_perm) is [..., M, K].
int64_t StridedBatchMatmulOp::getContractedDim() {
  return dimOf(getLhs(), getLhsPerm().back());
}

// Every product here multiplies its first two operands (a linear layer's
// bias is added, not multiplied); each has a bf16 kernel.
SmallVector<unsigned> LinearOp::getMultiplicandOperands() { return {0, 1}; }
SmallVector<unsigned> LinearGeluOp::getMultiplicandOperands() { return {0, 1}; }
SmallVector<unsigned> LinearGradDataOp::getMultiplicandOperands() {
  return {0, 1};
}
SmallVector<unsigned> LinearGradWeightOp::getMultiplicandOperands() {
  return {0, 1};
}
SmallVector<unsigned> LinearGradWeightBiasOp::getMultiplicandOperands() {
  return {0, 1};
}
SmallVector<unsigned> BatchMatmulOp::getMultiplicandOperands() {
  return {0, 1};
}
SmallVector<unsigned> StridedBatchMatmulOp::getMultiplicandOperands() {
  return {0, 1};
}

//===----------------------------------------------------------------------===//
// Plan lowering
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "linear");
}

LogicalResult BatchMatmulOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "batch_matmul",
                  {{"transpose_a", planInt(getTransposeLhs() ? 1 : 0)},
                   {"transpose_b", planInt(getTransposeRhs() ? 1 : 0)}});
}

LogicalResult LinearGradDataOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "linear_bwd_data");
}

LogicalResult LinearGradWeightOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "linear_bwd_weights");
}

LogicalResult LinearGeluOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "linear", {{"activation", planString("gelu")}});
}

LogicalResult LinearGradWeightBiasOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "linear_bwd_weights");
}

LogicalResult StridedBatchMatmulOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "batch_matmul",
                  {{"a_perm", planInts(getLhsPerm())},
                   {"b_perm", planInts(getRhsPerm())},
                   {"c_perm", planInts(getResultPerm())}});
}
