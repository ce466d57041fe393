//===- CostReport.h - The job's cost before it runs -------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_TOOLS_FTC_COSTREPORT_H
#define FTC_TOOLS_FTC_COSTREPORT_H

#include "Job.h"

#include "ftc/plan/Cost.h"

#include <string>

namespace ftc::tool {

struct JobEstimate {
  double seconds = 0;     // the whole job: steps and evaluations
  double stepSeconds = 0; // one optimizer step (the first epoch's)
  double evalSeconds = 0; // one evaluation (eval split + training sample)
  double cacheSavingSeconds = 0; // what the frozen-prefix cache saves
  /// An epoch's training (no evaluation): the first, and a later one (they
  /// differ when the frozen prefix is cached).
  double firstEpochSeconds = 0, laterEpochSeconds = 0;
  int64_t steps = 0, evals = 0, stepsPerEpoch = 0;
};

/// Estimates the job `plan` compiles at `rates` (one plan; with
/// [[freeze.stages]], the first stage's throughout).
JobEstimate estimateJob(Job &job, const plan::Plan &plan,
                        const plan::MachineRates &rates);

/// `ftc plan`'s cost section: the products' FLOPs and the other kernels'
/// bytes by program, the machine's rates, and time per step, per epoch and
/// for the job, with the frozen-prefix saving on its own line.
std::string costReport(Job &job, const plan::Plan &plan,
                       const plan::MachineRates &rates,
                       const std::string &ratesNote);

/// One line for the start of a run: the matrix-product FLOPs of each
/// program ("cost: train_step 275.4 GFLOP, eval_step 91.81 GFLOP").
std::string costSummary(const plan::Plan &plan);

/// "1 h 02 min", "3 min 41 s", "12.3 s", "245 ms", "18.2 µs".
std::string formatSeconds(double seconds);

} // namespace ftc::tool

#endif // FTC_TOOLS_FTC_COSTREPORT_H
