//===- ConvKernels.cpp - 2-D convolution and its backward -------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// oneDNN's convolution primitives, created with `format_tag::any` so that
// oneDNN picks its fast blocked layouts (nChw16c and blocked weights on
// AVX-512). Activations the plan keeps blocked (plan::assignLayouts) go to
// the primitive as they are; plain ones (the image, weights, a pooling's
// input) are reordered into the primitive's layout and back, into copies
// allocated once, when the kernel is built.
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <algorithm>
#include <string>

namespace ftc::rt::cpu {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;

namespace {

/// The geometry of a convolution step, in oneDNN's terms.
struct ConvGeometry {
  memory::dims src, weights, bias, dst;
  memory::dims strides, dilates, padL, padR;
};

/// `x` [N, C, H, W], `w` [O, C/g, kh, kw], `y` [N, O, Ho, Wo] as the plan
/// has them; grouped weights become oneDNN's [g, O/g, C/g, kh, kw].
ConvGeometry geometry(const plan::Step &step, const std::vector<int64_t> &x,
                      const std::vector<int64_t> &w,
                      const std::vector<int64_t> &y) {
  ConvGeometry g;
  int64_t groups = step.getInt("groups", 1);
  g.src = {x[0], x[1], x[2], x[3]};
  g.dst = {y[0], y[1], y[2], y[3]};
  g.weights = groups == 1
                  ? memory::dims{w[0], w[1], w[2], w[3]}
                  : memory::dims{groups, w[0] / groups, w[1], w[2], w[3]};
  g.bias = {w[0]};
  std::vector<int64_t> s = step.getInts("stride"), d = step.getInts("dilation"),
                       p = step.getInts("padding");
  g.strides = {s[0], s[1]};
  g.dilates = {d[0] - 1, d[1] - 1}; // oneDNN counts the gaps
  g.padL = {p[0], p[1]};
  g.padR = {p[2], p[3]};
  return g;
}

memory::desc anyMd(const memory::dims &dims) {
  return memory::desc(dims, memory::data_type::f32, memory::format_tag::any);
}

/// The descriptor of a plan buffer as it lies in memory: plain, or the
/// blocked nChw16c the plan chose for it.
memory::desc userMd(const memory::dims &dims, const Arg &a) {
  return a.buf->layout == plan::Layout::Blocked16
             ? memory::desc(dims, memory::data_type::f32,
                            memory::format_tag::nChw16c)
             : plainMd(dims);
}

/// One plan buffer seen by a primitive: the user's memory and, when the
/// primitive wants another layout, its own copy in that layout.
struct Operand {
  memory user, internal;
  bool reordered = false;

  Operand(const memory::desc &want, const memory::desc &have, void *ptr,
          const dnnl::engine &eng)
      : user(have, eng, ptr) {
    reordered = want != user.get_desc();
    internal = reordered ? memory(want, eng) : user;
  }
};

/// A convolution primitive between reorders: `before` bring inputs into
/// the primitive's layouts, `after` bring outputs back.
class ConvKernel final : public Kernel {
public:
  ConvKernel(dnnl::primitive prim, std::unordered_map<int, memory> args,
             std::vector<std::pair<memory, memory>> before,
             std::vector<std::pair<memory, memory>> after,
             const dnnl::stream &stream)
      : prim(std::move(prim)), args(std::move(args)), stream(stream) {
    for (auto &[from, to] : before)
      reorders.push_back({dnnl::reorder(from, to), from, to, true});
    for (auto &[from, to] : after)
      reorders.push_back({dnnl::reorder(from, to), from, to, false});
  }

  void run() override {
    for (Reorder &r : reorders)
      if (r.before)
        r.prim.execute(stream, r.from, r.to);
    prim.execute(stream, args);
    for (Reorder &r : reorders)
      if (!r.before)
        r.prim.execute(stream, r.from, r.to);
    stream.wait();
  }

private:
  struct Reorder {
    dnnl::reorder prim;
    memory from, to;
    bool before;
  };
  dnnl::primitive prim;
  std::unordered_map<int, memory> args;
  std::vector<Reorder> reorders;
  dnnl::stream stream;
};

/// Collects the operands of a kernel: inputs reordered before the
/// primitive, outputs after.
struct Binder {
  const KernelContext &ctx;
  std::unordered_map<int, memory> args;
  std::vector<std::pair<memory, memory>> before, after;

