//===- NormKernels.cpp - Layer normalisation and its backward ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Hand-written: the statistics are accumulated in double with two passes
// (mean, then the biased variance around it), which matches PyTorch's
// LayerNorm more closely than a one-pass float formula. Rows are
// independent; the parameter gradients are reduced over rows per column
// block, in row order, so the result does not depend on the thread count.
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <algorithm>
#include <cmath>

namespace ftc::rt::cpu {

namespace {

constexpr int64_t kColumnBlock = 64;

struct RowStats {
  double mean, rstd;
};

// The row sums are vectorised (`omp simd` reductions: a fixed lane order,
// so results do not depend on the thread count), in double.
RowStats rowStats(const float *x, int64_t h, double eps) {
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < h; ++j)
    sum += x[j];
  double mean = sum / double(h), sq = 0;
#pragma omp simd reduction(+ : sq)
  for (int64_t j = 0; j < h; ++j) {
    double d = double(x[j]) - mean;
    sq += d * d;
  }
  return {mean, 1.0 / std::sqrt(sq / double(h) + eps)};
}

/// One row of layer_norm: y = (x - mean) * rstd * gamma + beta.
void normalizeRow(const float *x, float *y, int64_t h, const float *gamma,
                  const float *beta, double eps) {
  RowStats s = rowStats(x, h, eps);
#pragma omp simd
  for (int64_t j = 0; j < h; ++j)
    y[j] = float((double(x[j]) - s.mean) * s.rstd * gamma[j] + beta[j]);
}

} // namespace

std::unique_ptr<Kernel> makeLayerNorm(const KernelContext &ctx) {
  const float *x = ctx.ins[0].f32(), *gamma = ctx.ins[1].f32(),
              *beta = ctx.ins[2].f32();
  float *y = ctx.outs[0].f32();
  int64_t h = ctx.ins[1].numel(), rows = ctx.ins[0].numel() / h;
  double eps = ctx.step.getFloat("eps", 1e-5);
  return std::make_unique<FnKernel>([=] {
#pragma omp parallel for if (rows * h > kParallelMin)
    for (int64_t r = 0; r < rows; ++r)
      normalizeRow(x + r * h, y + r * h, h, gamma, beta, eps);
  });
}

std::unique_ptr<Kernel> makeAddLayerNorm(const KernelContext &ctx) {
  const float *a = ctx.ins[0].f32(), *b = ctx.ins[1].f32(),
              *gamma = ctx.ins[2].f32(), *beta = ctx.ins[3].f32();
  float *y = ctx.outs[0].f32(), *sum = ctx.outs[1].f32();
  int64_t h = ctx.ins[2].numel(), rows = ctx.ins[0].numel() / h;
  double eps = ctx.step.getFloat("eps", 1e-5);
  return std::make_unique<FnKernel>([=] {
  // Each row's sum is normalised while it is still in cache; the float
  // sum is what add + layer_norm would compute, so results are identical.
#pragma omp parallel for if (rows * h > kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      const float *ar = a + r * h, *br = b + r * h;
      float *sr = sum + r * h, *yr = y + r * h;
#pragma omp simd
      for (int64_t j = 0; j < h; ++j)
        sr[j] = ar[j] + br[j];
      normalizeRow(sr, yr, h, gamma, beta, eps);
    }
  });
}

std::unique_ptr<Kernel> makeLayerNormBwd(const KernelContext &ctx) {
  const float *x = ctx.ins[0].f32(), *gamma = ctx.ins[1].f32(),
              *dy = ctx.ins[2].f32();
  float *dx = ctx.outs[0].f32(), *dgamma = ctx.outs[1].f32(),
        *dbeta = ctx.outs[2].f32();
  int64_t h = ctx.ins[1].numel(), rows = ctx.ins[0].numel() / h;
  double eps = ctx.step.getFloat("eps", 1e-5);
  // Per-row statistics, kept between the two passes; allocated here so that
  // run() allocates nothing.
  auto stats = std::make_shared<std::vector<RowStats>>(size_t(rows));
  int64_t blocks = (h + kColumnBlock - 1) / kColumnBlock;
  return std::make_unique<FnKernel>([=] {
    RowStats *st = stats->data();
    // dx = rstd · (g − mean(g) − x̂ · mean(g · x̂)), g = dy · gamma.
#pragma omp parallel for if (rows * h > kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      const float *xr = x + r * h, *dyr = dy + r * h;
      float *dxr = dx + r * h;
      RowStats s = rowStats(xr, h, eps);
      st[r] = s;
      double sumG = 0, sumGX = 0;
#pragma omp simd reduction(+ : sumG, sumGX)
      for (int64_t j = 0; j < h; ++j) {
        double g = double(dyr[j]) * gamma[j];
        sumG += g;
        sumGX += g * (double(xr[j]) - s.mean) * s.rstd;
      }
      double meanG = sumG / double(h), meanGX = sumGX / double(h);
#pragma omp simd
      for (int64_t j = 0; j < h; ++j) {
        double xhat = (double(xr[j]) - s.mean) * s.rstd;
        double g = double(dyr[j]) * gamma[j];
        dxr[j] = float(s.rstd * (g - meanG - xhat * meanGX));
      }
    }
    // dgamma = Σ_rows dy · x̂, dbeta = Σ_rows dy.
#pragma omp parallel for if (rows * h > kParallelMin)
    for (int64_t blk = 0; blk < blocks; ++blk) {
      int64_t j0 = blk * kColumnBlock, j1 = std::min(h, j0 + kColumnBlock);
      double accG[kColumnBlock] = {}, accB[kColumnBlock] = {};
      for (int64_t r = 0; r < rows; ++r) {
        const float *xr = x + r * h, *dyr = dy + r * h;
        RowStats s = st[r];
#pragma omp simd
        for (int64_t j = j0; j < j1; ++j) {
          accG[j - j0] += double(dyr[j]) * ((double(xr[j]) - s.mean) * s.rstd);
          accB[j - j0] += dyr[j];
        }
      }
      for (int64_t j = j0; j < j1; ++j) {
        dgamma[j] = float(accG[j - j0]);
        dbeta[j] = float(accB[j - j0]);
      }
    }
  });
}

/// The kernels of the runtime contract that this file implements.
void registerNormKernels(KernelTable &table) {
  table.add("layer_norm", makeLayerNorm);
  table.add("add_layer_norm", makeAddLayerNorm);
  table.add("layer_norm_bwd", makeLayerNormBwd);
}

} // namespace ftc::rt::cpu
