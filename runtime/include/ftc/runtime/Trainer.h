//===- Trainer.h - The training loop around a plan --------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Owns nothing compiled: it feeds batches into the plan's input buffers,
// runs train_step/eval_step on a backend, schedules the learning rate,
// evaluates, logs metrics.jsonl and writes checkpoints.
//===----------------------------------------------------------------------===//
#ifndef FTC_RUNTIME_TRAINER_H
#define FTC_RUNTIME_TRAINER_H

#include "ftc/plan/Plan.h"
#include "ftc/runtime/Backend.h"
#include "ftc/runtime/Dataset.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ftc::rt {

struct ScheduleOptions {
  std::string type = "constant"; // constant | linear | cosine
  int64_t warmupSteps = 0;
  double warmupRatio = 0;
  double minLrRatio = 0;
};

/// lr for optimizer step `step` (1-based) of `totalSteps`.
double scheduledLr(const ScheduleOptions &s, double baseLr, int64_t step,
                   int64_t totalSteps);

struct TrainerOptions {
  uint64_t seed = 0;
  int64_t epochs = 1;
  int64_t maxSteps = 0; // 0 = no limit
  int64_t logEvery = 50;
  bool shuffle = true;
  double lr = 1e-3;
  ScheduleOptions schedule;
  int64_t evalEverySteps = 0; // 0 = at each epoch end
  std::vector<std::string> evalMetrics{"loss", "accuracy"};
  std::string checkpointEvery = "end"; // "end" | "epoch" | "<steps>"
  std::string outputDir;
  std::string initCheckpoint; // model.checkpoint: dir or .safetensors, or ""
  std::string configJson;     // written as config.json beside the weights
  std::string labelFeature = "label";
  bool progressBar = false; // a redrawn bar on a TTY, else plain lines
};

/// Parameter initialisation: deterministic per (seed, name), independent of
/// parameter order, so adding a layer never changes the others' values.
void initializeParameters(const plan::Plan &plan, Backend &backend,
                          uint64_t seed);

class Trainer {
public:
  Trainer(const plan::Plan &plan, Backend &backend, TrainerOptions options);
  /// Loads `initCheckpoint` (if any) over freshly initialised parameters and
  /// reports missing/unexpected/newly initialised tensors to `log`.
  void initialize(std::string &log);
  /// Trains; eval may be null. Throws rt::Error.
  void train(const DatasetSplit &train, const DatasetSplit *eval);
  /// Streams the eval split through eval_step (never keeps all logits).
  std::map<std::string, double> evaluate(const DatasetSplit &eval);
  /// Writes model.safetensors + config.json atomically into `dir`.
  void saveCheckpoint(const std::string &dir);
  /// Fills the plan's feature inputs with examples `indices` of `split`.
  void feed(const DatasetSplit &split, const std::vector<int64_t> &indices);
  /// Writes the per-step scalars (lr, step, dropout state) for step `step`.
  void setStep(int64_t step, float lr);

private:
  void logJson(const std::string &line);

  const plan::Plan &plan_;
  Backend &backend_;
  TrainerOptions opts_;
  int64_t step_ = 0;
  std::vector<std::vector<char>> staging_;
};

} // namespace ftc::rt

#endif // FTC_RUNTIME_TRAINER_H
