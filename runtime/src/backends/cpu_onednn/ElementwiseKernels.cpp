//===- ElementwiseKernels.cpp - broadcast, copy, fill, scale ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Data-movement kernels that oneDNN either lacks (broadcast along arbitrary
// axes) or would only slow down with primitive overhead (copy, fill, scale).
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>

namespace ftc::rt::cpu {

namespace {} // namespace

std::unique_ptr<Kernel> makeBroadcast(const KernelContext &ctx) {
  const float *x = ctx.ins[0].f32();
  float *y = ctx.outs[0].f32();
  if (ctx.outs[0].buf->layout == plan::Layout::Blocked16) {
    // [N, C] repeated over H and W into nChw16c (the plan allows only that).
    const std::vector<int64_t> &s = ctx.outs[0].shape();
    int64_t nb = s[0] * s[1] / 16, hw = s[2] * s[3];
    return std::make_unique<FnKernel>([=] {
#pragma omp parallel for if (nb * hw * 16 > kParallelMin)
      for (int64_t b = 0; b < nb; ++b)
        for (int64_t i = 0; i < hw; ++i)
#pragma omp simd
          for (int64_t l = 0; l < 16; ++l)
            y[(b * hw + i) * 16 + l] = x[b * 16 + l];
    });
  }
  std::vector<int64_t> axes = ctx.step.getInts("axes");
  // Merge neighbouring output dims that are all broadcast or all kept; then
  // a kept dim's x stride is the product of the kept dims after it and a
  // broadcast dim's is 0.
  std::vector<int64_t> dims;
  std::vector<bool> bcast;
  const std::vector<int64_t> &shape = ctx.outs[0].shape();
  for (size_t d = 0; d < shape.size(); ++d) {
    bool b = std::find(axes.begin(), axes.end(), int64_t(d)) != axes.end();
    if (!dims.empty() && bcast.back() == b)
      dims.back() *= shape[d];
    else {
      dims.push_back(shape[d]);
      bcast.push_back(b);
    }
  }
  if (dims.empty() || (dims.size() == 1 && !bcast[0])) { // nothing to repeat
    size_t bytes = size_t(ctx.ins[0].buf->bytes());
    return std::make_unique<FnKernel>([=] { std::memmove(y, x, bytes); });
  }
  size_t k = dims.size();
  std::vector<int64_t> xStride(k, 0);
  for (int64_t s = 1, d = int64_t(k) - 1; d >= 0; --d)
    if (!bcast[d]) {
      xStride[d] = s;
      s *= dims[d];
    }
  int64_t inner = dims[k - 1];
  bool innerBcast = bcast[k - 1];
  int64_t outer = ctx.outs[0].numel() / inner;
  return std::make_unique<FnKernel>([=] {
#pragma omp parallel for if (outer * inner > kParallelMin)
    for (int64_t o = 0; o < outer; ++o) {
      int64_t rem = o, xOff = 0;
      for (size_t d = k - 1; d-- > 0;) {
        xOff += (rem % dims[d]) * xStride[d];
        rem /= dims[d];
      }
      float *dst = y + o * inner;
      if (innerBcast)
        std::fill(dst, dst + inner, x[xOff]);
      else
        std::memcpy(dst, x + xOff, size_t(inner) * sizeof(float));
    }
  });
}

std::unique_ptr<Kernel> makeCopy(const KernelContext &ctx) {
  const void *x = ctx.ins[0].ptr;
  void *y = ctx.outs[0].ptr;
  size_t bytes = size_t(ctx.outs[0].buf->bytes());
  // memmove: the memory planner may place a reshape's result over its input.
  return std::make_unique<FnKernel>([=] { std::memmove(y, x, bytes); });
}

std::unique_ptr<Kernel> makeFill(const KernelContext &ctx) {
  int64_t n = ctx.outs[0].numel();
  double value = ctx.step.getFloat("value", 0);
  if (ctx.outs[0].buf->dtype == plan::DType::I32) {
    int32_t *y = ctx.outs[0].i32();
    // Clamped: converting an out-of-range double to int is undefined.
    int32_t v =
        std::isnan(value)
            ? 0
            : int32_t(std::clamp(value, double(INT32_MIN), double(INT32_MAX)));
    return std::make_unique<FnKernel>([=] { std::fill(y, y + n, v); });
  }
  float *y = ctx.outs[0].f32();
  float v = float(value);
  return std::make_unique<FnKernel>([=] { std::fill(y, y + n, v); });
}

std::unique_ptr<Kernel> makeScale(const KernelContext &ctx) {
  const float *x = ctx.ins[0].f32();
  float *y = ctx.outs[0].f32();
  int64_t n = ctx.ins[0].numel();
  float factor = float(ctx.step.getFloat("factor", 1));
  return std::make_unique<FnKernel>([=] {
#pragma omp parallel for simd if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i)
      y[i] = factor * x[i];
  });
}

/// The kernels of the runtime contract that this file implements.
void registerElementwiseKernels(KernelTable &table) {
  table.add("broadcast", makeBroadcast);
  table.add("copy", makeCopy);
  table.add("fill", makeFill);
  table.add("scale", makeScale);
}

} // namespace ftc::rt::cpu
