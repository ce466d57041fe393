//===- FtcShapeOps.cpp - Reductions and data movement ---------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// One op family in one file (docs/plugins.md, "When the op set lacks
// something"): reduce_sum, reduce_mean, broadcast, reshape, transpose, iota,
// select and select_grad. Each op's type inference and verifier, its
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

int64_t numElements(RankedTensorType t) { return t.getNumElements(); }

LogicalResult inferReduce(std::optional<Location> loc, StringRef op,
                          ValueRange operands, DictionaryAttr attrs,
                          SmallVectorImpl<Type> &types) {
  if (failed(checkOperands(loc, op, operands, 1, 1)))
    return failure();
  auto x = rankedType(operands[0]);
  DenseI64ArrayAttr axes = getI64Array(attrs, "axes");
  if (!axes)
    return fail(loc, "'ftc." + op + "' needs an 'axes' integer array");
  if (failed(checkAxes(loc, axes.asArrayRef(), x.getRank())))
    return failure();
  types.push_back(RankedTensorType::get(
      removeAxes(x.getShape(), axes.asArrayRef()), x.getElementType()));
  return success();
}

template <typename ReduceOp> LogicalResult verifyReduce(ReduceOp op) {
  auto x = op.getInput().getType();
  if (failed(checkAxes(op.getLoc(), op.getAxes(), x.getRank())))
    return failure();
  if (op.getResult().getType().getShape() !=
      ArrayRef<int64_t>(removeAxes(x.getShape(), op.getAxes())))
    return op.emitOpError("result shape must be the input shape without the "
                          "reduced axes");
  return success();
}

/// A reduction keeps the rows apart unless it sums over them.
bool keepsRows(Operation *op, ArrayRef<int64_t> axes,
               ArrayRef<Value> exampleOperands) {
  return !llvm::is_contained(axes, 0) &&
         sameLeadingDim(op->getResult(0), exampleOperands);
}

} // namespace

//===----------------------------------------------------------------------===//
// Types and verifiers
//===----------------------------------------------------------------------===//

LogicalResult ReduceSumOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  return inferReduce(loc, "reduce_sum", adaptor.getOperands(),
                     adaptor.getAttributes(), types);
}

LogicalResult ReduceMeanOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  return inferReduce(loc, "reduce_mean", adaptor.getOperands(),
                     adaptor.getAttributes(), types);
}

LogicalResult ReduceSumOp::verify() { return verifyReduce(*this); }

LogicalResult ReduceMeanOp::verify() { return verifyReduce(*this); }

LogicalResult BroadcastOp::verify() {
  auto x = getInput().getType(), y = getResult().getType();
  if (failed(checkAxes(getLoc(), getAxes(), y.getRank())))
    return failure();
  if (ArrayRef<int64_t>(removeAxes(y.getShape(), getAxes())) != x.getShape())
    return emitOpError("input shape must be the result shape without the "
                       "broadcast axes");
  return success();
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "reshape", operands, 1, 1)))
    return failure();
  DenseI64ArrayAttr shape = getI64Array(adaptor.getAttributes(), "shape");
  if (!shape)
    return fail(loc, "'ftc.reshape' needs a 'shape' integer array");
  for (int64_t d : shape.asArrayRef())
    if (d <= 0)
      return fail(loc, "'ftc.reshape' needs positive dimensions");
  types.push_back(RankedTensorType::get(
      shape.asArrayRef(), rankedType(operands[0]).getElementType()));
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto x = getInput().getType(), y = getResult().getType();
  // numElements() is only meaningful (and only defined) for static shapes.
  if (!x.hasStaticShape() || !y.hasStaticShape())
    return emitOpError("needs statically shaped operand and result");
  if (y.getShape() != getShape())
    return emitOpError("result type must have the 'shape' attribute's shape");
  if (numElements(x) != numElements(y))
    return emitOpError("cannot reshape ")
           << numElements(x) << " elements into " << numElements(y);
  return success();
}

