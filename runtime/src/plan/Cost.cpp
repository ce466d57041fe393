//===- Cost.cpp - What a plan's programs cost to run ----------------------===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/plan/Cost.h"

using namespace ftc::plan;

namespace {

int64_t elements(const Plan &plan, int32_t id) {
  return plan.buffers[size_t(id)].numElements();
}

} // namespace

Cost ftc::plan::stepCost(const Plan &plan, const Step &step) {
  Cost c;
  if (step.args.empty())
    return c;
  if (int64_t k = ftc::plan::contractedDim(plan, step)) {
    // The first result holds the product: M·N (times the batch) elements.
    int64_t out = elements(plan, step.args[size_t(step.numInputs)]);
    c.productFlops = 2.0 * double(out) * double(k);
    if (plan.buffers[size_t(step.args[0])].dtype == DType::BF16)
      c.bf16ProductFlops = c.productFlops;
    if (step.kernel == "linear_bwd_weights" && step.args.size() > 3)
      c.otherBytes += double(plan.buffers[size_t(step.args[1])].bytes()); // db
    if (step.attrs.count("activation")) // the fused post-op's pass
      c.otherBytes += 2.0 * double(out) * 4;
    return c;
  }
  for (int32_t id : step.args)
    c.otherBytes += double(plan.buffers[size_t(id)].bytes());
  return c;
}

Cost ftc::plan::programCost(const Plan &plan, const Program &program) {
  Cost c;
  for (const Step &s : program.steps)
    c += stepCost(plan, s);
  return c;
}

double ftc::plan::estimateSeconds(const Cost &cost, const MachineRates &rates) {
  double t = 0;
  double bf16Rate =
      rates.bf16ProductFlops > 0 ? rates.bf16ProductFlops : rates.productFlops;
  if (rates.productFlops > 0)
    t += (cost.productFlops - cost.bf16ProductFlops) / rates.productFlops;
  if (bf16Rate > 0)
    t += cost.bf16ProductFlops / bf16Rate;
  if (rates.memoryBytes > 0)
    t += cost.otherBytes / rates.memoryBytes;
  return t;
}
