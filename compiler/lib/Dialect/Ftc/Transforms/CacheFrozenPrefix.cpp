//===- CacheFrozenPrefix.cpp - Split the frozen prefix off train_step -----===//
// SPDX-License-Identifier: Apache-2.0
//
// When FrozenPrefix.h's analysis finds a prefix worth caching, adds
//  - @prefix_step: the prefix alone, outputting each cached value as
//    `cache.<i>`;
//  - @train_step_cached: @train_step with each cached value read from the
//    runtime input `cache.<i>` and the prefix removed.
// Running the first then the second computes exactly what @train_step does
// (the same ops on the same values), so the runtime can run the prefix once
// per example, keep its outputs, and later run @train_step_cached alone.
// @eval_step gets the same treatment (@eval_prefix_step, @eval_step_cached,
// inputs `eval_cache.<i>`): evaluation has no dropout, so its prefix reaches
// the lowest trainable parameter even where training's cannot be cached.
//===----------------------------------------------------------------------===//
#include "ftc/Dialect/Ftc/IR/FtcOps.h"
#include "ftc/Dialect/Ftc/Transforms/FrozenPrefix.h"
#include "ftc/Dialect/Ftc/Transforms/Passes.h"
#include "ftc/plan/Plan.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::ftc {
#define GEN_PASS_DEF_FTCCACHEFROZENPREFIX
#include "ftc/Dialect/Ftc/Transforms/Passes.h.inc"
} // namespace mlir::ftc

using namespace mlir;
using namespace mlir::ftc;

namespace {

/// Erases, last to first, every op of `fn` without uses that `keep` rejects.
void eraseDead(func::FuncOp fn, llvm::function_ref<bool(Operation *)> keep) {
  Block &body = fn.getBody().front();
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
    if (op.use_empty() && !keep(&op))
      op.erase();
}

/// Splits `stepName`'s frozen prefix off into `prefixName` and
/// `cachedName` when it is worth caching; records the reason as `reasonAttr`.
void splitPrefix(ModuleOp module, StringRef stepName, StringRef prefixName,
                 StringRef cachedName, StringRef inputPrefix,
                 StringRef reasonAttr) {
  auto step = module.lookupSymbol<func::FuncOp>(stepName);
  if (!step)
    return;
  FrozenPrefix prefix = analyzeFrozenPrefix(step);
  module->setAttr(reasonAttr,
                  StringAttr::get(module.getContext(), prefix.reason));
  if (!prefix.worthCaching)
    return;
  OpBuilder b(module.getContext());
  Location loc = step.getLoc();
  auto name = [&](size_t i) { return (inputPrefix + std::to_string(i)).str(); };

  // The prefix and its outputs.
  IRMapping toPrefix;
  auto prefixFn = cast<func::FuncOp>(step->clone(toPrefix));
  prefixFn.setSymName(prefixName);
  module.insert(std::next(step->getIterator()), prefixFn);
  llvm::DenseSet<Operation *> keepInPrefix;
  for (Operation *op : prefix.ops)
    keepInPrefix.insert(toPrefix.lookup(op));
  Operation *ret = prefixFn.getBody().front().getTerminator();
  b.setInsertionPoint(ret);
  for (auto [i, v] : llvm::enumerate(prefix.cached))
    keepInPrefix.insert(
        OutputOp::create(b, loc, b.getStringAttr(name(i)), toPrefix.lookup(v)));
  eraseDead(prefixFn, [&](Operation *op) {
    return op == ret || keepInPrefix.contains(op);
  });

  // The step with the cached values as inputs.
  IRMapping toCached;
  auto cachedFn = cast<func::FuncOp>(step->clone(toCached));
  cachedFn.setSymName(cachedName);
  module.insert(std::next(prefixFn->getIterator()), cachedFn);
  llvm::DenseSet<Operation *> prefixInCached;
  for (Operation *op : prefix.ops)
    prefixInCached.insert(toCached.lookup(op));
  b.setInsertionPointToStart(&cachedFn.getBody().front());
  for (auto [i, v] : llvm::enumerate(prefix.cached)) {
    Value old = toCached.lookup(v);
    Value in = InputOp::create(b, loc, old.getType(), name(i));
    old.replaceUsesWithIf(in, [&](OpOperand &use) {
      return !prefixInCached.contains(use.getOwner());
    });
  }
  eraseDead(cachedFn, [&](Operation *op) {
    return !prefixInCached.contains(op) && !isa<ParamOp, InputOp>(op);
  });
}

struct CacheFrozenPrefix
    : mlir::ftc::impl::FtcCacheFrozenPrefixBase<CacheFrozenPrefix> {
  void runOnOperation() override {
    namespace names = ::ftc::plan::programs;
    splitPrefix(getOperation(), names::kTrain, names::kPrefix,
                names::kTrainCached, names::kCacheInput, "ftc.frozen_prefix");
    splitPrefix(getOperation(), names::kEval, names::kEvalPrefix,
                names::kEvalCached, names::kEvalCacheInput,
                "ftc.frozen_prefix_eval");
  }
};

} // namespace
