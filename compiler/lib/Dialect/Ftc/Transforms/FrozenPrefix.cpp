//===- FrozenPrefix.cpp - The frozen, deterministic prefix of a step ------===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/Dialect/Ftc/Transforms/FrozenPrefix.h"
#include "ftc/Dialect/Ftc/IR/FtcOps.h"
#include "ftc/plan/Plan.h"

#include "llvm/ADT/DenseSet.h"

#include <cstdio>
#include <sstream>

using namespace mlir;
using namespace mlir::ftc;

namespace {

/// Arithmetic of one op: a matrix product's own count (2·M·N·K, from
/// MatrixProductOpInterface), one per result element otherwise (what matters
/// is the products' share).
double flopsOf(Operation *op) {
  if (op->getNumResults() == 0)
    return 0;
  if (auto product = dyn_cast<MatrixProductOpInterface>(op))
    return product.getFlops();
  return double(
      cast<RankedTensorType>(op->getResult(0).getType()).getNumElements());
}

/// Whether `op` may join the prefix: an op that declares it may
/// (PrefixCacheableOpInterface), its result the same every step and, when
/// it reads the example, keeping the examples' rows together.
bool joinsPrefix(Operation *op, int64_t batch, bool dependent,
                 const llvm::DenseSet<Value> &exampleDependent,
                 const llvm::DenseSet<Value> &batchMajor) {
  auto cacheable = dyn_cast<PrefixCacheableOpInterface>(op);
  if (!cacheable || !cacheable.isDeterministic())
    return false;
  if (!dependent)
    return true;
  int64_t rows = leadingDim(op->getResult(0));
  if (rows <= 0 || rows % batch != 0)
    return false;
  SmallVector<Value> exampleOperands;
  for (Value in : op->getOperands())
    if (exampleDependent.contains(in)) {
      if (!batchMajor.contains(in))
        return false;
      exampleOperands.push_back(in);
    }
  return cacheable.keepsExamplesContiguous(exampleOperands);
}

/// The module a parameter belongs to: its name without the last component.
std::string moduleOf(StringRef param) {
  size_t dot = param.rfind('.');
  return (dot == StringRef::npos ? param : param.take_front(dot)).str();
}

} // namespace

std::string mlir::ftc::describeValue(Value value) {
  Operation *def = value.getDefiningOp();
  if (!def)
    return "a block argument";
  if (auto input = dyn_cast<InputOp>(def))
    return "input '" + input.getName().str() + "'";
  std::string opName = def->getName().getStringRef().str();
  // The nearest parameter upstream names the layer.
  SmallVector<Operation *> work{def};
  llvm::DenseSet<Operation *> seen;
  for (size_t i = 0; i < work.size() && i < 64; ++i) {
    for (Value in : work[i]->getOperands()) {
      Operation *d = in.getDefiningOp();
      if (!d)
        continue;
      if (auto p = dyn_cast<ParamOp>(d))
        return opName + " after " + moduleOf(p.getName());
      if (auto input = dyn_cast<InputOp>(d))
        if (i == 0)
          return opName + " of input '" + input.getName().str() + "'";
      if (seen.insert(d).second)
        work.push_back(d);
    }
  }
  return opName;
}

