//===- OptimizerKernels.cpp - SGD and AdamW parameter updates ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Element-wise updates that follow torch.optim.SGD and torch.optim.AdamW
// (single-tensor path) operation by operation, so that a plan's training run
// can be compared with PyTorch's. Learning rate and step count are read from
// rank-0 input buffers at run time: a schedule never needs a new plan.
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "ftc/runtime/Error.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace ftc::rt::cpu {

namespace {

// Steps count from 1; anything else would divide by zero in AdamW's bias
// correction, so reject it in both optimizers.
int64_t readStep(const float *step) {
  float s = *step;
  if (!(s >= 1) || !std::isfinite(s) || s != std::floor(s))
    throw Error("the optimizer step count is " + std::to_string(s) +
                ", expected an integer >= 1");
  return int64_t(s);
}

constexpr int64_t kParallelMin = 1 << 15;

/// The step an update uses: with `own_step`, the parameter's own counter
/// (its last output, advanced here, as PyTorch's per-parameter
/// state['step']); else the trainer's global step input.
struct StepSource {
  const float *global;
  float *own;
  StepSource(const KernelContext &ctx)
      : global(ctx.ins[2].f32()),
        own(ctx.step.getInt("own_step", 0) ? ctx.outs.back().f32() : nullptr) {}
  int64_t next() const {
    if (!own)
      return readStep(global);
    *own += 1.f;
    return readStep(own);
  }
};

} // namespace

/// The effective learning rate and gradient multiplier of one update: the
/// scheduled lr times the parameter group's `lr_scale` (layer-wise decay),
/// and the global-norm clipping factor when the step has one.
struct UpdateScalars {
  const float *lr, *gradScale;
  double lrScale;
  UpdateScalars(const KernelContext &ctx)
      : lr(ctx.ins[1].f32()),
        gradScale(ctx.ins.size() > 3 ? ctx.ins[3].f32() : nullptr),
        lrScale(ctx.step.getFloat("lr_scale", 1.0)) {}
  float learningRate() const { return float(double(*lr) * lrScale); }
  float clip() const { return gradScale ? *gradScale : 1.0f; }
};

std::unique_ptr<Kernel> makeSgdUpdate(const KernelContext &ctx) {
  const float *grad = ctx.ins[0].f32();
  StepSource stepSource(ctx);
  UpdateScalars scalars(ctx);
  float *param = ctx.outs[0].f32();
  size_t stateOuts = ctx.outs.size() - (stepSource.own ? 1 : 0);
  float *buf = stateOuts == 2 ? ctx.outs[1].f32() : nullptr;
  int64_t n = ctx.ins[0].numel();
  const plan::Step &s = ctx.step;
  float momentum = float(s.getFloat("momentum", 0));
  float dampening = float(s.getFloat("dampening", 0));
  float wd = float(s.getFloat("weight_decay", 0));
  bool nesterov = s.getInt("nesterov", 0) != 0;
  return std::make_unique<FnKernel>([=] {
    float lr = scalars.learningRate(), clip = scalars.clip();
    bool first = stepSource.next() == 1;
    if (!buf) {
#pragma omp parallel for simd if (n > kParallelMin)
      for (int64_t i = 0; i < n; ++i)
        param[i] -= lr * (grad[i] * clip + wd * param[i]);
      return;
    }
    // PyTorch starts the momentum buffer as a copy of the first gradient.
    float take = 1.f - dampening;
#pragma omp parallel for simd if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) {
      float g = grad[i] * clip + wd * param[i];
      float b = first ? g : momentum * buf[i] + take * g;
      buf[i] = b;
      param[i] -= lr * (nesterov ? g + momentum * b : b);
    }
  });
}

std::unique_ptr<Kernel> makeAdamwUpdate(const KernelContext &ctx) {
  const float *grad = ctx.ins[0].f32();
  StepSource stepSource(ctx);
  UpdateScalars scalars(ctx);
  float *param = ctx.outs[0].f32(), *expAvg = ctx.outs[1].f32(),
        *expAvgSq = ctx.outs[2].f32();
  int64_t n = ctx.ins[0].numel();
  const plan::Step &s = ctx.step;
  // torch.optim.AdamW defaults.
  double beta1 = s.getFloat("beta1", 0.9), beta2 = s.getFloat("beta2", 0.999);
  float eps = float(s.getFloat("eps", 1e-8));
  double wd = s.getFloat("weight_decay", 1e-2);
  return std::make_unique<FnKernel>([=] {
    double lr = scalars.learningRate(), t = double(stepSource.next());
    float clip = scalars.clip();
    float decay = float(1.0 - lr * wd);
    float b1 = float(beta1), b2 = float(beta2);
    float c1 = float(1.0 - beta1), c2 = float(1.0 - beta2);
    float stepSize = float(lr / (1.0 - std::pow(beta1, t)));
    float bc2Sqrt = float(std::sqrt(1.0 - std::pow(beta2, t)));
#pragma omp parallel for simd if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i) {
      float g = grad[i] * clip;
      float p = param[i] * decay;
      float m = b1 * expAvg[i] + c1 * g;
      float v = b2 * expAvgSq[i] + c2 * g * g;
      expAvg[i] = m;
      expAvgSq[i] = v;
      param[i] = p - stepSize * (m / (std::sqrt(v) / bc2Sqrt + eps));
    }
  });
}

std::unique_ptr<Kernel> makeGradNormScale(const KernelContext &ctx) {
  std::vector<std::pair<const float *, int64_t>> grads;
  for (const Arg &a : ctx.ins)
    grads.push_back({a.f32(), a.numel()});
  float *out = ctx.outs[0].f32();
  double maxNorm = ctx.step.getFloat("max_norm", 1.0);
  return std::make_unique<FnKernel>([=] {
    // Sequential sum in double: the clip factor must not depend on threads.
    double sq = 0;
    for (auto [g, n] : grads)
      for (int64_t i = 0; i < n; ++i)
        sq += double(g[i]) * double(g[i]);
    // torch.nn.utils.clip_grad_norm_: clip_coef = max_norm / (norm + 1e-6),
    // clamped to 1.
    *out = float(std::min(1.0, maxNorm / (std::sqrt(sq) + 1e-6)));
  });
}

std::unique_ptr<Kernel> makeAccumulateGrad(const KernelContext &ctx) {
  const float *grad = ctx.ins[0].f32();
  const float *keep = ctx.ins[1].f32();
  float *acc = ctx.outs[0].f32();
  int64_t n = ctx.ins[0].numel();
  return std::make_unique<FnKernel>([=] {
    // Overwrite on the first micro-batch: the accumulator never needs a
    // separate zeroing pass and stale values can never leak in.
    if (*keep != 0.f) {
#pragma omp parallel for simd if (n > 65536)
      for (int64_t i = 0; i < n; ++i)
        acc[i] += grad[i];
    } else {
      std::copy(grad, grad + n, acc);
    }
  });
}

} // namespace ftc::rt::cpu
