//===- Commands.h - ftc subcommands -----------------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_TOOLS_FTC_COMMANDS_H
#define FTC_TOOLS_FTC_COMMANDS_H

#include "Job.h"

#include <optional>
#include <string>

namespace ftc::tool {

struct CommandOptions {
  std::optional<std::string> emit;       // compile --emit
  std::optional<std::string> outputFile; // compile -o
  bool resolved = false;                 // check --resolved
  bool keys = false;                     // plugins --keys
  std::optional<std::string> checkpoint; // eval/predict --checkpoint
  std::optional<std::string> input;      // predict --input
};

/// Lists plugins; with `keys`, every key each plugin adds to the spec.
int runPlugins(bool keys);
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

} // namespace ftc::tool

#endif // FTC_TOOLS_FTC_COMMANDS_H
