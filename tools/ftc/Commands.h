//===- Commands.h - ftc subcommands -----------------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_TOOLS_FTC_COMMANDS_H
#define FTC_TOOLS_FTC_COMMANDS_H

#include "Job.h"

#include "ftc/plan/Plan.h"
#include "ftc/runtime/Backend.h"
#include "ftc/runtime/Trainer.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace ftc::tool {

/// ftc generate's sampling: greedy at temperature 0, else softmax(logits /
/// temperature) over the top_k most likely tokens (0: all).
struct GenerateOptions {
  int64_t maxNewTokens = 64;
  double temperature = 0;
  int64_t topK = 0;
};

struct CommandOptions {
  std::optional<std::string> emit;       // compile --emit
  std::optional<std::string> outputFile; // compile -o
  bool resolved = false;                 // check --resolved
  bool keys = false;                     // plugins --keys
  std::optional<std::string> checkpoint; // eval/predict --checkpoint
  std::optional<std::string> input;      // predict --input
  std::string prompt;                    // generate --prompt
  uint64_t seed = 0;                     // generate --seed
  GenerateOptions generate;
};

/// Runs `body`, turning runtime failures into exit code 1.
int guarded(const std::function<int()> &body);
/// The job's plan: loaded from the plan cache when an identical job was
/// compiled before, else compiled and cached. False after a compile error
/// (already reported).
bool loadOrCompilePlan(Job &job, plan::Plan &p, bool &fromCache,
                       std::string &cachePath, int stage = -1);

/// A saved model ready to run (ftc eval, predict, generate): the job's plan,
/// a CPU backend holding it and a trainer that loaded the weights.
struct SavedModel {
  std::unique_ptr<plan::Plan> plan;
  std::unique_ptr<rt::Backend> backend;
  std::unique_ptr<rt::Trainer> trainer;
};
/// Loads or compiles the plan and the weights `options` name
/// (savedModelOptions), printing the load log. False after a compile error
/// (already reported).
bool loadSavedModel(Job &job, const rt::TrainerOptions &options,
                    SavedModel &model);

/// Lists plugins; with `keys`, every key each plugin adds to the spec.
int runPlugins(bool keys);
/// `ftc info`: the version, the CPU and what oneDNN runs on it, CUDA.
int runInfo();
int runCheck(const JobArgs &args, const CommandOptions &opts);
int runCompile(const JobArgs &args, const CommandOptions &opts);
int runTrain(const JobArgs &args);
/// Evaluates a saved model on the eval split; prints the metrics as JSON.
int runEval(const JobArgs &args, const CommandOptions &opts);
/// Predicts the examples of --input with a saved model: one JSON line per
/// example (label, label_id, probabilities), to stdout or -o.
int runPredict(const JobArgs &args, const CommandOptions &opts);
/// Prints the memory plan: parameters, optimizer state, gradients, arenas.
int runPlan(const JobArgs &args);
/// Extends --prompt with a saved causal-lm model; prints the text.
int runGenerate(JobArgs args, const CommandOptions &opts);

} // namespace ftc::tool

#endif // FTC_TOOLS_FTC_COMMANDS_H
