//===- PlanLayout.cpp - Blocked activation layouts -------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Which kernels take oneDNN's blocked nChw16c layout (the rules the kernel
// table in PlanVerify.cpp names for each kernel), and the choice of it:
// convolutions take it at every activation argument independently (oneDNN
// reorders whatever else it gets), as do the spatial sum of global pooling
// and its broadcast back; element-wise kernels, batch norms and max pooling
// when all their activation arguments share it. A group of buffers tied by such
// kernels becomes blocked when a convolution touches it and nothing that
// needs the plain layout does (average pooling, other reductions, reshapes,
// losses, a program's outputs), so a ResNet runs from its first convolution
// to its global pooling without a reorder.
//===----------------------------------------------------------------------===//

#include "PlanInternal.h"

#include <functional>
#include <numeric>

namespace ftc::plan {

const char *toString(Layout layout) {
  return layout == Layout::Blocked16 ? "nChw16c" : "plain";
}

namespace detail {

LayoutRule convLayout(const Plan &plan, const Step &step, size_t arg) {
  size_t ins = size_t(step.numInputs);
  LayoutRule r;
  if (step.kernel == "conv2d_bwd_weights") {
    // x and dy; a depthwise weight gradient (which the CPU backend may
    // compute itself) reads them in one layout.
    if (arg > 1)
      return r;
    r.allowed = true;
    const std::vector<int64_t> &x = plan.buffers[size_t(step.args[0])].shape;
    if (x.size() == 4 && step.getInt("groups", 1) == x[1])
      r.group = 0;
    return r;
  }
  // conv2d (x, y) and conv2d_bwd_data (dy, dx): not the weights.
  r.allowed = arg == 0 || arg == ins;
  return r;
}

LayoutRule elementwiseLayout(const Plan &plan, const Step &step, size_t arg) {
  LayoutRule r;
  for (int32_t id : step.args)
    if (plan.buffers[size_t(id)].shape !=
        plan.buffers[size_t(step.args[arg])].shape)
      return r; // a broadcast
  r.allowed = true;
  r.group = 0;
  return r;
}

LayoutRule batchNormLayout(const Plan &plan, const Step &step, size_t arg) {
  // The activations have the shape of x; gamma, beta and the statistics
  // are [C].
  LayoutRule r;
  if (plan.buffers[size_t(step.args[arg])].shape ==
      plan.buffers[size_t(step.args[0])].shape) {
    r.allowed = true;
    r.group = 0;
  }
  return r;
}

LayoutRule poolLayout(const Plan &, const Step &, size_t) {
  LayoutRule r;
  r.allowed = true;
  r.group = 0;
  return r;
}

LayoutRule spatialReduceLayout(const Plan &plan, const Step &step, size_t arg) {
  LayoutRule r;
  r.allowed = step.getInts("axes") == std::vector<int64_t>{2, 3} &&
              plan.buffers[size_t(step.args[arg])].shape.size() == 4;
  return r;
}

} // namespace detail

int64_t assignLayouts(Plan &plan) {
  size_t n = plan.buffers.size();
  std::vector<size_t> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  std::function<size_t(size_t)> find = [&](size_t x) {
    return parent[x] == x ? x : parent[x] = find(parent[x]);
  };
  // Candidates: [N, C, H, W] f32 temporaries with C a multiple of 16.
  std::vector<bool> ok(n, false), conv(n, false);
  for (size_t i = 0; i < n; ++i) {
    const Buffer &b = plan.buffers[i];
    ok[i] = b.kind == BufferKind::Temp && b.dtype == DType::F32 &&
            b.shape.size() == 4 && b.shape[1] % 16 == 0;
  }
  for (const Program &prog : plan.programs) {
    for (auto &[role, id] : prog.outputs)
      ok[size_t(id)] = false; // read by the trainer as they are
    for (const Step &s : prog.steps) {
      int32_t groupRoot = -1;
      for (size_t a = 0; a < s.args.size(); ++a) {
        size_t id = size_t(s.args[a]);
        LayoutRule r = layoutRule(plan, s, a);
        if (!r.allowed) {
          ok[id] = false;
          continue;
        }
        if (s.kernel.rfind("conv2d", 0) == 0)
          conv[id] = true; // a convolution touches it: worth blocking
        if (r.group < 0)
          continue;
        if (groupRoot < 0)
          groupRoot = int32_t(id);
        else
          parent[find(id)] = find(size_t(groupRoot));
      }
    }
  }
  // A group is blocked when all of it may be and a convolution touches it.
  std::vector<bool> groupOk(n, true), groupConv(n, false);
  for (size_t i = 0; i < n; ++i) {
    size_t g = find(i);
    groupOk[g] = groupOk[g] && ok[i];
    groupConv[g] = groupConv[g] || conv[i];
  }
  int64_t blocked = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t g = find(i);
    bool b = ok[i] && groupOk[g] && groupConv[g];
    plan.buffers[i].layout = b ? Layout::Blocked16 : Layout::Plain;
    blocked += b;
  }
  return blocked;
}

} // namespace ftc::plan
