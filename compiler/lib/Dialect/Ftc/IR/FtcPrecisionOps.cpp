//===- FtcPrecisionOps.cpp - Element-type conversions
//----------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// ftc.cast: its verifier and the kernel call it lowers to.
//===----------------------------------------------------------------------===//
#include "OpSupport.h"

#include "ftc/Dialect/Ftc/IR/PlanEmitter.h"

using namespace mlir;
using namespace mlir::ftc;

LogicalResult CastOp::verify() {
  auto in = getInput().getType(), out = getResult().getType();
  if (in.getShape() != out.getShape())
    return emitOpError("changes the shape from [")
           << in.getShape() << "] to [" << out.getShape() << "]";
  if (in.getElementType() == out.getElementType())
    return emitOpError("converts ") << in.getElementType() << " to itself";
  return success();
}

LogicalResult CastOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "cast");
}
