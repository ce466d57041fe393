//===- BatchNormKernels.cpp - Batch normalisation ---------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Hand-written over NCHW (channel axis 1; any number of trailing axes): the
// statistics of a channel are accumulated in double in one pass over values
// shifted by the channel's first one (the backward adds its gradient sums
// to the same pass), which keeps them within float rounding of PyTorch's
// while reading the activations once. Channels are independent
// and each is summed in a fixed order, so results do not depend on the
// thread count.
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <algorithm>
#include <cmath>

namespace ftc::rt::cpu {

namespace {

/// x viewed as [outer = N, channels, inner = H·W…].
struct ChannelView {
  int64_t outer, channels, inner;

  explicit ChannelView(const std::vector<int64_t> &shape)
      : outer(shape[0]), channels(shape[1]),
        inner(shapeProduct(shape, 2, shape.size())) {}
  int64_t count() const { return outer * inner; }
  /// Calls f(plane) for every contiguous run of channel c's elements.
  template <typename F> void forEach(int64_t c, F f) const {
    for (int64_t n = 0; n < outer; ++n)
      f((n * channels + c) * inner);
  }
};

struct Stats {
  double mean, var;
};

Stats channelStats(const float *x, const ChannelView &v, int64_t c) {
  // One pass: sums of (x − x0) and its square in double, shifted by the
  // channel's first value so that a large mean does not cancel the
  // variance away.
  double shift = x[c * v.inner], sum = 0, sq = 0;
  v.forEach(c, [&](int64_t at) {
    const float *p = x + at;
#pragma omp simd reduction(+ : sum, sq)
    for (int64_t i = 0; i < v.inner; ++i) {
      double d = double(p[i]) - shift;
      sum += d;
      sq += d * d;
    }
  });
  double n = double(v.count()), m = sum / n;
  return {shift + m, std::max(sq / n - m * m, 0.0)};
}

/// y = x · scale + shift over channel c.
void affine(const float *x, float *y, const ChannelView &v, int64_t c,
            double scale, double shift) {
  v.forEach(c, [&](int64_t at) {
    const float *p = x + at;
    float *q = y + at;
#pragma omp simd
    for (int64_t i = 0; i < v.inner; ++i)
      q[i] = float(double(p[i]) * scale + shift);
  });
}

/// Σ dy and Σ dy · (x − mean) over channel c.
std::pair<double, double> gradSums(const float *x, const float *dy,
                                   const ChannelView &v, int64_t c,
                                   double mean) {
  double sumDy = 0, sumDyXc = 0;
  v.forEach(c, [&](int64_t at) {
    const float *p = x + at, *g = dy + at;
#pragma omp simd reduction(+ : sumDy, sumDyXc)
    for (int64_t i = 0; i < v.inner; ++i) {
      sumDy += g[i];
      sumDyXc += double(g[i]) * (double(p[i]) - mean);
    }
  });
  return {sumDy, sumDyXc};
}

/// The batch statistics and the gradient sums of channel c in one pass:
/// Σ dy·(x − μ) = Σ dy·(x − x0) − (μ − x0)·Σ dy.
struct TrainGradSums {
  Stats stats;
  double sumDy, sumDyXc;
};
TrainGradSums trainGradSums(const float *x, const float *dy,
                            const ChannelView &v, int64_t c) {
  double shift = x[c * v.inner], sum = 0, sq = 0, sumDy = 0, sumDyX = 0;
  v.forEach(c, [&](int64_t at) {
    const float *p = x + at, *g = dy + at;
#pragma omp simd reduction(+ : sum, sq, sumDy, sumDyX)
    for (int64_t i = 0; i < v.inner; ++i) {
      double d = double(p[i]) - shift;
      sum += d;
      sq += d * d;
      sumDy += g[i];
      sumDyX += double(g[i]) * d;
    }
  });
  double n = double(v.count()), m = sum / n;
  return {
      {shift + m, std::max(sq / n - m * m, 0.0)}, sumDy, sumDyX - m * sumDy};
}

/// x in oneDNN's blocked nChw16c layout: [N, C/16, H·W, 16]. Sixteen
/// channels (one block) are processed together, one lane each, so every
/// pass reads whole cache lines; each lane sums in the order of the plain
/// kernels (example, then position).
constexpr int64_t kLanes = 16;
struct BlockView {
  int64_t outer, blocks, inner;

