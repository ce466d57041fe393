//===- FtcPrefix.cpp - Which ops may sit in a cached frozen prefix --------===//
// SPDX-License-Identifier: Apache-2.0
//
// PrefixCacheableOpInterface for the ops that are not simply row-wise (the
// interface's default): they keep examples together only under conditions
// on their axes or operands. The analysis is in FrozenPrefix.cpp. Also
// dropout's other mode-dependent behaviour (TrainOnlyOpInterface).
//===----------------------------------------------------------------------===//
#include "ftc/Dialect/Ftc/IR/FtcOps.h"

using namespace mlir;
using namespace mlir::ftc;

namespace {
int64_t leadingDim(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return t.getRank() == 0 ? -1 : t.getDimSize(0);
}

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
