//===- PlanLayout.cpp - Blocked activation layouts -------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Which kernels take oneDNN's blocked nChw16c layout, and the choice of it:
// convolutions take it at every activation argument independently (oneDNN
// reorders whatever else it gets), as do the spatial sum of global pooling
// and its broadcast back; element-wise kernels, batch norms and max pooling
// when all their activation arguments share it. A group of buffers tied by such
// kernels becomes blocked when a convolution touches it and nothing that
// needs the plain layout does (average pooling, other reductions, reshapes,
// losses, a program's outputs), so a ResNet runs from its first convolution
// to its global pooling without a reorder.
//===----------------------------------------------------------------------===//

#include "ftc/plan/Plan.h"

#include <functional>
#include <numeric>
#include <set>

namespace ftc::plan {

const char *toString(Layout layout) {
  return layout == Layout::Blocked16 ? "nChw16c" : "plain";
}

namespace {

bool oneOf(const std::string &k, std::initializer_list<const char *> names) {
  for (const char *n : names)
    if (k == n)
      return true;
  return false;
}

} // namespace

LayoutRule layoutRule(const Plan &plan, const Step &step, size_t arg) {
  const std::string &k = step.kernel;
  size_t ins = size_t(step.numInputs);
  LayoutRule r;
  // Convolutions: the activations (not the weights), each on its own; a
  // depthwise weight gradient, which the CPU backend may compute itself,
  // with x and dy in one layout.
  if ((k == "conv2d" && (arg == 0 || arg == ins)) ||
      (k == "conv2d_bwd_data" && (arg == 0 || arg == ins))) {
    r.allowed = true;
    return r;
  }
  if (k == "conv2d_bwd_weights" && (arg == 0 || arg == 1)) {
    r.allowed = true;
    const std::vector<int64_t> &x = plan.buffers[size_t(step.args[0])].shape;
    if (x.size() == 4 && step.getInt("groups", 1) == x[1])
      r.group = 0;
    return r;
  }
  // Global average pooling's sum over H and W, and its gradient's
  // broadcast back: the 4-D side may be blocked (the other is [N, C]).
  auto spatialAxes = [&] {
    std::vector<int64_t> axes = step.getInts("axes");
    return axes == std::vector<int64_t>{2, 3};
  };
  if (k == "reduce_sum" && arg == 0 && spatialAxes() &&
      plan.buffers[size_t(step.args[0])].shape.size() == 4) {
    r.allowed = true;
    return r;
  }
  if (k == "broadcast" && arg == ins && spatialAxes() &&
      plan.buffers[size_t(step.args[arg])].shape.size() == 4) {
    r.allowed = true;
    return r;
  }
  // Max pooling: input, output and gradients in one layout.
  if (k == "max_pool2d" || k == "max_pool2d_bwd") {
    r.allowed = true;
    r.group = 0;
    return r;
  }
  // Element-wise over equal shapes: any layout, the same for all.
  if (oneOf(k, {"relu", "relu_bwd", "relu6", "relu6_bwd", "add", "scale"})) {
    for (int32_t id : step.args)
      if (plan.buffers[size_t(id)].shape !=
          plan.buffers[size_t(step.args[arg])].shape)
        return r; // a broadcast
    r.allowed = true;
    r.group = 0;
    return r;
  }
  // Batch norms: the activation arguments (not the per-channel ones).
  auto activations = [&](std::initializer_list<size_t> acts) {
    for (size_t a : acts)
      if (a == arg) {
        r.allowed = true;
        r.group = 0;
      }
  };
  if (k == "batch_norm_train")
    activations({0, ins});
  else if (k == "batch_norm_train_bwd")
    activations({0, 2, ins});
  else if (k == "batch_norm_inference")
    activations({0, ins});
  else if (k == "batch_norm_inference_bwd")
    activations({0, 4, ins});
  return r;
}

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
          conv[id] = true;
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
