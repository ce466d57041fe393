//===- FtcEmbeddingOps.cpp - Embedding lookups ----------------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// One op family in one file (docs/plugins.md, "When the op set lacks
// something"): embedding and its gradient op.
// Each op's type inference and verifier, its vector-Jacobian product, its
// other interfaces and the kernel calls it lowers to, side by side.
//===----------------------------------------------------------------------===//
#include "OpSupport.h"

#include "ftc/Dialect/Ftc/IR/PlanEmitter.h"

using namespace mlir;
using namespace mlir::ftc;
using namespace mlir::ftc::support;
namespace plan = ::ftc::plan;

//===----------------------------------------------------------------------===//
// Types and verifiers
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  ValueRange operands = adaptor.getOperands();
  if (failed(checkOperands(loc, "embedding", operands, 2, 2)))
    return failure();
  auto table = rankedType(operands[0]), ids = rankedType(operands[1]);
  if (table.getRank() != 2 || !ids.getElementType().isInteger(32))
    return fail(loc, "'ftc.embedding' expects a [V, H] table and i32 ids");
  SmallVector<int64_t> shape(ids.getShape());
  shape.push_back(table.getDimSize(1));
  types.push_back(RankedTensorType::get(shape, table.getElementType()));
  return success();
}

LogicalResult EmbeddingGradOp::verify() {
  auto ids = getIds().getType(), dy = getGrad().getType(),
       dt = getResult().getType();
  SmallVector<int64_t> expected(ids.getShape());
  expected.push_back(dt.getRank() == 2 ? dt.getDimSize(1) : -1);
  if (dt.getRank() != 2 || dy.getShape() != ArrayRef<int64_t>(expected))
    return emitOpError("expects grad of shape ids × [H] and a [V, H] result");
  return success();
}

//===----------------------------------------------------------------------===//
// Vector-Jacobian products
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    ArrayRef<bool> needed,
                                    SmallVectorImpl<Value> &grads) {
  // The ids are data: no gradient.
  return firstOperandOnly(*this, needed, grads, [&] {
    return EmbeddingGradOp::create(b, getLoc(), getTable().getType(), getIds(),
                                   resultGrad(resultGrads));
  });
}

//===----------------------------------------------------------------------===//
// Plan lowering
//===----------------------------------------------------------------------===//

LogicalResult EmbeddingOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "embedding");
}

LogicalResult EmbeddingGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "embedding_bwd");
}
