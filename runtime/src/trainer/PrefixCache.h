//===- PrefixCache.h - Frozen-prefix outputs stored per example -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// When the compiler split a frozen, deterministic prefix off the training
// step (programs prefix_step and train_step_cached, see
// ftc-cache-frozen-prefix), the prefix's outputs for an example are the
// same in every epoch. This cache runs prefix_step for a batch only while
// one of its examples has no stored outputs yet, keeps the outputs per
// example (in memory, or in a file in the output directory), and feeds them
// to train_step_cached. The values are copied bit for bit, so training is
// identical to running train_step.
//===----------------------------------------------------------------------===//
#ifndef FTC_RUNTIME_TRAINER_PREFIXCACHE_H
#define FTC_RUNTIME_TRAINER_PREFIXCACHE_H

#include "ftc/plan/Plan.h"
#include "ftc/runtime/Backend.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ftc::rt {

class PrefixCache {
public:
  struct Budget {
    int64_t memoryBytes = 0;
    int64_t diskBytes = 0;
    std::string dir; // where the disk file goes
  };

  /// A split step: the prefix program, the step reading its outputs, the
  /// split it serves (for messages) and the disk file's name.
  struct Programs {
    const char *prefix, *cached, *split, *file;
  };
  static constexpr Programs kTrain{plan::programs::kPrefix,
                                   plan::programs::kTrainCached, "training",
                                   "prefix-cache.bin"};
  static constexpr Programs kEval{plan::programs::kEvalPrefix,
                                  plan::programs::kEvalCached, "evaluation",
                                  "eval-prefix-cache.bin"};

  /// True when `plan` has both programs.
  static bool planHas(const plan::Plan &plan, const Programs &programs);

  /// Prepares storage for `numExamples` examples within `budget`. Returns
  /// false when it does not fit (then nothing is cached); `note` says where
  /// the cache lives or why there is none.
  bool bind(const plan::Plan &plan, const Programs &programs,
            int64_t numExamples, const Budget &budget, std::string &note);
  ~PrefixCache();

  int64_t bytesPerExample() const { return recordBytes_; }
  /// Bytes the cache holds when full (in memory or on disk).
  int64_t totalBytes() const { return recordBytes_ * numExamples_; }
  bool onDisk() const { return fd_ >= 0; }
  /// Examples whose outputs are stored.
  int64_t cachedExamples() const { return cachedCount_; }
  /// Micro-batches that ran the prefix, and that read the cache instead.
  int64_t prefixRuns() const { return prefixRuns_; }
  int64_t cacheReads() const { return cacheReads_; }

  /// One batch whose features are fed: the prefix (if an example is not
  /// stored yet), then the cached step. `indices` are the batch's example
  /// indices (repeats allowed).
  void run(Backend &backend, const std::vector<int64_t> &indices);

private:
  struct Slot {
    int32_t output = -1; // prefix_step's output buffer
    int32_t input = -1;  // train_step_cached's input buffer
    int64_t bytes = 0;   // per example
    int64_t offset = 0;  // inside an example's record
  };
  void store(int64_t example, const Slot &slot, const char *src);
  void load(int64_t example, const Slot &slot, char *dst) const;

  std::vector<Slot> slots_;
  int64_t recordBytes_ = 0, numExamples_ = 0, cachedCount_ = 0;
  int64_t prefixRuns_ = 0, cacheReads_ = 0;
  Programs programs_{};
  std::vector<uint8_t> present_;
  std::unique_ptr<char[]> memory_;
  int fd_ = -1;
  std::string path_;
  std::vector<std::vector<char>> staging_; // per slot, one batch
};

} // namespace ftc::rt

#endif // FTC_RUNTIME_TRAINER_PREFIXCACHE_H
