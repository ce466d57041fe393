//===- Pipelines.cpp - The ftc training pipeline
//---------------------------===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/Pipelines/Pipelines.h"
#include "ftc/Conversion/Passes.h"
#include "ftc/Dialect/Ftc/IR/FtcDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;
using namespace mlir::ftc;

namespace {
constexpr std::pair<Stage, StringLiteral> kStageNames[] = {
    {Stage::Ftc, "ftc"},     {Stage::Freeze, "freeze"}, {Stage::Train, "train"},
    {Stage::Optim, "optim"}, {Stage::Fused, "fused"},   {Stage::Plan, "plan"},
};
} // namespace

std::optional<Stage> mlir::ftc::parseStage(StringRef name) {
  for (auto [stage, text] : kStageNames)
    if (text == name)
      return stage;
  return std::nullopt;
}

StringRef mlir::ftc::stageName(Stage stage) {
  for (auto [s, text] : kStageNames)
    if (s == stage)
      return text;
  return "?";
}

void mlir::ftc::buildTrainingPipeline(OpPassManager &pm,
                                      const TrainingPipelineOptions &options,
                                      Stage after, Stage last) {
  auto wanted = [&](Stage s) { return after < s && s <= last; };
  if (wanted(Stage::Freeze))
    pm.addPass(createFtcApplyFreeze(options.freeze));
  if (wanted(Stage::Train))
    pm.addPass(createFtcAutodiff(options.autodiff));
  if (wanted(Stage::Optim))
    pm.addPass(createFtcLowerOptimizer(options.optimizer));
  if (wanted(Stage::Fused)) {
    if (options.cacheFrozenPrefix)
      pm.addPass(createFtcCacheFrozenPrefix());
    if (options.fuse)
      pm.addPass(createFtcFuse());
    if (options.bf16)
      pm.addPass(createFtcMixedPrecision());
  }
  if (wanted(Stage::Plan))
    pm.addPass(createFtcPlanMemory(options.memory));
}

void mlir::ftc::registerFtcDialects(DialectRegistry &registry) {
  registry.insert<FtcDialect, func::FuncDialect>();
}

void mlir::ftc::registerFtcPassesAndPipelines() {
  registerFtcPasses();
  registerFtcConversionPasses();
  PassPipelineRegistration<>(
      "ftc-training-pipeline",
      "Freeze (policy none), autodiff, AdamW and memory planning with "
      "default options",
      [](OpPassManager &pm) {
        buildTrainingPipeline(pm, TrainingPipelineOptions(), Stage::Ftc,
                              Stage::Plan);
      });
}
