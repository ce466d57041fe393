//===- FtcSelectionOps.cpp - compare, where, slice, concat ----------------===//
// SPDX-License-Identifier: Apache-2.0
//
// One op family in one file: each op's type inference and verifier, its
// vector-Jacobian product, whether it may sit in a cached frozen prefix, and
// the kernel calls it lowers to (docs/runtime-contract.md: compare, where,
// slice, slice_bwd, concat; the kernels are in the CPU backend's
// SelectionKernels.cpp). The gradients are checked against finite
// differences in test/unit/compiler/VjpTest.cpp.
//===----------------------------------------------------------------------===//
#include "OpSupport.h"

#include "ftc/Dialect/Ftc/IR/PlanEmitter.h"

using namespace mlir;
using namespace mlir::ftc;
using namespace mlir::ftc::support;

namespace {

/// Every operand that depends on the example has the result's shape (an
/// element-wise op that does not broadcast an example against the batch).
bool exampleOperandsUnbroadcast(Operation *op, ArrayRef<Value> examples) {
  auto shape = cast<RankedTensorType>(op->getResult(0).getType()).getShape();
  return llvm::all_of(examples, [&](Value v) {
    return cast<RankedTensorType>(v.getType()).getShape() == shape;
  });
}

/// Broadcast inference over operands of the given element types.
LogicalResult inferElementwise(std::optional<Location> loc, StringRef op,
                               ValueRange operands, size_t count,
                               ArrayRef<Type> operandElements,
                               Type resultElement,
                               SmallVectorImpl<Type> &types) {
  if (failed(checkOperands(loc, op, operands, count, count)))
    return failure();
  for (auto [i, v] : llvm::enumerate(operands))
    if (rankedType(v).getElementType() != operandElements[i])
      return fail(loc, "'ftc." + op + "' operand " + Twine(i) + " must be " +
                           (operandElements[i].isF32() ? "f32" : "i32"));
  SmallVector<int64_t> shape;
  if (failed(inferBroadcastShape(loc, op, operands, shape)))
    return failure();
  types.push_back(RankedTensorType::get(shape, resultElement));
  return success();
}

/// A length-1 f32 tensor of `rank` holding zero (broadcasts anywhere).
Value zerosLike(OpBuilder &b, Location loc, int64_t rank) {
  SmallVector<int64_t> ones(rank, 1);
  return FillOp::create(b, loc, RankedTensorType::get(ones, b.getF32Type()),
                        b.getF64FloatAttr(0.0));
}

} // namespace

//===----------------------------------------------------------------------===//
// compare
//===----------------------------------------------------------------------===//

LogicalResult CompareOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "compare", operands, 2, 2)))
    return failure();
  Type element = rankedType(operands[0]).getElementType();
  return inferElementwise(loc, "compare", operands, 2, {element, element},
                          IntegerType::get(ctx, 32), types);
}

LogicalResult CompareOp::verify() {
  StringRef p = getPredicate();
  if (p != "eq" && p != "ne" && p != "lt" && p != "le" && p != "gt" &&
      p != "ge")
    return emitOpError("unknown predicate '")
           << p << "'; expected eq, ne, lt, le, gt or ge";
  return success();
}

// A step function: zero gradient almost everywhere, so none is passed on.
LogicalResult CompareOp::buildVjp(OpBuilder &, ArrayRef<Value>, ArrayRef<bool>,
                                  SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  return success();
}

bool CompareOp::keepsExamplesContiguous(ArrayRef<Value> exampleOperands) {
  return exampleOperandsUnbroadcast(*this, exampleOperands);
}

LogicalResult CompareOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "compare",
                  {{"predicate", planString(getPredicate())}});
}

//===----------------------------------------------------------------------===//
// where
//===----------------------------------------------------------------------===//

LogicalResult WhereOp::inferReturnTypes(MLIRContext *ctx,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  Type i32 = IntegerType::get(ctx, 32), f32 = Float32Type::get(ctx);
  return inferElementwise(loc, "where", adaptor.getOperands(), 3,
                          {i32, f32, f32}, f32, types);
}

LogicalResult WhereOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                ArrayRef<bool> needed,
                                SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  Value g = resultGrad(resultGrads);
  Location loc = getLoc();
  if (!wanted(needed, 1) && !wanted(needed, 2))
    return success();
  Value zero = zerosLike(b, loc, getType().getRank());
  auto pick = [&](Value onTrue, Value onFalse, Type operandType) {
    Value picked =
        WhereOp::create(b, loc, getType(), getCondition(), onTrue, onFalse);
    return unbroadcast(b, loc, picked, operandType);
  };
  if (wanted(needed, 1))
    grads[1] = pick(g, zero, getOnTrue().getType());
  if (wanted(needed, 2))
    grads[2] = pick(zero, g, getOnFalse().getType());
  return success();
}

bool WhereOp::keepsExamplesContiguous(ArrayRef<Value> exampleOperands) {
  return exampleOperandsUnbroadcast(*this, exampleOperands);
}

LogicalResult WhereOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "where");
}