  explicit BlockView(const std::vector<int64_t> &shape)
      : outer(shape[0]), blocks(shape[1] / kLanes),
        inner(shapeProduct(shape, 2, shape.size())) {}
  double count() const { return double(outer * inner); }
  /// Calls f(run) for the start of block b's run in every example.
  template <typename F> void forEach(int64_t b, F f) const {
    for (int64_t n = 0; n < outer; ++n)
      f((n * blocks + b) * inner * kLanes);
  }
};

/// Per-lane sums of one block: of x − x0, its square, and with `dy` the
/// sums of dy and dy·(x − x0) (x0: the lane's first value).
struct BlockSums {
  double shift[kLanes], sum[kLanes] = {}, sq[kLanes] = {}, dy[kLanes] = {},
                        dyx[kLanes] = {};
};
BlockSums blockSums(const float *x, const float *dy, const BlockView &v,
                    int64_t b) {
  BlockSums s;
  const float *first = x + b * v.inner * kLanes;
  for (int64_t l = 0; l < kLanes; ++l)
    s.shift[l] = first[l];
  v.forEach(b, [&](int64_t at) {
    for (int64_t i = 0; i < v.inner; ++i) {
      const float *p = x + at + i * kLanes;
      const float *g = dy ? dy + at + i * kLanes : nullptr;
#pragma omp simd
      for (int64_t l = 0; l < kLanes; ++l) {
        double d = double(p[l]) - s.shift[l];
        s.sum[l] += d;
        s.sq[l] += d * d;
        if (g) {
          s.dy[l] += g[l];
          s.dyx[l] += double(g[l]) * d;
        }
      }
    }
  });
  return s;
}

/// y = x · scale[l] + shift[l] over block b.
void blockAffine(const float *x, float *y, const BlockView &v, int64_t b,
                 const double *scale, const double *shift) {
  v.forEach(b, [&](int64_t at) {
    for (int64_t i = 0; i < v.inner; ++i) {
      const float *p = x + at + i * kLanes;
      float *q = y + at + i * kLanes;
#pragma omp simd
      for (int64_t l = 0; l < kLanes; ++l)
        q[l] = float(double(p[l]) * scale[l] + shift[l]);
    }
  });
}

bool parallel(const BlockView &v) {
  return v.blocks > 1 && v.count() * double(v.blocks * kLanes) > kParallelMin;
}

bool isBlocked(const Arg &a) {
  return a.buf->layout == plan::Layout::Blocked16;
}

bool parallel(const ChannelView &v) {
  return v.channels > 1 && v.count() * v.channels > kParallelMin;
}

} // namespace

/// batch_norm_train: x, gamma, beta -> y, running_mean, running_var (the
/// last two updated in place, as torch.nn.BatchNorm2d in training).
std::unique_ptr<Kernel> makeBatchNormTrain(const KernelContext &ctx) {
  const float *x = ctx.ins[0].f32(), *gamma = ctx.ins[1].f32(),
              *beta = ctx.ins[2].f32();
  float *y = ctx.outs[0].f32(), *runMean = ctx.outs[1].f32(),
        *runVar = ctx.outs[2].f32();
  double eps = ctx.step.getFloat("eps", 1e-5),
         momentum = ctx.step.getFloat("momentum", 0.1);
  if (isBlocked(ctx.ins[0])) {
    BlockView v(ctx.ins[0].shape());
    return std::make_unique<FnKernel>([=] {
      double n = v.count(), unbias = n > 1 ? n / (n - 1) : 1.0;
#pragma omp parallel for if (parallel(v))
      for (int64_t b = 0; b < v.blocks; ++b) {
        BlockSums s = blockSums(x, nullptr, v, b);
        double scale[kLanes], shift[kLanes];
        for (int64_t l = 0; l < kLanes; ++l) {
          int64_t c = b * kLanes + l;
          double m = s.sum[l] / n, mean = s.shift[l] + m,
                 var = std::max(s.sq[l] / n - m * m, 0.0);
          scale[l] = gamma[c] / std::sqrt(var + eps);
          shift[l] = beta[c] - mean * scale[l];
          runMean[c] = float((1 - momentum) * runMean[c] + momentum * mean);
          runVar[c] =
              float((1 - momentum) * runVar[c] + momentum * var * unbias);
        }
        blockAffine(x, y, v, b, scale, shift);
      }
    });
  }
  ChannelView v(ctx.ins[0].shape());
  return std::make_unique<FnKernel>([=] {
    double n = double(v.count());
    // PyTorch's unbiased variance of a single value is undefined; the
    // compiler rejects such a batch, so n > 1 here.
    double unbias = n > 1 ? n / (n - 1) : 1.0;
#pragma omp parallel for if (parallel(v))
    for (int64_t c = 0; c < v.channels; ++c) {
      Stats s = channelStats(x, v, c);
      double scale = gamma[c] / std::sqrt(s.var + eps);
      affine(x, y, v, c, scale, beta[c] - s.mean * scale);
      runMean[c] = float((1 - momentum) * runMean[c] + momentum * s.mean);
      runVar[c] = float((1 - momentum) * runVar[c] + momentum * s.var * unbias);
    }
  });
}

/// batch_norm_train_bwd: x, gamma, dy -> dx, dgamma, dbeta.
std::unique_ptr<Kernel> makeBatchNormTrainBwd(const KernelContext &ctx) {
  const float *x = ctx.ins[0].f32(), *gamma = ctx.ins[1].f32(),
              *dy = ctx.ins[2].f32();
  float *dx = ctx.outs[0].f32(), *dgamma = ctx.outs[1].f32(),
        *dbeta = ctx.outs[2].f32();
  double eps = ctx.step.getFloat("eps", 1e-5);
  if (isBlocked(ctx.ins[0])) {
    BlockView v(ctx.ins[0].shape());
    return std::make_unique<FnKernel>([=] {
      double n = v.count();
#pragma omp parallel for if (parallel(v))
      for (int64_t b = 0; b < v.blocks; ++b) {
        BlockSums s = blockSums(x, dy, v, b);
        // dx = k·(dy − mean(dy) − (x − μ)·proj), per lane.
        double k[kLanes], meanDy[kLanes], proj[kLanes], mean[kLanes];
        for (int64_t l = 0; l < kLanes; ++l) {
          int64_t c = b * kLanes + l;
          double m = s.sum[l] / n, var = std::max(s.sq[l] / n - m * m, 0.0);
          double rstd = 1.0 / std::sqrt(var + eps);
          double sumDyXc = s.dyx[l] - m * s.dy[l];
          dbeta[c] = float(s.dy[l]);
          dgamma[c] = float(sumDyXc * rstd);
          k[l] = gamma[c] * rstd;
          meanDy[l] = s.dy[l] / n;
          proj[l] = sumDyXc * rstd * rstd / n;
          mean[l] = s.shift[l] + m;
        }
        v.forEach(b, [&](int64_t at) {
          for (int64_t i = 0; i < v.inner; ++i) {
            const float *p = x + at + i * kLanes, *g = dy + at + i * kLanes;
            float *q = dx + at + i * kLanes;
#pragma omp simd
            for (int64_t l = 0; l < kLanes; ++l)
              q[l] = float(k[l] * (double(g[l]) - meanDy[l] -
                                   (double(p[l]) - mean[l]) * proj[l]));
          }
        });
      }
    });
  }
  ChannelView v(ctx.ins[0].shape());
  return std::make_unique<FnKernel>([=] {
    double n = double(v.count());
#pragma omp parallel for if (parallel(v))
    for (int64_t c = 0; c < v.channels; ++c) {
      auto [s, sumDy, sumDyXc] = trainGradSums(x, dy, v, c);
      double rstd = 1.0 / std::sqrt(s.var + eps);
      dbeta[c] = float(sumDy);
      dgamma[c] = float(sumDyXc * rstd);
      // dx = γ·rstd·(dy − mean(dy) − x̂·mean(dy·x̂)).
      double k = gamma[c] * rstd, meanDy = sumDy / n,
             proj = sumDyXc * rstd * rstd / n;
      v.forEach(c, [&](int64_t at) {
        const float *p = x + at, *g = dy + at;
        float *q = dx + at;
#pragma omp simd
        for (int64_t i = 0; i < v.inner; ++i)
          q[i] = float(
              k * (double(g[i]) - meanDy - (double(p[i]) - s.mean) * proj));
      });
    }
  });
}

/// batch_norm_inference: x, gamma, beta, running_mean, running_var -> y.
std::unique_ptr<Kernel> makeBatchNormInference(const KernelContext &ctx) {
  const float *x = ctx.ins[0].f32(), *gamma = ctx.ins[1].f32(),
              *beta = ctx.ins[2].f32(), *mean = ctx.ins[3].f32(),
              *var = ctx.ins[4].f32();
  float *y = ctx.outs[0].f32();
  double eps = ctx.step.getFloat("eps", 1e-5);
  if (isBlocked(ctx.ins[0])) {
    BlockView v(ctx.ins[0].shape());
    return std::make_unique<FnKernel>([=] {
#pragma omp parallel for if (parallel(v))
      for (int64_t b = 0; b < v.blocks; ++b) {
        double scale[kLanes], shift[kLanes];
        for (int64_t l = 0; l < kLanes; ++l) {
          int64_t c = b * kLanes + l;
          scale[l] = gamma[c] / std::sqrt(double(var[c]) + eps);
          shift[l] = beta[c] - mean[c] * scale[l];
        }
        blockAffine(x, y, v, b, scale, shift);
      }
    });
  }
  ChannelView v(ctx.ins[0].shape());
  return std::make_unique<FnKernel>([=] {
#pragma omp parallel for if (parallel(v))
    for (int64_t c = 0; c < v.channels; ++c) {
      double scale = gamma[c] / std::sqrt(double(var[c]) + eps);
      affine(x, y, v, c, scale, beta[c] - mean[c] * scale);
    }
  });
}

/// batch_norm_inference_bwd: x, gamma, running_mean, running_var, dy ->
/// dx, dgamma, dbeta.
std::unique_ptr<Kernel> makeBatchNormInferenceBwd(const KernelContext &ctx) {
  const float *x = ctx.ins[0].f32(), *gamma = ctx.ins[1].f32(),
              *mean = ctx.ins[2].f32(), *var = ctx.ins[3].f32(),
              *dy = ctx.ins[4].f32();
  float *dx = ctx.outs[0].f32(), *dgamma = ctx.outs[1].f32(),
        *dbeta = ctx.outs[2].f32();
  double eps = ctx.step.getFloat("eps", 1e-5);
  if (isBlocked(ctx.ins[0])) {
    BlockView v(ctx.ins[0].shape());
    return std::make_unique<FnKernel>([=] {
#pragma omp parallel for if (parallel(v))
      for (int64_t b = 0; b < v.blocks; ++b) {
        BlockSums s = blockSums(x, dy, v, b);
        double scale[kLanes], zero[kLanes] = {};
        for (int64_t l = 0; l < kLanes; ++l) {
          int64_t c = b * kLanes + l;
          double rstd = 1.0 / std::sqrt(double(var[c]) + eps);
          // Σ dy·(x − mean) = Σ dy·(x − x0) − (mean − x0)·Σ dy.
          double sumDyXc = s.dyx[l] - (double(mean[c]) - s.shift[l]) * s.dy[l];
          dbeta[c] = float(s.dy[l]);
          dgamma[c] = float(sumDyXc * rstd);
          scale[l] = gamma[c] * rstd;
        }
        blockAffine(dy, dx, v, b, scale, zero);
      }
    });
  }
  ChannelView v(ctx.ins[0].shape());
  return std::make_unique<FnKernel>([=] {
#pragma omp parallel for if (parallel(v))
    for (int64_t c = 0; c < v.channels; ++c) {
      double rstd = 1.0 / std::sqrt(double(var[c]) + eps);
      auto [sumDy, sumDyXc] = gradSums(x, dy, v, c, mean[c]);
      dbeta[c] = float(sumDy);
      dgamma[c] = float(sumDyXc * rstd);
      affine(dy, dx, v, c, gamma[c] * rstd, 0.0);
    }
  });
}

/// The kernels of the runtime contract that this file implements.
void registerBatchNormKernels(KernelTable &table) {
  table.add("batch_norm_train", makeBatchNormTrain);
  table.add("batch_norm_train_bwd", makeBatchNormTrainBwd);
  table.add("batch_norm_inference", makeBatchNormInference);
  table.add("batch_norm_inference_bwd", makeBatchNormInferenceBwd);
}

} // namespace ftc::rt::cpu
