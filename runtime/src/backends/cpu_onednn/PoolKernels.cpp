//===- PoolKernels.cpp - 2-D max and average pooling ------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Hand-written over NCHW, one (example, channel) plane per task, with
// PyTorch's CPU semantics: floor mode; max pooling treats padding as −∞
// and sends the gradient to the first maximum of a window in row-major
// order (a NaN counts as a maximum); average pooling divides by the whole
// window clipped to the padded input (count_include_pad) or by the input
// elements it covers. The backward kernels recompute the maxima instead
// of storing indices.
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ftc::rt::cpu {

namespace {

/// The window of a pooling step over planes of `in` [N, C, H, W] with
/// output planes `out` [N, C, Ho, Wo].
struct Pool {
  int64_t planes, h, w, ho, wo;
  int64_t kh, kw, sh, sw, top, left, bottom, right;
  bool countIncludePad;

  Pool(const plan::Step &step, const std::vector<int64_t> &in,
       const std::vector<int64_t> &out) {
    planes = in[0] * in[1];
    h = in[2], w = in[3], ho = out[2], wo = out[3];
    std::vector<int64_t> k = step.getInts("kernel"), s = step.getInts("stride"),
                         p = step.getInts("padding");
    kh = k[0], kw = k[1], sh = s[0], sw = s[1];
    top = p[0], left = p[1], bottom = p[2], right = p[3];
    countIncludePad = step.getInt("count_include_pad", 1) != 0;
  }

  /// The input rows [r0, r1) and columns [c0, c1) of output (oh, ow), and
  /// its average's divisor.
  struct Span {
    int64_t r0, r1, c0, c1, divisor;
  };
  Span span(int64_t oh, int64_t ow) const {
    int64_t r0 = oh * sh - top, c0 = ow * sw - left;
    int64_t r1 = std::min(r0 + kh, h + bottom),
            c1 = std::min(c0 + kw, w + right);
    int64_t padded = (r1 - r0) * (c1 - c0);
    r0 = std::max<int64_t>(r0, 0), c0 = std::max<int64_t>(c0, 0);
    r1 = std::min(r1, h), c1 = std::min(c1, w);
    return {r0, r1, c0, c1, countIncludePad ? padded : (r1 - r0) * (c1 - c0)};
  }

  /// The flat index of the first maximum of output (oh, ow) in `x`.
  int64_t argmax(const float *x, int64_t oh, int64_t ow) const {
    Span s = span(oh, ow);
    int64_t best = s.r0 * w + s.c0;
    float max = -INFINITY;
    for (int64_t r = s.r0; r < s.r1; ++r)
      for (int64_t c = s.c0; c < s.c1; ++c) {
        float v = x[r * w + c];
        if (v > max || std::isnan(v)) {
          max = v, best = r * w + c;
          if (std::isnan(v))
            return best;
        }
      }
    return best;
  }

  bool parallel() const { return planes > 1 && planes * h * w > kParallelMin; }
};

} // namespace

/// max_pool2d: x -> y.
std::unique_ptr<Kernel> makeMaxPool2d(const KernelContext &ctx) {
  const float *x = ctx.ins[0].f32();
  float *y = ctx.outs[0].f32();
  Pool p(ctx.step, ctx.ins[0].shape(), ctx.outs[0].shape());
  return std::make_unique<FnKernel>([=] {
#pragma omp parallel for if (p.parallel())
    for (int64_t pl = 0; pl < p.planes; ++pl) {
      const float *xp = x + pl * p.h * p.w;
      float *yp = y + pl * p.ho * p.wo;
      for (int64_t oh = 0; oh < p.ho; ++oh)
        for (int64_t ow = 0; ow < p.wo; ++ow)
          yp[oh * p.wo + ow] = xp[p.argmax(xp, oh, ow)];
    }
  });
}

/// max_pool2d_bwd: x, dy -> dx.
std::unique_ptr<Kernel> makeMaxPool2dBwd(const KernelContext &ctx) {
  const float *x = ctx.ins[0].f32(), *dy = ctx.ins[1].f32();
  float *dx = ctx.outs[0].f32();
  Pool p(ctx.step, ctx.ins[0].shape(), ctx.ins[1].shape());
  return std::make_unique<FnKernel>([=] {
#pragma omp parallel for if (p.parallel())
    for (int64_t pl = 0; pl < p.planes; ++pl) {
      const float *xp = x + pl * p.h * p.w, *gp = dy + pl * p.ho * p.wo;
      float *dp = dx + pl * p.h * p.w;
      std::memset(dp, 0, sizeof(float) * size_t(p.h * p.w));
      for (int64_t oh = 0; oh < p.ho; ++oh)
        for (int64_t ow = 0; ow < p.wo; ++ow)
          dp[p.argmax(xp, oh, ow)] += gp[oh * p.wo + ow];
    }
  });
}

/// avg_pool2d: x -> y.
std::unique_ptr<Kernel> makeAvgPool2d(const KernelContext &ctx) {
  const float *x = ctx.ins[0].f32();
  float *y = ctx.outs[0].f32();
  Pool p(ctx.step, ctx.ins[0].shape(), ctx.outs[0].shape());
  return std::make_unique<FnKernel>([=] {
#pragma omp parallel for if (p.parallel())
    for (int64_t pl = 0; pl < p.planes; ++pl) {
      const float *xp = x + pl * p.h * p.w;
      float *yp = y + pl * p.ho * p.wo;
      for (int64_t oh = 0; oh < p.ho; ++oh)
        for (int64_t ow = 0; ow < p.wo; ++ow) {
          Pool::Span s = p.span(oh, ow);
          float sum = 0;
          for (int64_t r = s.r0; r < s.r1; ++r)
            for (int64_t c = s.c0; c < s.c1; ++c)
              sum += xp[r * p.w + c];
          yp[oh * p.wo + ow] = sum / float(s.divisor);
        }
    }
  });
}

/// avg_pool2d_bwd: dy -> dx.
std::unique_ptr<Kernel> makeAvgPool2dBwd(const KernelContext &ctx) {
  const float *dy = ctx.ins[0].f32();
  float *dx = ctx.outs[0].f32();
  Pool p(ctx.step, ctx.outs[0].shape(), ctx.ins[0].shape());
  return std::make_unique<FnKernel>([=] {
#pragma omp parallel for if (p.parallel())
    for (int64_t pl = 0; pl < p.planes; ++pl) {
      const float *gp = dy + pl * p.ho * p.wo;
      float *dp = dx + pl * p.h * p.w;
      std::memset(dp, 0, sizeof(float) * size_t(p.h * p.w));
      for (int64_t oh = 0; oh < p.ho; ++oh)
        for (int64_t ow = 0; ow < p.wo; ++ow) {
          Pool::Span s = p.span(oh, ow);
          float g = gp[oh * p.wo + ow] / float(s.divisor);
          for (int64_t r = s.r0; r < s.r1; ++r)
            for (int64_t c = s.c0; c < s.c1; ++c)
              dp[r * p.w + c] += g;
        }
    }
  });
}

/// The kernels of the runtime contract that this file implements.
void registerPoolKernels(KernelTable &table) {
  table.add("max_pool2d", makeMaxPool2d);
  table.add("max_pool2d_bwd", makeMaxPool2dBwd);
  table.add("avg_pool2d", makeAvgPool2d);
  table.add("avg_pool2d_bwd", makeAvgPool2dBwd);
}

} // namespace ftc::rt::cpu
