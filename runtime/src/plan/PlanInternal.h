//===- PlanInternal.h - What the plan library's files share -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_RUNTIME_PLAN_PLANINTERNAL_H
#define FTC_RUNTIME_PLAN_PLANINTERNAL_H

#include "ftc/plan/Plan.h"

#include <cstdio>
#include <string>
#include <vector>

namespace ftc::plan::detail {

/// Where a kernel takes the blocked layout (the `layout` column of the
/// kernel table in PlanVerify.cpp; docs/runtime-contract.md, "Layouts").
/// Each says it for argument `arg` (inputs then outputs) of `step`.
using LayoutFn = LayoutRule (*)(const Plan &, const Step &, size_t arg);
/// Convolutions: each activation on its own (a depthwise weight gradient's
/// x and dy together).
LayoutRule convLayout(const Plan &plan, const Step &step, size_t arg);
/// Same-shape element-wise kernels: every argument, in one layout.
LayoutRule elementwiseLayout(const Plan &plan, const Step &step, size_t arg);
/// Batch norms: the activations (not the per-channel arguments), together.
LayoutRule batchNormLayout(const Plan &plan, const Step &step, size_t arg);
/// Max pooling: every argument, in one layout.
LayoutRule poolLayout(const Plan &plan, const Step &step, size_t arg);
/// reduce_sum / broadcast over axes [2, 3]: the 4-D side.
LayoutRule spatialReduceLayout(const Plan &plan, const Step &step, size_t arg);

inline std::string shapeStr(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

inline std::string quoted(const std::string &s) { return "\"" + s + "\""; }

inline std::string fmtDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

inline const char *toString(InitKind init) {
  switch (init) {
  case InitKind::Zeros:
    return "zeros";
  case InitKind::Ones:
    return "ones";
  case InitKind::Normal:
    return "normal";
  case InitKind::Uniform:
    return "uniform";
  }
  return "?";
}

// Upper bounds that keep every size computation far from int64 overflow.
constexpr int64_t kMaxDim = int64_t(1) << 40;
constexpr int64_t kMaxBytes = int64_t(1) << 48;
constexpr size_t kMaxRank = 12; // oneDNN's DNNL_MAX_NDIMS

/// The `tensors` attribute of a grouped step (0 when absent or invalid).
inline size_t groupSize(const Step &step) {
  int64_t t = step.getInt("tensors", 0);
  return t > 0 && t < (int64_t(1) << 24) ? size_t(t) : 0;
}

} // namespace ftc::plan::detail

#endif // FTC_RUNTIME_PLAN_PLANINTERNAL_H
