//===- OpSupport.h - What an op's implementation file may share -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The helpers of type inference and of vector-Jacobian products, for the
// files that implement an op family (its inference and verifier, its VJP and
// its plan lowering side by side, e.g. FtcSelectionOps.cpp). Type inference
// is defensive: plugins build ops generically by name through the C ABI, so
// a plugin's mistake must become a diagnostic, never a crash.
//===----------------------------------------------------------------------===//
#ifndef FTC_DIALECT_FTC_IR_OPSUPPORT_H
#define FTC_DIALECT_FTC_IR_OPSUPPORT_H

#include "ftc/Dialect/Ftc/IR/FtcOps.h"

#include "mlir/IR/Builders.h"

#include <optional>

namespace mlir::ftc::support {

//===--- Type inference ---------------------------------------------------===//

RankedTensorType rankedType(Value v);
LogicalResult fail(std::optional<Location> loc, const Twine &message);
/// Checks the operand count and that each operand is a ranked tensor.
LogicalResult checkOperands(std::optional<Location> loc, StringRef op,
                            ValueRange operands, size_t minCount,
                            size_t maxCount);
IntegerAttr getI64(DictionaryAttr attrs, StringRef name);
DenseI64ArrayAttr getI64Array(DictionaryAttr attrs, StringRef name);
/// Validates `axes` against `rank`: in range, strictly increasing.
LogicalResult checkAxes(std::optional<Location> loc, ArrayRef<int64_t> axes,
                        int64_t rank);
SmallVector<int64_t> removeAxes(ArrayRef<int64_t> shape,
                                ArrayRef<int64_t> axes);
LogicalResult inferSameAsFirst(MLIRContext *, std::optional<Location> loc,
                               StringRef op, ValueRange operands, size_t count,
                               SmallVectorImpl<Type> &types);
/// NumPy's broadcast of operands of one rank into `shape`, or a diagnostic
/// naming the axis that does not broadcast.
LogicalResult inferBroadcastShape(std::optional<Location> loc, StringRef op,
                                  ValueRange operands,
                                  SmallVectorImpl<int64_t> &shape);

//===--- Vector-Jacobian products -----------------------------------------===//

bool wanted(ArrayRef<bool> needed, unsigned i);
/// Sizes `grads` to the op's operands, all null.
void reset(Operation *op, SmallVectorImpl<Value> &grads);
/// The one result's gradient of a single-result op.
Value resultGrad(ArrayRef<Value> resultGrads);
/// The VJP of an op whose only operand with a gradient is the first (the
/// others are data: labels, ids, masks): `make` builds it, only when needed.
LogicalResult firstOperandOnly(Operation *op, ArrayRef<bool> needed,
                               SmallVectorImpl<Value> &grads,
                               llvm::function_ref<Value()> make);
/// A gradient of a broadcast result, for an operand of type `operandType`:
/// summed over the axes the operand was broadcast along (size 1 there),
/// then reshaped to the operand (the summed axes back as 1s).
Value unbroadcast(OpBuilder &b, Location loc, Value grad, Type operandType);

} // namespace mlir::ftc::support

#endif // FTC_DIALECT_FTC_IR_OPSUPPORT_H
