//===- CostReport.cpp - The job's cost before it runs ---------------------===//
// SPDX-License-Identifier: Apache-2.0
#include "CostReport.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace ftc;
using namespace ftc::tool;

namespace {

/// One run of `name` in seconds, 0 when the plan lacks it.
double programSeconds(const plan::Plan &p, const char *name,
                      const plan::MachineRates &rates) {
  const plan::Program *prog = p.findProgram(name);
  return prog ? plan::estimateSeconds(plan::programCost(p, *prog), rates) : 0;
}

bool hasPrefixCache(Job &job, const plan::Plan &p, const char *prefix,
                    const char *cached) {
  return job.spec().getString("train.cache_frozen_prefix") != "off" &&
         p.findProgram(prefix) && p.findProgram(cached);
}

int64_t ceilDiv(int64_t a, int64_t b) { return b > 0 ? (a + b - 1) / b : 0; }

} // namespace

std::string tool::formatSeconds(double s) {
  char buf[48];
  if (s < 0.001)
    std::snprintf(buf, sizeof buf, "%.3g µs", s * 1e6);
  else if (s < 1)
    std::snprintf(buf, sizeof buf, "%.3g ms", s * 1000);
  else if (s < 60)
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%d min %02d s", int(s) / 60, int(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%d h %02d min", int(s) / 3600,
                  int(s) % 3600 / 60);
  return buf;
}

JobEstimate tool::estimateJob(Job &job, const plan::Plan &p,
                              const plan::MachineRates &rates) {
  using namespace plan::programs;
  const spec::Spec &s = job.spec();
  JobEstimate e;
  int64_t batch = std::max<int64_t>(p.batchSize, 1), accum = p.gradAccum;
  int64_t trainN = job.trainSplit().size();
  int64_t stepsPerEpoch = trainN / (batch * accum);
  if (stepsPerEpoch == 0)
    return e;
  e.steps = s.getInt("train.epochs") * stepsPerEpoch;
  if (int64_t cap = s.getInt("train.max_steps"); cap > 0)
    e.steps = std::min(e.steps, cap);
  int64_t epochs = ceilDiv(e.steps, stepsPerEpoch);

  // Training: with the frozen-prefix cache, the first epoch runs the prefix
  // and the cached step, later epochs only the cached step.
  double opt = programSeconds(p, kOptimizer, rates);
  double full = double(accum) * programSeconds(p, kTrain, rates) + opt;
  double trainSeconds = double(e.steps) * full;
  e.stepSeconds = full;
  e.stepsPerEpoch = stepsPerEpoch;
  e.firstEpochSeconds = e.laterEpochSeconds = double(stepsPerEpoch) * full;
  // Training examples that change with the epoch (the dataset's set_epoch:
  // random augmentation) are never cached, as the trainer does not.
  bool trainVaries =
      job.trainSplit().setEpoch(1, uint64_t(s.getInt("pipeline.seed")));
  if (!trainVaries && hasPrefixCache(job, p, kPrefix, kTrainCached)) {
    double cached =
        double(accum) * programSeconds(p, kTrainCached, rates) + opt;
    double first = cached + double(accum) * programSeconds(p, kPrefix, rates);
    int64_t firstSteps = std::min(e.steps, stepsPerEpoch);
    e.stepSeconds = first;
    trainSeconds =
        double(firstSteps) * first + double(e.steps - firstSteps) * cached;
    e.cacheSavingSeconds = double(e.steps) * full - trainSeconds;
    e.firstEpochSeconds = double(stepsPerEpoch) * first;
    e.laterEpochSeconds = double(stepsPerEpoch) * cached;
  }

  // Evaluations: the eval split (through its prefix cache after the first),
  // and the training sample as large as it (eval.train_metrics).
  double evalSeconds = 0;
  if (rt::DatasetSplit *eval = job.evalSplit()) {
    e.evals = s.isInt("eval.every")
                  ? e.steps / s.getInt("eval.every") +
                        (e.steps % s.getInt("eval.every") ? 1 : 0)
                  : epochs;
    double evalStep = programSeconds(p, kEval, rates);
    int64_t batches = ceilDiv(eval->size(), batch);
    double one = double(batches) * evalStep, later = one;
    if (hasPrefixCache(job, p, kEvalPrefix, kEvalCached)) {
      later = double(batches) * programSeconds(p, kEvalCached, rates);
      one = later + double(batches) * programSeconds(p, kEvalPrefix, rates);
      e.cacheSavingSeconds +=
          double(e.evals - 1) * (double(batches) * evalStep - later);
    }
    double sample = 0;
    if (s.getBool("eval.train_metrics"))
      sample =
          double(ceilDiv(std::min(trainN, eval->size()), batch)) * evalStep;
    e.evalSeconds = one + sample;
    evalSeconds = e.evals > 0 ? one + double(e.evals - 1) * later +
                                    double(e.evals) * sample
                              : 0;
  }
  e.seconds = trainSeconds + evalSeconds;
  return e;
}

