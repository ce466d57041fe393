//===- Cost.h - What a plan's programs cost to run --------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Counts, per program, the floating-point operations of the matrix products
// (compute-bound) and the bytes the other kernels move (memory-bound), and
// turns them into seconds with a machine's measured rates. The estimate
// `ftc plan` and `ftc run` print before anything runs.
//===----------------------------------------------------------------------===//
#ifndef FTC_PLAN_COST_H
#define FTC_PLAN_COST_H

#include "ftc/plan/Plan.h"

namespace ftc::plan {

struct Cost {
  double productFlops = 0;     // 2·M·N·K summed over the products
  double bf16ProductFlops = 0; // the part on bf16 operands (mixed precision)
  double otherBytes = 0;       // operands and results of every other kernel
  Cost &operator+=(const Cost &o) {
    productFlops += o.productFlops;
    bf16ProductFlops += o.bf16ProductFlops;
    otherBytes += o.otherBytes;
    return *this;
  }
};

/// What this machine does per second: measured, not looked up.
struct MachineRates {
  double productFlops = 0; // the CPU backend's matmul on mid-size shapes
  double memoryBytes = 0;  // an element-wise kernel on large buffers
  /// The same products on bf16 operands; 0 where not measured (no native
  /// bf16): such products are then counted at the f32 rate.
  double bf16ProductFlops = 0;
};

Cost stepCost(const Plan &plan, const Step &step);
Cost programCost(const Plan &plan, const Program &program);
/// Seconds for one run of work `cost` at `rates`.
double estimateSeconds(const Cost &cost, const MachineRates &rates);

} // namespace ftc::plan

#endif // FTC_PLAN_COST_H
