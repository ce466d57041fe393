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
  UpdateScalars(const float *lr, const float *gradScale, double lrScale)
      : lr(lr), gradScale(gradScale), lrScale(lrScale) {}
  /// The single-tensor layout: grad, lr, step[, clip].
  explicit UpdateScalars(const KernelContext &ctx)
      : UpdateScalars(ctx.ins[1].f32(),
                      ctx.ins.size() > 3 ? ctx.ins[3].f32() : nullptr,
                      ctx.step.getFloat("lr_scale", 1.0)) {}
  float learningRate() const { return float(double(*lr) * lrScale); }
  float clip() const { return gradScale ? *gradScale : 1.0f; }
};

namespace {

/// SGD's per-step constants, shared by every tensor the step updates.
struct SgdStep {
  float lr, clip, momentum, take, wd;
  bool first, nesterov;
};

/// SGD on elements [begin, end) of one tensor (buf null without momentum).
void sgdRange(const SgdStep &k, const float *grad, float *param, float *buf,
              int64_t begin, int64_t end) {
  if (!buf) {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i)
      param[i] -= k.lr * (grad[i] * k.clip + k.wd * param[i]);
    return;
  }
  // PyTorch starts the momentum buffer as a copy of the first gradient.
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) {
    float g = grad[i] * k.clip + k.wd * param[i];
    float b = k.first ? g : k.momentum * buf[i] + k.take * g;
    buf[i] = b;
    param[i] -= k.lr * (k.nesterov ? g + k.momentum * b : b);
  }
}

/// AdamW's per-step constants, shared by every tensor the step updates.
struct AdamwStep {
  float clip, decay, b1, b2, c1, c2, stepSize, bc2Sqrt, eps;
};

void adamwRange(const AdamwStep &k, const float *grad, float *param,
                float *expAvg, float *expAvgSq, int64_t begin, int64_t end) {
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) {
    float g = grad[i] * k.clip;
    float p = param[i] * k.decay;
    float m = k.b1 * expAvg[i] + k.c1 * g;
    float v = k.b2 * expAvgSq[i] + k.c2 * g * g;
    expAvg[i] = m;
    expAvgSq[i] = v;
    param[i] = p - k.stepSize * (m / (std::sqrt(v) / k.bc2Sqrt + k.eps));
  }
}

/// The tensors of one update step: element counts, cut into chunks of at
/// most kChunk elements so that one parallel loop spreads a group of many
/// small tensors (biases, layer norms) over all threads. Element-wise
/// updates give the same result for any cut.
class Chunks {
public:
  explicit Chunks(const std::vector<int64_t> &sizes) {
    for (size_t t = 0; t < sizes.size(); ++t) {
      for (int64_t b = 0; b < sizes[t]; b += kChunk)
        chunks.push_back({t, b, std::min(sizes[t], b + kChunk)});
      total += sizes[t];
    }
  }
  size_t size() const { return chunks.size(); }
  /// fn(chunk, tensor, begin, end) over every chunk, in parallel when it
  /// pays.
  template <typename Fn> void forEach(Fn fn) const {
    int64_t n = int64_t(chunks.size());
#pragma omp parallel for if (total > kParallelMin)
    for (int64_t c = 0; c < n; ++c)
      fn(size_t(c), chunks[c].tensor, chunks[c].begin, chunks[c].end);
  }

private:
  static constexpr int64_t kChunk = 1 << 14;
  struct Chunk {
    size_t tensor;
    int64_t begin, end;
  };
  std::vector<Chunk> chunks;
  int64_t total = 0;
};

struct SgdHyper {
  float momentum, dampening, wd;
  bool nesterov;
  explicit SgdHyper(const plan::Step &s)
      : momentum(float(s.getFloat("momentum", 0))),
        dampening(float(s.getFloat("dampening", 0))),
        wd(float(s.getFloat("weight_decay", 0))),
        nesterov(s.getInt("nesterov", 0) != 0) {}
  SgdStep at(const UpdateScalars &scalars, int64_t step) const {
    return {scalars.learningRate(),
            scalars.clip(),
            momentum,
            1.f - dampening,
            wd,
            step == 1,
            nesterov};
  }
};

struct AdamwHyper {
  // torch.optim.AdamW defaults.
  double beta1, beta2, wd;
  float eps;
  explicit AdamwHyper(const plan::Step &s)
      : beta1(s.getFloat("beta1", 0.9)), beta2(s.getFloat("beta2", 0.999)),
        wd(s.getFloat("weight_decay", 1e-2)),
        eps(float(s.getFloat("eps", 1e-8))) {}
  AdamwStep at(const UpdateScalars &scalars, int64_t step) const {
    double lr = scalars.learningRate(), t = double(step);
    return {scalars.clip(),
            float(1.0 - lr * wd),
            float(beta1),
            float(beta2),
            float(1.0 - beta1),
            float(1.0 - beta2),
            float(lr / (1.0 - std::pow(beta1, t))),
            float(std::sqrt(1.0 - std::pow(beta2, t))),
            eps};
  }
};

/// The scalar inputs of a group step: grads..., lr, step[, clip].
struct GroupScalars {
  size_t tensors;
  const float *step;
  UpdateScalars scalars;
  explicit GroupScalars(const KernelContext &ctx)
      : tensors(size_t(ctx.step.getInt("tensors", 0))),
        step(ctx.ins[tensors + 1].f32()),
        scalars(ctx.ins[tensors].f32(),
                ctx.ins.size() > tensors + 2 ? ctx.ins[tensors + 2].f32()
                                             : nullptr,
                ctx.step.getFloat("lr_scale", 1.0)) {}
};

