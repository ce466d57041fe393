//===- FrozenPrefix.h - The frozen, deterministic prefix of a step -*- C++ -*-//
// SPDX-License-Identifier: Apache-2.0
//
// The ops of @train_step that read only dataset features and frozen
// parameters, deterministically (no active dropout), compute the same values
// for an example in every epoch. ftc-cache-frozen-prefix splits them off so
// the runtime can store their outputs per example once and skip them later;
// `ftc compile --emit=report` prints the same analysis.
//===----------------------------------------------------------------------===//
#ifndef FTC_DIALECT_FTC_TRANSFORMS_FROZENPREFIX_H
#define FTC_DIALECT_FTC_TRANSFORMS_FROZENPREFIX_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/SetVector.h"

#include <string>
#include <vector>

namespace mlir::ftc {

/// Caching pays only when the skipped forward ops are at least this share of
/// the step's arithmetic (below it, the gathers cost about what they save).
constexpr double kMinCachedFlopShare = 0.10;

struct FrozenPrefix {
  /// Prefix ops whose results depend on the example (they are skipped).
  llvm::SetVector<Operation *> ops;
  /// Prefix values read by the rest of the step: what is stored per example.
  /// Each is example-contiguous: example i owns the i-th of `batch` equal
  /// chunks of the tensor.
  SmallVector<Value> cached;
  int64_t batch = 0;
  int64_t bytesPerExample = 0;
  /// Arithmetic (multiply-adds count 2) of the skipped ops and of the step.
  double prefixFlops = 0, stepFlops = 0;
  /// Whether caching pays; `reason` says why (or why not) in one sentence.
  bool worthCaching = false;
  std::string reason;
};

/// Analyses `trainStep` (after ftc-lower-optimizer).
FrozenPrefix analyzeFrozenPrefix(func::FuncOp trainStep);

/// Where a value comes from, for people: "ftc.tanh after bert.pooler.dense".
std::string describeValue(Value value);

/// One split's lines of the report: decision, reason, the cached values
/// (named `<inputPrefix><i>`) and their sizes.
std::string frozenPrefixReport(const FrozenPrefix &prefix,
                               const std::string &split,
                               const std::string &setting,
                               const std::string &inputPrefix);

} // namespace mlir::ftc

#endif // FTC_DIALECT_FTC_TRANSFORMS_FROZENPREFIX_H
