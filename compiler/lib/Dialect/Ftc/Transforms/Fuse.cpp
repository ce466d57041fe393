//===- Fuse.cpp - Backend-aware fusions ----------------------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// Each pattern replaces ops by one the runtime runs as a single kernel and
// is the same computation, so the fused plan matches the unfused one up to
// float summation order (test/e2e/fuse.test compares them; `train.fuse =
// false` turns the pass off).
//===----------------------------------------------------------------------===//
#include "ftc/Dialect/Ftc/IR/FtcOps.h"
#include "ftc/Dialect/Ftc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::ftc {
#define GEN_PASS_DEF_FTCFUSE
#include "ftc/Dialect/Ftc/Transforms/Passes.h.inc"
} // namespace mlir::ftc

using namespace mlir;
using namespace mlir::ftc;

namespace {

/// True when every user of `v` comes after `point` in its block.
bool usedOnlyAfter(Value v, Operation *point) {
  return llvm::all_of(v.getUsers(), [&](Operation *user) {
    Operation *top = point->getBlock()->findAncestorOpInBlock(*user);
    return top && point->isBeforeInBlock(top);
  });
}

/// bias-grad: linear_grad_weight(x, dy) + reduce_sum(dy, [0]) ->
/// linear_grad_weight_bias(x, dy). One pass over dy, and oneDNN computes the
/// bias gradient inside its backward-weights primitive.
void fuseBiasGrads(func::FuncOp fn) {
  SmallVector<std::pair<LinearGradWeightOp, ReduceSumOp>> pairs;
  fn.walk([&](LinearGradWeightOp w) {
    for (Operation *user : w.getGrad().getUsers()) {
      auto r = dyn_cast<ReduceSumOp>(user);
      if (!r || r->getBlock() != w->getBlock() ||
          r.getAxes() != ArrayRef<int64_t>{0} ||
          r.getInput().getType().getRank() != 2)
        continue;
      pairs.push_back({w, r});
      return;
    }
  });
  for (auto [w, r] : pairs) {
    // At the later of the two, so both operands are defined; the earlier
    // one's users must all come after it.
    bool wFirst = w->isBeforeInBlock(r);
    Operation *later = wFirst ? r.getOperation() : w.getOperation();
    Value earlier = wFirst ? w.getResult() : r.getResult();
    if (!usedOnlyAfter(earlier, later))
      continue;
    OpBuilder b(later);
    auto fused = LinearGradWeightBiasOp::create(
        b, w.getLoc(), TypeRange{w.getType(), r.getType()}, w.getInput(),
        w.getGrad());
    w.getResult().replaceAllUsesWith(fused.getWeightGrad());
    r.getResult().replaceAllUsesWith(fused.getBiasGrad());
    w.erase();
    r.erase();
  }
}

struct Fuse : mlir::ftc::impl::FtcFuseBase<Fuse> {
  void runOnOperation() override {
    for (auto fn : getOperation().getOps<func::FuncOp>())
      fuseBiasGrads(fn);
  }
};

} // namespace