std::vector<int64_t> sizesOf(const KernelContext &ctx, size_t tensors) {
  std::vector<int64_t> sizes;
  for (size_t t = 0; t < tensors; ++t)
    sizes.push_back(ctx.ins[t].numel());
  return sizes;
}

} // namespace

std::unique_ptr<Kernel> makeSgdUpdate(const KernelContext &ctx) {
  const float *grad = ctx.ins[0].f32();
  StepSource stepSource(ctx);
  UpdateScalars scalars(ctx);
  float *param = ctx.outs[0].f32();
  size_t stateOuts = ctx.outs.size() - (stepSource.own ? 1 : 0);
  float *buf = stateOuts == 2 ? ctx.outs[1].f32() : nullptr;
  Chunks chunks({ctx.ins[0].numel()});
  SgdHyper hyper(ctx.step);
  return std::make_unique<FnKernel>([=] {
    SgdStep k = hyper.at(scalars, stepSource.next());
    chunks.forEach([&](size_t, size_t, int64_t begin, int64_t end) {
      sgdRange(k, grad, param, buf, begin, end);
    });
  });
}

std::unique_ptr<Kernel> makeSgdGroup(const KernelContext &ctx) {
  GroupScalars g(ctx);
  std::vector<const float *> grads;
  std::vector<float *> params, bufs;
  for (size_t t = 0; t < g.tensors; ++t) {
    grads.push_back(ctx.ins[t].f32());
    params.push_back(ctx.outs[t].f32());
    bufs.push_back(ctx.outs.size() == 2 * g.tensors
                       ? ctx.outs[g.tensors + t].f32()
                       : nullptr);
  }
  Chunks chunks(sizesOf(ctx, g.tensors));
  SgdHyper hyper(ctx.step);
  return std::make_unique<FnKernel>([=] {
    SgdStep k = hyper.at(g.scalars, readStep(g.step));
    chunks.forEach([&](size_t, size_t t, int64_t begin, int64_t end) {
      sgdRange(k, grads[t], params[t], bufs[t], begin, end);
    });
  });
}

std::unique_ptr<Kernel> makeAdamwUpdate(const KernelContext &ctx) {
  const float *grad = ctx.ins[0].f32();
  StepSource stepSource(ctx);
  UpdateScalars scalars(ctx);
  float *param = ctx.outs[0].f32(), *expAvg = ctx.outs[1].f32(),
        *expAvgSq = ctx.outs[2].f32();
  Chunks chunks({ctx.ins[0].numel()});
  AdamwHyper hyper(ctx.step);
  return std::make_unique<FnKernel>([=] {
    AdamwStep k = hyper.at(scalars, stepSource.next());
    chunks.forEach([&](size_t, size_t, int64_t begin, int64_t end) {
      adamwRange(k, grad, param, expAvg, expAvgSq, begin, end);
    });
  });
}

std::unique_ptr<Kernel> makeAdamwGroup(const KernelContext &ctx) {
  GroupScalars g(ctx);
  size_t n = g.tensors;
  std::vector<const float *> grads;
  std::vector<float *> params, expAvgs, expAvgSqs;
  for (size_t t = 0; t < n; ++t) {
    grads.push_back(ctx.ins[t].f32());
    params.push_back(ctx.outs[t].f32());
    expAvgs.push_back(ctx.outs[n + t].f32());
    expAvgSqs.push_back(ctx.outs[2 * n + t].f32());
  }
  Chunks chunks(sizesOf(ctx, n));
  AdamwHyper hyper(ctx.step);
  return std::make_unique<FnKernel>([=] {
    AdamwStep k = hyper.at(g.scalars, readStep(g.step));
    chunks.forEach([&](size_t, size_t t, int64_t begin, int64_t end) {
      adamwRange(k, grads[t], params[t], expAvgs[t], expAvgSqs[t], begin, end);
    });
  });
}

std::unique_ptr<Kernel> makeGradNormScale(const KernelContext &ctx) {
  std::vector<const float *> grads;
  std::vector<int64_t> sizes;
  for (const Arg &a : ctx.ins) {
    grads.push_back(a.f32());
    sizes.push_back(a.numel());
  }
  Chunks chunks(sizes);
  std::vector<double> partial(chunks.size());
  float *out = ctx.outs[0].f32();
  double maxNorm = ctx.step.getFloat("max_norm", 1.0);
  return std::make_unique<FnKernel>([=]() mutable {
    // Sums of squares in double per fixed chunk (vectorised in a fixed lane
    // order), then the chunks in order: the clip factor does not depend on
    // the thread count.
    chunks.forEach([&](size_t index, size_t t, int64_t begin, int64_t end) {
      const float *g = grads[t];
      double sq = 0;
#pragma omp simd reduction(+ : sq)
      for (int64_t i = begin; i < end; ++i)
        sq += double(g[i]) * double(g[i]);
      partial[index] = sq;
    });
    double sq = 0;
    for (double p : partial)
      sq += p;
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

/// The kernels of the runtime contract that this file implements.
void registerOptimizerKernels(KernelTable &table) {
  table.add("sgd_update", makeSgdUpdate);
  table.add("sgd_group", makeSgdGroup);
  table.add("adamw_update", makeAdamwUpdate);
  table.add("adamw_group", makeAdamwGroup);
  table.add("grad_norm_scale", makeGradNormScale);
  table.add("accumulate_grad", makeAccumulateGrad);
}

} // namespace ftc::rt::cpu
