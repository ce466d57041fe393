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
#include <vector>

namespace ftc::rt::cpu {

namespace {

/// The window of a pooling step over planes of `in` [N, C, H, W] with
/// output planes `out` [N, C, Ho, Wo]. In the blocked nChw16c layout a
/// plane holds 16 channels, `lanes` values per pixel, pooled together.
struct Pool {
  int64_t planes, h, w, ho, wo, lanes = 1;
  int64_t kh, kw, sh, sw, top, left, bottom, right;
  bool countIncludePad;

  Pool(const plan::Step &step, const std::vector<int64_t> &in,
       const std::vector<int64_t> &out, bool blocked = false) {
    lanes = blocked ? 16 : 1;
    planes = in[0] * in[1] / lanes;
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

  /// The output columns [lo, hi) whose window column j lies inside the
  /// input, and the input column of output column 0 for it.
  void columns(int64_t j, int64_t &lo, int64_t &hi, int64_t &off) const {
    off = j - left;
    lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
    hi = std::min(wo, (w - off + sw - 1) / sw);
  }

  /// Row `oh` of a plane's maxima: `best` its values, `at` (when not null)
  /// the window position (i·kw + j) of each, PyTorch's choice (a larger value,
  /// or a NaN, replaces the running maximum, in row-major window order). Every
  /// window holds an input element (padding is at most half the window).
  void rowMax(const float *x, int64_t oh, float *best, int32_t *at) const {
    const int64_t L = lanes;
    for (int64_t t = 0; t < wo * L; ++t)
      best[t] = -INFINITY;
    if (at)
      for (int64_t t = 0; t < wo * L; ++t)
        at[t] = -1;
    for (int64_t i = 0; i < kh; ++i) {
      int64_t ih = oh * sh - top + i;
      if (ih < 0 || ih >= h)
        continue;
      const float *row = x + ih * w * L;
      for (int64_t j = 0; j < kw; ++j) {
        int64_t lo, hi, off;
        columns(j, lo, hi, off);
        // The window position (not the flat index) in 32 bits: the
        // compare-and-blend vectorises.
        int32_t k = int32_t(i * kw + j);
        if (L == 1) {
          if (at) {
#pragma omp simd
            for (int64_t ow = lo; ow < hi; ++ow) {
              float v = row[ow * sw + off];
              bool take = v > best[ow] || v != v || at[ow] < 0;
              best[ow] = take ? v : best[ow];
              at[ow] = take ? k : at[ow];
            }
          } else {
#pragma omp simd
            for (int64_t ow = lo; ow < hi; ++ow) {
              float v = row[ow * sw + off];
              best[ow] = v > best[ow] || v != v ? v : best[ow];
            }
          }
          continue;
        }
        for (int64_t ow = lo; ow < hi; ++ow) {
          const float *px = row + (ow * sw + off) * L;
          float *b = best + ow * L;
          if (at) {
            int32_t *a = at + ow * L;
#pragma omp simd
            for (int64_t l = 0; l < L; ++l) {
              bool take = px[l] > b[l] || px[l] != px[l] || a[l] < 0;
              b[l] = take ? px[l] : b[l];
              a[l] = take ? k : a[l];
            }
          } else {
#pragma omp simd
            for (int64_t l = 0; l < L; ++l)
              b[l] = px[l] > b[l] || px[l] != px[l] ? px[l] : b[l];
          }
        }
      }
    }
  }

  bool parallel() const {
    return planes > 1 && planes * h * w * lanes > kParallelMin;
  }
};

bool isBlocked(const Arg &a) {
  return a.buf->layout == plan::Layout::Blocked16;
}

} // namespace

/// max_pool2d: x -> y.
std::unique_ptr<Kernel> makeMaxPool2d(const KernelContext &ctx) {
  const float *x = ctx.ins[0].f32();
  float *y = ctx.outs[0].f32();
  Pool p(ctx.step, ctx.ins[0].shape(), ctx.outs[0].shape(),
         isBlocked(ctx.ins[0]));
  int64_t L = p.lanes;
  return std::make_unique<FnKernel>([=] {
#pragma omp parallel for if (p.parallel())
    for (int64_t pl = 0; pl < p.planes; ++pl)
      for (int64_t oh = 0; oh < p.ho; ++oh)
        p.rowMax(x + pl * p.h * p.w * L, oh, y + (pl * p.ho + oh) * p.wo * L,
                 nullptr);
  });
}

/// max_pool2d_bwd: x, dy -> dx.
std::unique_ptr<Kernel> makeMaxPool2dBwd(const KernelContext &ctx) {
  const float *x = ctx.ins[0].f32(), *dy = ctx.ins[1].f32();
  float *dx = ctx.outs[0].f32();
  Pool p(ctx.step, ctx.ins[0].shape(), ctx.ins[1].shape(),
         isBlocked(ctx.ins[0]));
  int64_t L = p.lanes;
  return std::make_unique<FnKernel>([=] {
#pragma omp parallel if (p.parallel())
    {
      std::vector<float> best(size_t(p.wo * L));
      std::vector<int32_t> at(size_t(p.wo * L));
#pragma omp for
      for (int64_t pl = 0; pl < p.planes; ++pl) {
        const float *xp = x + pl * p.h * p.w * L,
                    *gp = dy + pl * p.ho * p.wo * L;
        float *dp = dx + pl * p.h * p.w * L;
        std::memset(dp, 0, sizeof(float) * size_t(p.h * p.w * L));
        for (int64_t oh = 0; oh < p.ho; ++oh) {
          p.rowMax(xp, oh, best.data(), at.data());
          for (int64_t ow = 0; ow < p.wo; ++ow)
            for (int64_t l = 0; l < L; ++l) {
              int64_t k = at[size_t(ow * L + l)];
              int64_t ih = oh * p.sh - p.top + k / p.kw,
                      iw = ow * p.sw - p.left + k % p.kw;
              dp[(ih * p.w + iw) * L + l] += gp[(oh * p.wo + ow) * L + l];
            }
        }
      }
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
