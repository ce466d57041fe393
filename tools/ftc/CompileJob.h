//===- CompileJob.h - Spec + plugins -> IR stages and a plan ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The ftc tool's only MLIR-including translation unit sits behind this
// header, so the rest of the CLI compiles fast.
//===----------------------------------------------------------------------===//
#ifndef FTC_TOOLS_FTC_COMPILEJOB_H
#define FTC_TOOLS_FTC_COMPILEJOB_H

#include "Job.h"
#include "ftc/plan/Plan.h"

#include <optional>
#include <string>
#include <vector>

namespace ftc::tool {

/// The [freeze] LoRA keys with their defaults filled in.
struct LoraSettings {
  int64_t rank = 8;
  double alpha = 16;
  double dropout = 0;
  /// freeze.lora_targets, else the model family's default (ABI 1.5).
  std::vector<std::string> targets;
  std::vector<std::string> modulesToSave; // empty: the task head
  bool merge = false;
  double scale() const { return alpha / double(rank); }
};
LoraSettings loraSettings(const spec::Spec &s,
                          const plugin::LoadedPlugin &model);

/// Stage names accepted by --emit.
const char *const kEmitStages =
    "ftc, freeze, train, optim, fused, plan, report";
bool isEmitStage(const std::string &stage);

/// Compiles the job. With `emit` set, stops after that stage and returns
/// its printed form in `text` (IR, the plan dump, or the trainable-set
/// report); otherwise fills `plan`. With `stage` >= 0, the freeze settings
/// are those of [[freeze.stages]] element `stage`. Without the optimizer, the
/// plan's train_step outputs `grad.<name>` instead of updating (for inspection
/// tools). Errors are printed, located in the spec.
bool compileJob(Job &job, const std::optional<std::string> &emit,
                std::string &text, plan::Plan &plan, bool withOptimizer = true,
                int stage = -1);

/// [[freeze.stages]]: how many (0 without stages) and where each starts.
int numStages(const spec::Spec &s);
int64_t stageFromEpoch(const spec::Spec &s, int stage);

} // namespace ftc::tool

#endif // FTC_TOOLS_FTC_COMPILEJOB_H
