//===- Pipelines.h - The ftc training pipeline ------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_PIPELINES_PIPELINES_H
#define FTC_PIPELINES_PIPELINES_H

#include "ftc/Dialect/Ftc/Transforms/Passes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

#include <optional>

namespace mlir::ftc {

/// Compilation stages, in order; `ftc compile --emit=<stage>` stops after one.
enum class Stage { Ftc, Freeze, Train, Optim, Fused, Plan };
std::optional<Stage> parseStage(StringRef name);
StringRef stageName(Stage stage);

struct TrainingPipelineOptions {
  FtcApplyFreezeOptions freeze;
  FtcAutodiffOptions autodiff;
  FtcLowerOptimizerOptions optimizer;
  FtcPlanMemoryOptions memory;
  /// Run ftc-fuse before memory planning (train.fuse).
  bool fuse = true;
  /// Run ftc-cache-frozen-prefix (train.cache_frozen_prefix = "auto").
  bool cacheFrozenPrefix = true;
  /// Run ftc-mixed-precision after fusion (train.precision = "bf16").
  bool bf16 = false;
};

/// Adds the passes that take a module from stage `after` to stage `last`
/// (from Stage::Ftc, a @forward module, to Stage::Plan, memory-planned step
/// functions).
void buildTrainingPipeline(OpPassManager &pm,
                           const TrainingPipelineOptions &options, Stage after,
                           Stage last);

/// Dialects the ftc pipeline needs.
void registerFtcDialects(DialectRegistry &registry);
/// Registers every ftc pass and the `ftc-training-pipeline` pipeline.
void registerFtcPassesAndPipelines();

} // namespace mlir::ftc

#endif // FTC_PIPELINES_PIPELINES_H