std::string tool::costSummary(const plan::Plan &p) {
  std::string out = "cost:";
  char buf[64];
  for (const plan::Program &prog : p.programs) {
    if (prog.name == plan::programs::kPredict)
      continue; // the same as eval_step without the loss
    std::snprintf(buf, sizeof buf, "%.4g",
                  plan::programCost(p, prog).productFlops / 1e9);
    out += (out.size() > 5 ? ", " : " ") + prog.name + " " + buf + " GFLOP";
  }
  return out;
}

std::string tool::costReport(Job &job, const plan::Plan &p,
                             const plan::MachineRates &rates,
                             const std::string &ratesNote) {
  char line[256];
  std::string out;
  char bf16[64] = "";
  if (rates.bf16ProductFlops > 0)
    std::snprintf(bf16, sizeof bf16, " (%.1f on bf16 operands)",
                  rates.bf16ProductFlops / 1e9);
  std::snprintf(line, sizeof line,
                "cost (this machine: %.1f GFLOP/s in matrix products%s, %.1f "
                "GB/s in the other kernels; %s):\n",
                rates.productFlops / 1e9, bf16, rates.memoryBytes / 1e9,
                ratesNote.c_str());
  out += line;
  std::snprintf(line, sizeof line, "  %-20s %14s %14s %12s\n", "program",
                "products GFLOP", "other MB", "est. time");
  out += line;
  for (const plan::Program &prog : p.programs) {
    plan::Cost c = plan::programCost(p, prog);
    std::snprintf(line, sizeof line, "  %-20s %14.4g %14.4g %12s\n",
                  prog.name.c_str(), c.productFlops / 1e9, c.otherBytes / 1e6,
                  formatSeconds(plan::estimateSeconds(c, rates)).c_str());
    out += line;
  }
  JobEstimate e = estimateJob(job, p, rates);
  if (e.steps == 0)
    return out + "  (the training split is smaller than one step)\n";
  int64_t examples = p.batchSize * p.gradAccum;
  out += "  a step (" + std::to_string(examples) +
         " examples): " + formatSeconds(e.stepSeconds);
  if (e.evals)
    out += "; an evaluation: " + formatSeconds(e.evalSeconds);
  out += "\n  an epoch (" + std::to_string(e.stepsPerEpoch) +
         " steps): " + formatSeconds(e.firstEpochSeconds) + " of training";
  if (e.laterEpochSeconds < e.firstEpochSeconds)
    out += ", later epochs " + formatSeconds(e.laterEpochSeconds);
  out += "\n  the job: " + std::to_string(e.steps) + " steps" +
         (e.evals ? " and " + std::to_string(e.evals) + " evaluations" : "") +
         ", about " + formatSeconds(e.seconds) + "\n";
  if (e.cacheSavingSeconds > 0)
    out += "  the frozen-prefix cache saves about " +
           formatSeconds(e.cacheSavingSeconds) +
           " of that (the prefix runs in the first epoch only)\n";
  return out;
}
