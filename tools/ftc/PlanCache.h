//===- PlanCache.h - Compiled plans reused across runs ----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// A plan depends only on the resolved spec, the plugins, the compiler and
// what the model plugin is shown (dataset features, label count, checkpoint
// config). The cache keys plans by a hash of exactly that, so a second
// identical `ftc run` loads the plan instead of compiling it.
//===----------------------------------------------------------------------===//
#ifndef FTC_TOOLS_FTC_PLANCACHE_H
#define FTC_TOOLS_FTC_PLANCACHE_H

#include "Job.h"
#include "ftc/plan/Plan.h"

#include <optional>
#include <string>

namespace ftc::tool {

class PlanCache {
public:
  /// $FTC_CACHE_DIR, else `<output_dir>/plan-cache`. `stage` is the
  /// [[freeze.stages]] index (-1: the job has no stages).
  explicit PlanCache(const Job &job, int stage = -1);
  const std::string &key() const { return key_; }
  /// The cached file for this job's key.
  std::string path() const;
  /// The cached plan, or nullopt (absent, unreadable or invalid: a broken
  /// cache entry only costs a recompilation, with a note on stderr).
  std::optional<plan::Plan> load() const;
  /// Stores `serialized` atomically; failures are reported, not fatal.
  void store(const std::string &serialized) const;

private:
  std::string dir_, key_;
};

} // namespace ftc::tool

#endif // FTC_TOOLS_FTC_PLANCACHE_H
