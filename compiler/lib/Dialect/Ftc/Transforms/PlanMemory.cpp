//===- PlanMemory.cpp - Liveness and one arena per step function ---------===//
// SPDX-License-Identifier: Apache-2.0
//
// Static shapes make the whole memory plan a compile-time fact: each
// intermediate lives from its defining op to its last use (values read by
// ftc.output live to the end, since the trainer reads them after the step).
// Placement is first-fit by offset among the slices still live. A value is
// freed only after the op that last reads it, so no kernel ever writes over
// one of its own inputs. A reshape of an intermediate is the same bytes: it
// takes its input's slice (`ftc.alias`), which then lives until the last
// reader of either, and costs no kernel.
//===----------------------------------------------------------------------===//
#include "ftc/Dialect/Ftc/IR/FtcOps.h"
#include "ftc/Dialect/Ftc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

#include <functional>
#include <limits>

namespace mlir::ftc {
#define GEN_PASS_DEF_FTCPLANMEMORY
#include "ftc/Dialect/Ftc/Transforms/Passes.h.inc"
} // namespace mlir::ftc

using namespace mlir;
using namespace mlir::ftc;

namespace {

struct Slice {
  int64_t offset, size, lastUse;
};

int64_t alignUp(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

/// A reshape of a value that has an arena slice (not a parameter or an
/// input, which are persistent buffers) shares that slice.
bool aliases(ReshapeOp reshape) {
  Operation *def = reshape.getInput().getDefiningOp();
  return def && !isa<ParamOp, InputOp, GradAccumulatorOp>(def) &&
         def->getBlock() == reshape->getBlock();
}

struct PlanMemory : mlir::ftc::impl::FtcPlanMemoryBase<PlanMemory> {
  using Base::Base;

  void runOnOperation() override {
    if (alignment <= 0 || (alignment & (alignment - 1))) {
      getOperation().emitError("alignment must be a power of two");
      return signalPassFailure();
    }
    for (auto fn : getOperation().getOps<func::FuncOp>())
      if (failed(plan(fn)))
        return signalPassFailure();
  }

  LogicalResult plan(func::FuncOp fn) {
    if (!fn.getBody().hasOneBlock())
      return fn.emitError("step functions must have a single block");
    Block &body = fn.getBody().front();
    llvm::DenseMap<Operation *, int64_t> index;
    int64_t n = 0;
    for (Operation &op : body)
      index[&op] = n++;

    Builder b(fn.getContext());
    // The last op that reads `v`, or through a reshape that aliases it, the
    // aliasing value.
    std::function<int64_t(Value, int64_t)> lastUseOf = [&](Value v,
                                                           int64_t from) {
      int64_t lastUse = from;
      for (Operation *user : v.getUsers()) {
        Operation *top = body.findAncestorOpInBlock(*user);
        if (isa<OutputOp>(top))
          return std::numeric_limits<int64_t>::max();
        lastUse = std::max(lastUse, index.lookup(top));
        if (auto reshape = dyn_cast<ReshapeOp>(top);
            reshape && aliases(reshape))
          lastUse = std::max(lastUse, lastUseOf(reshape.getResult(), lastUse));
      }
      return lastUse;
    };
    llvm::DenseMap<Value, int64_t> offsetOf;
    std::vector<Slice> live;
    int64_t peak = 0;
    for (Operation &op : body) {
      int64_t now = index[&op];
      // Release slices whose last reader ran before this op.
      llvm::erase_if(live, [&](const Slice &s) { return s.lastUse < now; });
      if (isa<ParamOp, InputOp, GradAccumulatorOp>(op) ||
          op.getNumResults() == 0)
        continue;
      if (auto reshape = dyn_cast<ReshapeOp>(op); reshape && aliases(reshape)) {
        int64_t offset = offsetOf.lookup(reshape.getInput());
        offsetOf[reshape.getResult()] = offset;
        op.setAttr("ftc.offset", b.getI64IntegerAttr(offset));
        op.setAttr("ftc.alias", b.getUnitAttr());
        continue;
      }
      SmallVector<int64_t> offsets;
      for (Value v : op.getResults()) {
        auto type = dyn_cast<RankedTensorType>(v.getType());
        if (!type || !type.hasStaticShape())
          return op.emitOpError(
              "needs a static tensor type for memory planning");
        int64_t bytes =
            type.getNumElements() * int64_t(type.getElementTypeBitWidth() / 8);
        int64_t size = alignUp(std::max<int64_t>(bytes, 1), alignment);
        int64_t lastUse = lastUseOf(v, now);
        // First fit: the lowest gap between live slices that holds `size`.
        std::sort(live.begin(), live.end(), [](const Slice &a, const Slice &b) {
          return a.offset < b.offset;
        });
        int64_t offset = 0;
        for (const Slice &s : live) {
          if (offset + size <= s.offset)
            break;
          offset = std::max(offset, s.offset + s.size);
        }
        live.push_back({offset, size, lastUse});
        peak = std::max(peak, offset + size);
        offsets.push_back(offset);
        offsetOf[v] = offset;
      }
      if (offsets.size() == 1)
        op.setAttr("ftc.offset", b.getI64IntegerAttr(offsets[0]));
      else
        op.setAttr("ftc.offsets", b.getDenseI64ArrayAttr(offsets));
    }
    fn->setAttr("ftc.arena_bytes", b.getI64IntegerAttr(peak));
    return success();
  }
};

} // namespace