FrozenPrefix mlir::ftc::analyzeFrozenPrefix(func::FuncOp trainStep) {
  FrozenPrefix fp;
  Block &body = trainStep.getBody().front();
  for (Operation &op : body)
    if (auto in = dyn_cast<InputOp>(op))
      if (!::ftc::plan::isTrainerScalar(in.getName().str()) &&
          leadingDim(in) > 0) {
        fp.batch = leadingDim(in);
        break;
      }
  if (fp.batch <= 0) {
    fp.reason = "the step reads no batched input";
    return fp;
  }

  llvm::DenseSet<Value> available, exampleDependent, batchMajor;
  bool anyFrozen = false;
  Operation *stopper = nullptr; // the first active dropout on the prefix
  for (Operation &op : body) {
    fp.stepFlops += isa<ParamOp, InputOp, OutputOp>(op) ? 0 : flopsOf(&op);
    if (auto in = dyn_cast<InputOp>(op)) {
      if (::ftc::plan::isTrainerScalar(in.getName().str()))
        continue;
      available.insert(in);
      exampleDependent.insert(in);
      if (leadingDim(in) == fp.batch)
        batchMajor.insert(in);
      continue;
    }
    if (auto p = dyn_cast<ParamOp>(op)) {
      if (p.getTrainable() && !*p.getTrainable()) {
        available.insert(p);
        anyFrozen = true;
      }
      continue;
    }
    // A running statistic that no op of the step writes (only pure ops
    // read it: a frozen batch norm in its evaluation form) is as constant
    // as a frozen parameter.
    if (auto r = dyn_cast<RunningStatOp>(op)) {
      if (llvm::all_of(r->getUsers(),
                       [](Operation *user) { return isPure(user); }))
        available.insert(r);
      continue;
    }
    if (op.getNumResults() != 1 ||
        !llvm::all_of(op.getOperands(),
                      [&](Value v) { return available.contains(v); }))
      continue;
    bool dependent = llvm::any_of(op.getOperands(), [&](Value v) {
      return exampleDependent.contains(v);
    });
    auto cacheable = dyn_cast<PrefixCacheableOpInterface>(op);
    if (cacheable && !cacheable.isDeterministic() && dependent && !stopper &&
        isa<DropoutOp>(op))
      stopper = &op; // named in the report: the usual reason a prefix ends
    // A value that changes every step, or that mixes examples, cannot be
    // stored per example; the prefix ends before it.
    if (!joinsPrefix(&op, fp.batch, dependent, exampleDependent, batchMajor))
      continue;
    Value result = op.getResult(0);
    if (!dependent) { // parameters and constants only: kept as they are
      available.insert(result);
      continue;
    }
    available.insert(result);
    exampleDependent.insert(result);
    batchMajor.insert(result);
    fp.ops.insert(&op);
  }
  for (Operation *op : fp.ops) {
    Value v = op->getResult(0);
    if (llvm::any_of(v.getUsers(),
                     [&](Operation *user) { return !fp.ops.contains(user); })) {
      fp.cached.push_back(v);
      auto t = cast<RankedTensorType>(v.getType());
      fp.bytesPerExample += t.getNumElements() / fp.batch * 4;
    }
  }
  // Only the ops that a cached value needs are skipped.
  llvm::SetVector<Operation *> needed;
  SmallVector<Operation *> work;
  for (Value v : fp.cached)
    work.push_back(v.getDefiningOp());
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (!fp.ops.contains(op) || !needed.insert(op))
      continue;
    for (Value in : op->getOperands())
      if (Operation *d = in.getDefiningOp())
        work.push_back(d);
  }
  llvm::SetVector<Operation *> ordered;
  for (Operation *op : fp.ops)
    if (needed.contains(op))
      ordered.insert(op);
  fp.ops = std::move(ordered);
  for (Operation *op : fp.ops)
    fp.prefixFlops += flopsOf(op);

  double share = fp.stepFlops > 0 ? fp.prefixFlops / fp.stepFlops : 0;
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.1f%%", 100 * share);
  std::ostringstream why;
  if (!anyFrozen) {
    why << "no parameter is frozen";
  } else if (fp.ops.empty()) {
    why << "no computation reads only the inputs and frozen parameters";
    if (stopper)
      why << " before an active dropout (p = "
          << cast<DropoutOp>(stopper).getP().convertToDouble() << ", "
          << describeValue(stopper->getOperand(0)) << ")";
  } else if (share < kMinCachedFlopShare) {
    why << "the frozen prefix is " << pct
        << " of the step's arithmetic, below the "
        << int(kMinCachedFlopShare * 100) << "% that pays for the gathers";
    if (stopper)
      why << "; it ends at an active dropout (p = "
          << cast<DropoutOp>(stopper).getP().convertToDouble() << ", on the "
          << describeValue(stopper->getOperand(0))
          << "): dropout draws a new mask every step";
  } else {
    fp.worthCaching = true;
    why << fp.ops.size() << " forward ops on frozen parameters (" << pct
        << " of the step's arithmetic) read only the example";
    if (stopper)
      why << "; the prefix ends at an active dropout (p = "
          << cast<DropoutOp>(stopper).getP().convertToDouble() << ", on the "
          << describeValue(stopper->getOperand(0)) << ")";
  }
  fp.reason = why.str();
  return fp;
}

std::string mlir::ftc::frozenPrefixReport(const FrozenPrefix &fp,
                                          const std::string &split,
                                          const std::string &setting,
                                          const std::string &inputPrefix) {
  std::ostringstream os;
  if (setting == "off") {
    os << "  " << split << ": off (turned off"
       << (fp.worthCaching ? "; it would cache: " + fp.reason : "") << ")\n";
    return os.str();
  }
  if (!fp.worthCaching) {
    os << "  " << split << ": off: " << fp.reason << "\n";
    return os.str();
  }
  os << "  " << split << ": on, because " << fp.reason << "\n"
     << "    stored per example (" << fp.bytesPerExample
     << " bytes) the first time it is seen, then read instead of running "
        "the prefix:\n";
  for (size_t i = 0; i < fp.cached.size(); ++i) {
    Value v = fp.cached[i];
    auto t = cast<RankedTensorType>(v.getType());
    os << "      " << inputPrefix << i << ": " << describeValue(v) << ", "
       << t.getNumElements() / fp.batch * 4 << " bytes per example\n";
  }
  return os.str();
}