  void input(int arg, const memory::desc &want, const memory::dims &dims,
             const Arg &a) {
    Operand o(want, userMd(dims, a), a.ptr, ctx.engine);
    if (o.reordered)
      before.push_back({o.user, o.internal});
    args[arg] = o.internal;
  }
  void output(int arg, const memory::desc &want, const memory::dims &dims,
              const Arg &a) {
    Operand o(want, userMd(dims, a), a.ptr, ctx.engine);
    if (o.reordered)
      after.push_back({o.internal, o.user});
    args[arg] = o.internal;
  }
  std::unique_ptr<Kernel> make(dnnl::primitive prim) {
    return std::make_unique<ConvKernel>(std::move(prim), std::move(args),
                                        std::move(before), std::move(after),
                                        ctx.stream);
  }
};

dnnl::convolution_forward::primitive_desc
forwardPd(const ConvGeometry &g, bool bias, const dnnl::engine &eng) {
  auto d = bias
               ? dnnl::convolution_forward::desc(
                     prop_kind::forward_training, algorithm::convolution_direct,
                     anyMd(g.src), anyMd(g.weights), plainMd(g.bias),
                     anyMd(g.dst), g.strides, g.dilates, g.padL, g.padR)
               : dnnl::convolution_forward::desc(
                     prop_kind::forward_training, algorithm::convolution_direct,
                     anyMd(g.src), anyMd(g.weights), anyMd(g.dst), g.strides,
                     g.dilates, g.padL, g.padR);
  return {d, eng};
}

} // namespace

/// conv2d: x, w[, b] -> y.
std::unique_ptr<Kernel> makeConv2d(const KernelContext &ctx) {
  const Arg &x = ctx.ins[0], &w = ctx.ins[1], &y = ctx.outs[0];
  bool bias = ctx.ins.size() == 3;
  ConvGeometry g = geometry(ctx.step, x.shape(), w.shape(), y.shape());
  auto pd = forwardPd(g, bias, ctx.engine);
  Binder b{ctx};
  b.input(DNNL_ARG_SRC, pd.src_desc(), g.src, x);
  b.input(DNNL_ARG_WEIGHTS, pd.weights_desc(), g.weights, w);
  if (bias)
    b.input(DNNL_ARG_BIAS, pd.bias_desc(), g.bias, ctx.ins[2]);
  b.output(DNNL_ARG_DST, pd.dst_desc(), g.dst, y);
  return b.make(dnnl::convolution_forward(pd));
}

/// conv2d_bwd_data: dy, w -> dx.
std::unique_ptr<Kernel> makeConv2dBwdData(const KernelContext &ctx) {
  const Arg &dy = ctx.ins[0], &w = ctx.ins[1], &dx = ctx.outs[0];
  ConvGeometry g = geometry(ctx.step, dx.shape(), w.shape(), dy.shape());
  auto hint = forwardPd(g, false, ctx.engine);
  dnnl::convolution_backward_data::desc d(
      algorithm::convolution_direct, anyMd(g.src), anyMd(g.weights),
      anyMd(g.dst), g.strides, g.dilates, g.padL, g.padR);
  dnnl::convolution_backward_data::primitive_desc pd(d, ctx.engine, hint);
  Binder b{ctx};
  b.input(DNNL_ARG_DIFF_DST, pd.diff_dst_desc(), g.dst, dy);
  b.input(DNNL_ARG_WEIGHTS, pd.weights_desc(), g.weights, w);
  b.output(DNNL_ARG_DIFF_SRC, pd.diff_src_desc(), g.src, dx);
  return b.make(dnnl::convolution_backward_data(pd));
}

namespace {

/// The weight gradient of a depthwise convolution (groups = C = O), one
/// channel per task: dw[c, i, j] = Σ dy[n, c, oh, ow] · x[n, c, oh·s + i·d −
/// pad_top, ow·s + j·d − pad_left]. oneDNN 2.6's depthwise kernels compute
/// this for 3x3 windows only and fall back to an im2col gemm for the rest
/// (EfficientNet's 5x5), ten times slower. Sums in double, in a fixed order.
std::unique_ptr<Kernel> depthwiseBwdWeights(const KernelContext &ctx) {
  const float *x = ctx.ins[0].f32(), *dy = ctx.ins[1].f32();
  float *dw = ctx.outs[0].f32();
  const std::vector<int64_t> &xs = ctx.ins[0].shape(), &ys = ctx.ins[1].shape(),
                             &ws = ctx.outs[0].shape();
  int64_t n = xs[0], c = xs[1], h = xs[2], w = xs[3], ho = ys[2], wo = ys[3];
  int64_t kh = ws[2], kw = ws[3];
  std::vector<int64_t> st = ctx.step.getInts("stride"),
                       pd = ctx.step.getInts("padding"),
                       dl = ctx.step.getInts("dilation");
  int64_t sh = st[0], sw = st[1], top = pd[0], left = pd[1], dh = dl[0],
          dwl = dl[1];
  if (ctx.ins[0].buf->layout == plan::Layout::Blocked16) {
    // x and dy in nChw16c (the plan keeps them together): sixteen channels
    // at once, one lane each.
    constexpr int64_t L = 16;
    int64_t blocks = c / L;
    return std::make_unique<FnKernel>([=] {
#pragma omp parallel for
      for (int64_t cb = 0; cb < blocks; ++cb) {
        std::vector<double> acc(size_t(kh * kw * L), 0.0);
        for (int64_t b = 0; b < n; ++b) {
          const float *xp = x + (b * blocks + cb) * h * w * L;
          const float *gp = dy + (b * blocks + cb) * ho * wo * L;
          for (int64_t i = 0; i < kh; ++i)
            for (int64_t oh = 0; oh < ho; ++oh) {
              int64_t ih = oh * sh + i * dh - top;
              if (ih < 0 || ih >= h)
                continue;
              const float *xr = xp + ih * w * L, *gr = gp + oh * wo * L;
              for (int64_t j = 0; j < kw; ++j) {
                int64_t off = j * dwl - left;
                int64_t lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
                int64_t hi = std::min(wo, (w - off + sw - 1) / sw);
                double *a = acc.data() + (i * kw + j) * L;
                for (int64_t ow = lo; ow < hi; ++ow) {
                  const float *g = gr + ow * L, *xv = xr + (ow * sw + off) * L;
#pragma omp simd
                  for (int64_t l = 0; l < L; ++l)
                    a[l] += double(g[l]) * double(xv[l]);
                }
              }
            }
        }
        for (int64_t l = 0; l < L; ++l)
          for (int64_t k = 0; k < kh * kw; ++k)
            dw[(cb * L + l) * kh * kw + k] = float(acc[size_t(k * L + l)]);
      }
    });
  }
  return std::make_unique<FnKernel>([=] {
#pragma omp parallel for
    for (int64_t ch = 0; ch < c; ++ch) {
      std::vector<double> acc(size_t(kh * kw), 0.0);
      for (int64_t b = 0; b < n; ++b) {
        const float *xp = x + (b * c + ch) * h * w;
        const float *gp = dy + (b * c + ch) * ho * wo;
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t oh = 0; oh < ho; ++oh) {
            int64_t ih = oh * sh + i * dh - top;
            if (ih < 0 || ih >= h)
              continue;
            const float *xr = xp + ih * w, *gr = gp + oh * wo;
            for (int64_t j = 0; j < kw; ++j) {
              // The output columns whose input column is inside the row.
              int64_t off = j * dwl - left;
              int64_t lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
              int64_t hi = std::min(wo, (w - off + sw - 1) / sw);
              double sum = 0;
#pragma omp simd reduction(+ : sum)
              for (int64_t ow = lo; ow < hi; ++ow)
                sum += double(gr[ow]) * double(xr[ow * sw + off]);
              acc[size_t(i * kw + j)] += sum;
            }
          }
      }
      for (int64_t k = 0; k < kh * kw; ++k)
        dw[ch * kh * kw + k] = float(acc[size_t(k)]);
    }
  });
}

} // namespace