//===----------------------------------------------------------------------===//
// slice and its gradient
//===----------------------------------------------------------------------===//

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "slice", operands, 1, 1)))
    return failure();
  auto x = rankedType(operands[0]);
  IntegerAttr axis = getI64(adaptor.getAttributes(), "axis");
  IntegerAttr start = getI64(adaptor.getAttributes(), "start");
  IntegerAttr size = getI64(adaptor.getAttributes(), "size");
  if (!axis || !start || !size)
    return fail(loc, "'ftc.slice' needs 'axis', 'start' and 'size'");
  int64_t a = axis.getInt(), s = start.getInt(), n = size.getInt();
  if (a < 0 || a >= x.getRank())
    return fail(loc, "'ftc.slice' axis " + Twine(a) +
                         " is out of range for rank " + Twine(x.getRank()));
  if (s < 0 || n < 1 || s + n > x.getDimSize(a))
    return fail(loc, "'ftc.slice' range [" + Twine(s) + ", " + Twine(s + n) +
                         ") is not inside axis " + Twine(a) + " of size " +
                         Twine(x.getDimSize(a)));
  SmallVector<int64_t> shape(x.getShape());
  shape[a] = n;
  types.push_back(RankedTensorType::get(shape, x.getElementType()));
  return success();
}

LogicalResult SliceOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                ArrayRef<bool> needed,
                                SmallVectorImpl<Value> &grads) {
  return firstOperandOnly(*this, needed, grads, [&] {
    return SliceGradOp::create(b, getLoc(), getInput().getType(),
                               resultGrad(resultGrads), getAxisAttr(),
                               getStartAttr());
  });
}

bool SliceOp::keepsExamplesContiguous(ArrayRef<Value> exampleOperands) {
  return getAxis() != 0 && sameLeadingDim(getResult(), exampleOperands);
}

LogicalResult SliceOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(
      *this, "slice",
      {{"axis", planInt(getAxis())}, {"start", planInt(getStart())}});
}

LogicalResult SliceGradOp::verify() {
  auto dy = getGrad().getType(), dx = getResult().getType();
  // I64Attr getters return uint64_t; the attributes hold signed values.
  int64_t axis = int64_t(getAxis()), start = int64_t(getStart());
  bool ok = dx.getRank() == dy.getRank() && axis >= 0 && axis < dx.getRank() &&
            start >= 0 && start + dy.getDimSize(axis) <= dx.getDimSize(axis);
  for (int64_t i = 0; ok && i < dx.getRank(); ++i)
    ok = i == axis || dx.getDimSize(i) == dy.getDimSize(i);
  if (!ok)
    return emitOpError("the gradient must fit inside the result at 'start' "
                       "along 'axis', with every other axis equal");
  return success();
}

LogicalResult SliceGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(
      *this, "slice_bwd",
      {{"axis", planInt(getAxis())}, {"start", planInt(getStart())}});
}

//===----------------------------------------------------------------------===//
// concat
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "concat", operands, 1, SIZE_MAX)))
    return failure();
  IntegerAttr axis = getI64(adaptor.getAttributes(), "axis");
  if (!axis)
    return fail(loc, "'ftc.concat' needs 'axis'");
  auto first = rankedType(operands[0]);
  int64_t a = axis.getInt();
  if (a < 0 || a >= first.getRank())
    return fail(loc, "'ftc.concat' axis " + Twine(a) +
                         " is out of range for rank " + Twine(first.getRank()));
  SmallVector<int64_t> shape(first.getShape());
  shape[a] = 0;
  for (auto [i, v] : llvm::enumerate(operands)) {
    auto t = rankedType(v);
    bool same = t.getRank() == first.getRank() &&
                t.getElementType() == first.getElementType();
    for (int64_t d = 0; same && d < t.getRank(); ++d)
      same = d == a || t.getDimSize(d) == first.getDimSize(d);
    if (!same)
      return fail(loc, "'ftc.concat' operand " + Twine(i) +
                           " must match operand 0's element type and every "
                           "axis but " +
                           Twine(a));
    shape[a] += t.getDimSize(a);
  }
  types.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

// Each operand's gradient is its range of the result's.
LogicalResult ConcatOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 ArrayRef<bool> needed,
                                 SmallVectorImpl<Value> &grads) {
  reset(*this, grads);
  int64_t axis = int64_t(getAxis()), offset = 0;
  for (auto [i, v] : llvm::enumerate(getInputs())) {
    auto t = cast<RankedTensorType>(v.getType());
    if (wanted(needed, i))
      grads[i] = SliceOp::create(
          b, getLoc(), t, resultGrad(resultGrads), b.getI64IntegerAttr(axis),
          b.getI64IntegerAttr(offset), b.getI64IntegerAttr(t.getDimSize(axis)));
    offset += t.getDimSize(axis);
  }
  return success();
}

bool ConcatOp::keepsExamplesContiguous(ArrayRef<Value> exampleOperands) {
  return getAxis() != 0 && sameLeadingDim(getResult(), exampleOperands);
}

LogicalResult ConcatOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "concat", {{"axis", planInt(getAxis())}});
}
