//===- FtcPrefix.cpp - Which ops may sit in a cached frozen prefix --------===//
// SPDX-License-Identifier: Apache-2.0
//
// PrefixCacheableOpInterface for the ops that are not simply row-wise (the
// interface's default): they keep examples together only under conditions
// on their axes or operands. The analysis is in FrozenPrefix.cpp. Also
// dropout's other mode-dependent behaviour (TrainOnlyOpInterface) and the
// normalisations' affine parameters (NormalizationOpInterface).
//===----------------------------------------------------------------------===//
#include "ftc/Dialect/Ftc/IR/FtcOps.h"

using namespace mlir;
using namespace mlir::ftc;

int64_t mlir::ftc::leadingDim(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return t.getRank() == 0 ? -1 : t.getDimSize(0);
}

namespace {
/// Element-wise: an example operand must not be broadcast against the
/// result.
bool sameTypeAsResult(Operation *op, ArrayRef<Value> exampleOperands) {
  return llvm::all_of(exampleOperands, [&](Value v) {
    return v.getType() == op->getResult(0).getType();
  });
}

/// A reduction keeps the rows apart unless it sums over them.
bool keepsRows(Operation *op, ArrayRef<int64_t> axes,
               ArrayRef<Value> exampleOperands) {
  return !llvm::is_contained(axes, 0) &&
         sameLeadingDim(op->getResult(0), exampleOperands);
}
} // namespace

bool mlir::ftc::sameLeadingDim(Value result, ArrayRef<Value> values) {
  int64_t rows = leadingDim(result);
  return llvm::all_of(values, [&](Value v) { return leadingDim(v) == rows; });
}

bool AddOp::keepsExamplesContiguous(ArrayRef<Value> exampleOperands) {
  return sameTypeAsResult(*this, exampleOperands);
}
bool SubOp::keepsExamplesContiguous(ArrayRef<Value> exampleOperands) {
  return sameTypeAsResult(*this, exampleOperands);
}
bool MulOp::keepsExamplesContiguous(ArrayRef<Value> exampleOperands) {
  return sameTypeAsResult(*this, exampleOperands);
}

bool ReduceSumOp::keepsExamplesContiguous(ArrayRef<Value> exampleOperands) {
  return keepsRows(*this, getAxes(), exampleOperands);
}
bool ReduceMeanOp::keepsExamplesContiguous(ArrayRef<Value> exampleOperands) {
  return keepsRows(*this, getAxes(), exampleOperands);
}

// Copies one example's values to every position: it mixes the batch.
bool BroadcastOp::keepsExamplesContiguous(ArrayRef<Value>) { return false; }

// Row-major order is kept: each example's chunk stays contiguous.
bool ReshapeOp::keepsExamplesContiguous(ArrayRef<Value>) { return true; }

bool TransposeOp::keepsExamplesContiguous(ArrayRef<Value>) {
  return getPerm()[0] == 0;
}

bool SelectOp::keepsExamplesContiguous(ArrayRef<Value> exampleOperands) {
  return getAxis() != 0 && sameLeadingDim(getResult(), exampleOperands);
}

// A new mask every step: cacheable only when it drops nothing.
bool DropoutOp::isDeterministic() { return getP().convertToDouble() == 0; }

// Evaluation keeps every activation, unscaled.
Value DropoutOp::getEvalValue() { return getInput(); }

// The scale and shift of a normalisation (no weight decay by default).
SmallVector<Value> LayerNormOp::getAffineOperands() {
  return {getGamma(), getBeta()};
}
SmallVector<Value> AddLayerNormOp::getAffineOperands() {
  return {getGamma(), getBeta()};
}

//===----------------------------------------------------------------------===//
// Matrix products: the dimension each sums over (MatrixProductOpInterface)
//===----------------------------------------------------------------------===//

namespace {
int64_t dimOf(Value v, int64_t axis) {
  auto t = cast<RankedTensorType>(v.getType());
  return t.getDimSize(axis < 0 ? t.getRank() + axis : axis);
}
} // namespace

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