/// conv2d_bwd_weights: x, dy -> dw.
std::unique_ptr<Kernel> makeConv2dBwdWeights(const KernelContext &ctx) {
  const Arg &x = ctx.ins[0], &dy = ctx.ins[1], &dw = ctx.outs[0];
  ConvGeometry g = geometry(ctx.step, x.shape(), dw.shape(), dy.shape());
  auto hint = forwardPd(g, false, ctx.engine);
  dnnl::convolution_backward_weights::desc d(
      algorithm::convolution_direct, anyMd(g.src), anyMd(g.weights),
      anyMd(g.dst), g.strides, g.dilates, g.padL, g.padR);
  dnnl::convolution_backward_weights::primitive_desc pd(d, ctx.engine, hint);
  bool depthwise = ctx.step.getInt("groups", 1) == x.shape()[1] &&
                   dw.shape()[0] == x.shape()[1] && dw.shape()[1] == 1;
  if (depthwise &&
      std::string(pd.impl_info_str()).find("gemm") != std::string::npos)
    return depthwiseBwdWeights(ctx);
  Binder b{ctx};
  b.input(DNNL_ARG_SRC, pd.src_desc(), g.src, x);
  b.input(DNNL_ARG_DIFF_DST, pd.diff_dst_desc(), g.dst, dy);
  b.output(DNNL_ARG_DIFF_WEIGHTS, pd.diff_weights_desc(), g.weights, dw);
  return b.make(dnnl::convolution_backward_weights(pd));
}

/// The kernels of the runtime contract that this file implements.
void registerConvKernels(KernelTable &table) {
  table.add("conv2d", makeConv2d);
  table.add("conv2d_bwd_data", makeConv2dBwdData);
  table.add("conv2d_bwd_weights", makeConv2dBwdWeights);
}

} // namespace ftc::rt::cpu
