//===- OpSupport.cpp - What the op families share ------------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// The definitions behind OpSupport.h and the interfaces' shared pieces: the
// helpers of vector-Jacobian products, the leading-dimension rule of the
// frozen-prefix interface, and the plan emitter's attribute and kernel-call
// helpers. Each op family's file (Ftc*Ops.cpp) implements its ops on them.
//===----------------------------------------------------------------------===//
#include "OpSupport.h"

#include "ftc/Dialect/Ftc/IR/PlanEmitter.h"

using namespace mlir;
using namespace mlir::ftc;
namespace plan = ::ftc::plan;

#include "ftc/Dialect/Ftc/IR/FtcInterfaces.cpp.inc"

//===----------------------------------------------------------------------===//
// Vector-Jacobian products
//===----------------------------------------------------------------------===//

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

//===----------------------------------------------------------------------===//
// Frozen-prefix rules: examples are rows of the leading dimension
//===----------------------------------------------------------------------===//

int64_t mlir::ftc::leadingDim(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return t.getRank() == 0 ? -1 : t.getDimSize(0);
}

bool mlir::ftc::sameLeadingDim(Value result, ArrayRef<Value> values) {
  int64_t rows = leadingDim(result);
  return llvm::all_of(values, [&](Value v) { return leadingDim(v) == rows; });
}

//===----------------------------------------------------------------------===//
// Mixed precision
//===----------------------------------------------------------------------===//

LogicalResult mlir::ftc::verifyMultiplicands(Operation *op) {
  auto product = cast<MatrixProductOpInterface>(op);
  SmallVector<unsigned> multiplicands = product.getMultiplicandOperands();
  Type common;
  for (unsigned i : multiplicands) {
    Type t = cast<ShapedType>(op->getOperand(i).getType()).getElementType();
    if (common && t != common)
      return op->emitOpError("multiplies operands of different element types (")
             << common << " and " << t << ")";
    common = t;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Plan lowering: attributes and kernel calls
//===----------------------------------------------------------------------===//

plan::Attr mlir::ftc::planInt(int64_t v) {
  plan::Attr a;
  a.kind = plan::Attr::Int;
  a.i = v;
  return a;
}

plan::Attr mlir::ftc::planFloat(double v) {
  plan::Attr a;
  a.kind = plan::Attr::Float;
  a.f = v;
  return a;
}

plan::Attr mlir::ftc::planFloat(const llvm::APFloat &v) {
  return planFloat(v.convertToDouble());
}

plan::Attr mlir::ftc::planInts(ArrayRef<int64_t> v) {
  plan::Attr a;
  a.kind = plan::Attr::Ints;
  a.ints.assign(v.begin(), v.end());
  return a;
}

plan::Attr mlir::ftc::planString(StringRef v) {
  plan::Attr a;
  a.kind = plan::Attr::String;
  a.s = v.str();
  return a;
}

LogicalResult PlanEmitter::simple(Operation *op, StringRef kernel,
                                  PlanAttrs attrs,
                                  ArrayRef<int32_t> extraInputs) {
  SmallVector<int32_t> inputs;
  for (Value v : op->getOperands())
    inputs.push_back(lookup(v));
  inputs.append(extraInputs.begin(), extraInputs.end());
  SmallVector<int32_t> outputs;
  for (unsigned i = 0; i < op->getNumResults(); ++i) {
    FailureOr<int32_t> out = temp(op, i);
    if (failed(out))
      return failure();
    bind(op->getResult(i), *out);
    outputs.push_back(*out);
  }
  emit(kernel, inputs, outputs, std::move(attrs));
  return success();
}

LogicalResult PlanEmitter::bindPersistent(Operation *op, plan::BufferKind kind,
                                          StringRef name) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  FailureOr<int32_t> id = persistent(op, kind, name, type);
  if (failed(id))
    return failure();
  bind(op->getResult(0), *id);
  return success();
}
