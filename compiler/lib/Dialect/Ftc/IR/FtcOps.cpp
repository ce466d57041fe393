//===- FtcOps.cpp - The ops' classes and shared type inference ------------===//
// SPDX-License-Identifier: Apache-2.0
//
// The generated op classes, the type-inference helpers of OpSupport.h and
// the `: T` / `: (A, B) -> C` form of the broadcasting binary ops. Each op's
// own inference, verifier, VJP, interfaces and lowering live in its family's
// file (Ftc*Ops.cpp). Type inference is written defensively (operand counts,
// attribute presence and kinds are checked) because model plugins build ops
// generically by name through the C ABI; a plugin bug must become a
// diagnostic, never a crash.
//===----------------------------------------------------------------------===//
#include "OpSupport.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace mlir::ftc;
using namespace mlir::ftc::support;

namespace mlir::ftc::support {

RankedTensorType rankedType(Value v) {
  return v ? llvm::dyn_cast<RankedTensorType>(v.getType()) : nullptr;
}

LogicalResult fail(std::optional<Location> loc, const Twine &message) {
  return emitOptionalError(loc, message);
}

/// Checks the operand count and that each operand is a ranked tensor.
LogicalResult checkOperands(std::optional<Location> loc, StringRef op,
                            ValueRange operands, size_t minCount,
                            size_t maxCount) {
  if (operands.size() < minCount || operands.size() > maxCount) {
    if (minCount == maxCount)
      return fail(loc, "'ftc." + op + "' expects " + Twine(minCount) +
                           " operands, got " + Twine(operands.size()));
    return fail(loc, "'ftc." + op + "' expects " + Twine(minCount) + " to " +
                         Twine(maxCount) + " operands, got " +
                         Twine(operands.size()));
  }
  for (Value v : operands)
    if (!rankedType(v))
      return fail(loc, "'ftc." + op + "' expects ranked tensor operands");
  return success();
}

IntegerAttr getI64(DictionaryAttr attrs, StringRef name) {
  return attrs ? llvm::dyn_cast_or_null<IntegerAttr>(attrs.get(name)) : nullptr;
}

DenseI64ArrayAttr getI64Array(DictionaryAttr attrs, StringRef name) {
  return attrs ? llvm::dyn_cast_or_null<DenseI64ArrayAttr>(attrs.get(name))
               : nullptr;
}

/// Validates `axes` against `rank`: in range, strictly increasing.
LogicalResult checkAxes(std::optional<Location> loc, ArrayRef<int64_t> axes,
                        int64_t rank) {
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] < 0 || axes[i] >= rank)
      return fail(loc, "axis " + Twine(axes[i]) + " out of range for rank " +
                           Twine(rank));
    if (i > 0 && axes[i] <= axes[i - 1])
      return fail(loc, "axes must be strictly increasing");
  }
  return success();
}

SmallVector<int64_t> removeAxes(ArrayRef<int64_t> shape,
                                ArrayRef<int64_t> axes) {
  SmallVector<int64_t> out;
  for (auto [i, d] : llvm::enumerate(shape))
    if (!llvm::is_contained(axes, int64_t(i)))
      out.push_back(d);
  return out;
}

LogicalResult inferSameAsFirst(MLIRContext *, std::optional<Location> loc,
                               StringRef op, ValueRange operands, size_t count,
                               SmallVectorImpl<Type> &types) {
  if (failed(checkOperands(loc, op, operands, count, count)))
    return failure();
  types.push_back(operands[0].getType());
  return success();
}

} // namespace mlir::ftc::support

/// NumPy's broadcast of shapes of one rank (each axis equal, or 1 in all
/// but one size), or failure naming the axis.
LogicalResult support::inferBroadcastShape(std::optional<Location> loc,
                                           StringRef op, ValueRange operands,
                                           SmallVectorImpl<int64_t> &shape) {
  auto first = cast<RankedTensorType>(operands[0].getType());
  shape.assign(first.getShape().begin(), first.getShape().end());
  for (Value v : operands.drop_front()) {
    auto t = cast<RankedTensorType>(v.getType());
    if (t.getRank() != first.getRank())
      return fail(loc, "'ftc." + op + "' operands must have one rank, got " +
                           Twine(first.getRank()) + " and " +
                           Twine(t.getRank()) +
                           " (reshape to add axes of size 1)");
    for (int64_t i = 0; i < t.getRank(); ++i) {
      int64_t x = shape[i], y = t.getDimSize(i);
      if (x != y && x != 1 && y != 1)
        return fail(loc, "'ftc." + op + "' operands do not broadcast: axis " +
                             Twine(i) + " is " + Twine(x) + " and " + Twine(y));
      shape[i] = std::max(x, y);
    }
  }
  return success();
}

/// `: T` when the operands and the result are all T, else `: (A, B) -> C`.
static ParseResult parseBinaryTypes(OpAsmParser &parser, Type &lhs, Type &rhs,
                                    Type &result) {
  if (succeeded(parser.parseOptionalLParen())) {
    if (parser.parseType(lhs) || parser.parseComma() || parser.parseType(rhs) ||
        parser.parseRParen() || parser.parseArrow() || parser.parseType(result))
      return failure();
    return success();
  }
  if (parser.parseType(lhs))
    return failure();
  rhs = result = lhs;
  return success();
}

static void printBinaryTypes(OpAsmPrinter &printer, Operation *, Type lhs,
                             Type rhs, Type result) {
  if (lhs == rhs && rhs == result) {
    printer << lhs;
    return;
  }
  printer << "(" << lhs << ", " << rhs << ") -> " << result;
}

#define GET_OP_CLASSES
#include "ftc/Dialect/Ftc/IR/FtcOps.cpp.inc"