LogicalResult IotaOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  if (!adaptor.getOperands().empty())
    return fail(loc, "'ftc.iota' takes no operands");
  DenseI64ArrayAttr shape = getI64Array(adaptor.getAttributes(), "shape");
  IntegerAttr axis = getI64(adaptor.getAttributes(), "axis");
  if (!shape || !axis)
    return fail(loc, "'ftc.iota' needs 'shape' and 'axis'");
  for (int64_t d : shape.asArrayRef())
    if (d <= 0)
      return fail(loc, "'ftc.iota' needs positive dimensions");
  if (axis.getInt() < 0 || axis.getInt() >= int64_t(shape.size()))
    return fail(loc, "'ftc.iota' axis out of range");
  types.push_back(
      RankedTensorType::get(shape.asArrayRef(), IntegerType::get(ctx, 32)));
  return success();
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "transpose", operands, 1, 1)))
    return failure();
  auto x = rankedType(operands[0]);
  DenseI64ArrayAttr perm = getI64Array(adaptor.getAttributes(), "perm");
  if (!perm || int64_t(perm.size()) != x.getRank())
    return fail(loc, "'ftc.transpose' needs a 'perm' of the input's rank");
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm.asArrayRef()) {
    if (p < 0 || p >= x.getRank() || seen[p])
      return fail(loc, "'ftc.transpose' perm is not a permutation");
    seen[p] = true;
    shape.push_back(x.getDimSize(p));
  }
  types.push_back(RankedTensorType::get(shape, x.getElementType()));
  return success();
}

LogicalResult SelectOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "select", operands, 1, 1)))
    return failure();
  auto x = rankedType(operands[0]);
  IntegerAttr axis = getI64(adaptor.getAttributes(), "axis");
  IntegerAttr index = getI64(adaptor.getAttributes(), "index");
  if (!axis || !index)
    return fail(loc, "'ftc.select' needs 'axis' and 'index'");
  if (axis.getInt() < 0 || axis.getInt() >= x.getRank() || index.getInt() < 0 ||
      index.getInt() >= x.getDimSize(axis.getInt()))
    return fail(loc, "'ftc.select' axis or index out of range");
  types.push_back(RankedTensorType::get(
      removeAxes(x.getShape(), {axis.getInt()}), x.getElementType()));
  return success();
}

LogicalResult SelectGradOp::verify() {
  auto dy = getGrad().getType(), dx = getResult().getType();
  // I64Attr getters return uint64_t; the attributes hold signed values.
  int64_t axis = int64_t(getAxis()), index = int64_t(getIndex());
  if (axis < 0 || axis >= dx.getRank() || index < 0 ||
      index >= dx.getDimSize(axis) ||
      ArrayRef<int64_t>(removeAxes(dx.getShape(), {axis})) != dy.getShape())
    return emitOpError("result must be the gradient's shape with the axis "
                       "reinserted, and the index in range");
  return success();
}

//===----------------------------------------------------------------------===//
// Vector-Jacobian products
//===----------------------------------------------------------------------===//

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

LogicalResult SelectOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                 ArrayRef<bool> needed,
                                 SmallVectorImpl<Value> &grads) {
  return firstOperandOnly(*this, needed, grads, [&] {
    return SelectGradOp::create(b, getLoc(), getInput().getType(),
                                resultGrad(resultGrads), getAxisAttr(),
                                getIndexAttr());
  });
}

//===----------------------------------------------------------------------===//
// Frozen-prefix rules and the other interfaces
//===----------------------------------------------------------------------===//

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

//===----------------------------------------------------------------------===//
// Plan lowering
//===----------------------------------------------------------------------===//

LogicalResult ReduceSumOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "reduce_sum", {{"axes", planInts(getAxes())}});
}

LogicalResult ReduceMeanOp::lowerToPlan(PlanEmitter &e) {
  // The contract has no mean: a sum, then a scale in place.
  if (failed(e.simple(*this, "reduce_sum", {{"axes", planInts(getAxes())}})))
    return failure();
  double count = 1;
  for (int64_t axis : getAxes())
    count *= double(getInput().getType().getDimSize(axis));
  int32_t id = e.lookup(getResult());
  e.emit("scale", {id}, {id}, {{"factor", planFloat(1.0 / count)}});
  return success();
}

LogicalResult BroadcastOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "broadcast", {{"axes", planInts(getAxes())}});
}

LogicalResult ReshapeOp::lowerToPlan(PlanEmitter &e) {
  // ftc-plan-memory gave an aliasing reshape its input's slice: a second
  // view of the same bytes, with no kernel.
  if (!(*this)->hasAttr("ftc.alias"))
    return e.simple(*this, "copy");
  FailureOr<int32_t> view = e.temp(*this, 0);
  if (failed(view))
    return failure();
  e.bind(getResult(), *view);
  return success();
}

LogicalResult IotaOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "iota", {{"axis", planInt(getAxis())}});
}

LogicalResult TransposeOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "transpose", {{"perm", planInts(getPerm())}});
}

LogicalResult SelectOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(
      *this, "select",
      {{"axis", planInt(getAxis())}, {"index", planInt(getIndex())}});
}

LogicalResult SelectGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(
      *this, "select_bwd",
      {{"axis", planInt(getAxis())}, {"index", planInt(getIndex())}});
}
