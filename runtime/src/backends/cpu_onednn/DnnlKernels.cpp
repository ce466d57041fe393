//===- DnnlKernels.cpp - Kernels backed by oneDNN primitives ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Every memory descriptor uses the plain row-major layout of the plan's
// buffers, so no primitive needs a reorder. Element-wise primitives see their
// buffers as flat 1-D tensors: the math is the same for any shape, and it
// sidesteps oneDNN's lack of rank-0 tensors.
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <algorithm>
#include <cstring>

namespace ftc::rt::cpu {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;

memory::desc plainMd(const memory::dims &dims, memory::data_type dt) {
  memory::dims strides(dims.size(), 1);
  for (size_t d = dims.size(); d-- > 1;)
    strides[d - 1] = strides[d] * dims[d];
  return memory::desc(dims, dt, strides);
}

namespace {

memory bind(const memory::desc &md, const KernelContext &ctx, const Arg &a) {
  return memory(md, ctx.engine, a.ptr);
}

std::unique_ptr<Kernel> primitive(dnnl::primitive prim,
                                  std::unordered_map<int, memory> args,
                                  const KernelContext &ctx) {
  return std::make_unique<PrimitiveKernel>(std::move(prim), std::move(args),
                                           ctx.stream);
}

struct LinearMds {
  memory::desc x, w, b, y;
};

// x[B,I], w[O,I], b[O], y[B,O].
LinearMds linearMds(int64_t batch, int64_t in, int64_t out) {
  return {plainMd({batch, in}), plainMd({out, in}), plainMd({out}),
          plainMd({batch, out})};
}

dnnl::inner_product_forward::primitive_desc
linearFwdPd(const LinearMds &m, bool bias, const dnnl::engine &eng,
            const dnnl::primitive_attr &attr = dnnl::primitive_attr()) {
  auto d = bias ? dnnl::inner_product_forward::desc(prop_kind::forward_training,
                                                    m.x, m.w, m.b, m.y)
                : dnnl::inner_product_forward::desc(prop_kind::forward_training,
                                                    m.x, m.w, m.y);
  return {d, attr, eng};
}

} // namespace

std::unique_ptr<Kernel> makeLinear(const KernelContext &ctx) {
  const Arg &x = ctx.ins[0], &w = ctx.ins[1], &y = ctx.outs[0];
  if (x.buf->dtype == plan::DType::BF16)
    return makeLinearBf16(ctx);
  bool bias = ctx.ins.size() == 3;
  LinearMds m = linearMds(x.shape()[0], x.shape()[1], w.shape()[0]);
  // A fused activation (ftc.linear_gelu) runs as a post-op on each output
  // block while it is in registers: the pre-activation is never stored.
  dnnl::primitive_attr attr;
  auto act = ctx.step.attrs.find("activation");
  if (act != ctx.step.attrs.end() && act->second.s == "gelu") {
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, algorithm::eltwise_gelu_erf, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  auto pd = linearFwdPd(m, bias, ctx.engine, attr);
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, bind(m.x, ctx, x)},
                                          {DNNL_ARG_WEIGHTS, bind(m.w, ctx, w)},
                                          {DNNL_ARG_DST, bind(m.y, ctx, y)}};
  if (bias)
    args[DNNL_ARG_BIAS] = bind(m.b, ctx, ctx.ins[2]);
  return primitive(dnnl::inner_product_forward(pd), std::move(args), ctx);
}

std::unique_ptr<Kernel> makeLinearBwdData(const KernelContext &ctx) {
  const Arg &dy = ctx.ins[0], &w = ctx.ins[1], &dx = ctx.outs[0];
  if (dy.buf->dtype == plan::DType::BF16)
    return makeLinearBwdDataBf16(ctx);
  LinearMds m = linearMds(dy.shape()[0], w.shape()[1], w.shape()[0]);
  auto hint = linearFwdPd(m, false, ctx.engine);
  dnnl::inner_product_backward_data::primitive_desc pd({m.x, m.w, m.y},
                                                       ctx.engine, hint);
  return primitive(dnnl::inner_product_backward_data(pd),
                   {{DNNL_ARG_DIFF_DST, bind(m.y, ctx, dy)},
                    {DNNL_ARG_WEIGHTS, bind(m.w, ctx, w)},
                    {DNNL_ARG_DIFF_SRC, bind(m.x, ctx, dx)}},
                   ctx);
}

namespace {

/// Rows this many floats apart (4 KiB) map to the same cache sets: oneDNN
/// 2.6's gemm then runs at half speed when it reads such a matrix along its
/// rows' columns (the backward-weights product does, on both operands).
constexpr int64_t kAliasingRowFloats = 1024;
constexpr int64_t kRowPadFloats = 16;

/// `in` [rows, cols] as gemm should read it: itself, or when its rows alias
/// a copy with padded rows in `scratch`. Returns the leading dimension.
const float *unaliased(const float *in, int64_t rows, int64_t cols,
                       float *scratch, int64_t &ld) {
  ld = cols;
  if (cols % kAliasingRowFloats != 0 || rows < 2)
    return in;
  ld = cols + kRowPadFloats;
#pragma omp parallel for if (rows * cols > (1 << 16))
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(scratch + r * ld, in + r * cols, size_t(cols) * sizeof(float));
  return scratch;
}

} // namespace

// dW[O,I] = dY^T X over the B rows, and db = the column sums of dY, by one
// sgemm. oneDNN 2.6's inner-product backward-weights (the same gemm) runs at
// half speed on BERT's FFN shapes, whose 1024- or 3072-wide rows alias in the
// cache; copying such an operand to padded rows first (a few ms) gives the
// full rate back (~30 -> 55-75 GFLOP/s on one core for a
// 1024-wide dY: build/bin/ftc-sgemm-rows, docs/performance.md).
std::unique_ptr<Kernel> makeLinearBwdWeights(const KernelContext &ctx) {
  const Arg &x = ctx.ins[0], &dy = ctx.ins[1], &dw = ctx.outs[0];
  if (x.buf->dtype == plan::DType::BF16)
    return makeLinearBwdWeightsBf16(ctx);
  const float *xp = x.f32(), *dyp = dy.f32();
  float *dwp = dw.f32();
  float *dbp = ctx.outs.size() == 2 ? ctx.outs[1].f32() : nullptr;
  int64_t rows = x.shape()[0], in = x.shape()[1], out = dy.shape()[1];
  auto padded = [&](int64_t cols) {
    return cols % kAliasingRowFloats == 0 && rows > 1
               ? size_t(rows * (cols + kRowPadFloats))
               : size_t(0);
  };
  size_t xScratch = padded(in), dyScratch = padded(out);
  return std::make_unique<FnKernel>([=] {
    // One scratch per thread for every such kernel: steps run one at a time.
    thread_local std::vector<float> scratch;
    if (scratch.size() < xScratch + dyScratch)
      scratch.resize(xScratch + dyScratch);
    int64_t ldx, ldy;
    const float *xs = unaliased(xp, rows, in, scratch.data(), ldx);
    const float *dys =
        unaliased(dyp, rows, out, scratch.data() + xScratch, ldy);
    dnnl_sgemm('T', 'N', out, in, rows, 1.f, dys, ldy, xs, ldx, 0.f, dwp, in);
    if (dbp)
      columnSums(dyp, rows, out, dbp);
  });
}

namespace {

dnnl::eltwise_forward::primitive_desc
eltwiseFwdPd(algorithm alg, const memory::desc &md, const dnnl::engine &eng,
             float alpha = 0.f, float beta = 0.f) {
  // alpha = 0: relu's negative slope; gelu ignores alpha and beta; clip_v2
  // clamps to [alpha, beta].
  return {{prop_kind::forward_training, alg, md, alpha, beta}, eng};
}

std::unique_ptr<Kernel> eltwiseFwd(const KernelContext &ctx, algorithm alg,
                                   float alpha = 0.f, float beta = 0.f) {
  memory::desc md = plainMd({ctx.ins[0].numel()});
  auto pd = eltwiseFwdPd(alg, md, ctx.engine, alpha, beta);
  return primitive(dnnl::eltwise_forward(pd),
                   {{DNNL_ARG_SRC, bind(md, ctx, ctx.ins[0])},
                    {DNNL_ARG_DST, bind(md, ctx, ctx.outs[0])}},
                   ctx);
}

// Backward from the forward input (as gelu needs), or from the forward output
// for the `_use_dst_for_bwd` algorithms (tanh).
std::unique_ptr<Kernel> eltwiseBwd(const KernelContext &ctx, algorithm alg,
                                   bool fromDst = false, float alpha = 0.f,
                                   float beta = 0.f) {
  memory::desc md = plainMd({ctx.ins[0].numel()});
  auto hint = eltwiseFwdPd(alg, md, ctx.engine, alpha, beta);
  dnnl::eltwise_backward::primitive_desc pd({alg, md, md, alpha, beta},
                                            ctx.engine, hint);
  return primitive(
      dnnl::eltwise_backward(pd),
      {{fromDst ? DNNL_ARG_DST : DNNL_ARG_SRC, bind(md, ctx, ctx.ins[0])},
       {DNNL_ARG_DIFF_DST, bind(md, ctx, ctx.ins[1])},
       {DNNL_ARG_DIFF_SRC, bind(md, ctx, ctx.outs[0])}},
      ctx);
}

/// c = a op b with broadcasting (a, b of one rank; each axis equal or 1).
/// oneDNN broadcasts its second source only: a broadcast `a` becomes the
/// second source where the operation commutes; otherwise (`sub` with a
/// broadcast `a`, or both broadcast) a plain loop over the output.
std::unique_ptr<Kernel> binary(const KernelContext &ctx, algorithm alg) {
  const std::vector<int64_t> &a = ctx.ins[0].shape(), &b = ctx.ins[1].shape(),
                             &c = ctx.outs[0].shape();
  bool sameShape = a == b;
  bool swap = !sameShape && a != c && b == c && alg != algorithm::binary_sub;
  if (!sameShape && a != c && !swap) {
    const float *x = ctx.ins[0].f32(), *y = ctx.ins[1].f32();
    float *z = ctx.outs[0].f32();
    size_t rank = c.size();
    std::vector<int64_t> dims(c), sa(rank), sb(rank);
    for (int64_t i = int64_t(rank) - 1, na = 1, nb = 1; i >= 0; --i) {
      sa[size_t(i)] = a[size_t(i)] == 1 ? 0 : na;
      sb[size_t(i)] = b[size_t(i)] == 1 ? 0 : nb;
      na *= a[size_t(i)];
      nb *= b[size_t(i)];
    }
    int64_t n = ctx.outs[0].numel();
    int op = alg == algorithm::binary_add   ? 0
             : alg == algorithm::binary_sub ? 1
                                            : 2;
    return std::make_unique<FnKernel>([=] {
      for (int64_t e = 0; e < n; ++e) {
        int64_t rest = e, ia = 0, ib = 0;
        for (int64_t i = int64_t(rank) - 1; i >= 0; --i) {
          int64_t k = rest % dims[size_t(i)];
          rest /= dims[size_t(i)];
          ia += k * sa[size_t(i)];
          ib += k * sb[size_t(i)];
        }
        z[e] = op == 0   ? x[ia] + y[ib]
               : op == 1 ? x[ia] - y[ib]
                         : x[ia] * y[ib];
      }
    });
  }
  const auto &src0 = swap ? ctx.ins[1] : ctx.ins[0];
  const auto &src1 = swap ? ctx.ins[0] : ctx.ins[1];
  // Same shapes (the usual case): one flat vector.
  memory::dims d0 = sameShape ? memory::dims{ctx.ins[0].numel()}
                              : memory::dims(src0.shape().begin(),
                                             src0.shape().end()),
               d1 = sameShape ? d0
                              : memory::dims(src1.shape().begin(),
                                             src1.shape().end()),
               dc = sameShape ? d0 : memory::dims(c.begin(), c.end());
  memory::desc md0 = plainMd(d0), md1 = plainMd(d1), mdc = plainMd(dc);
  dnnl::binary::primitive_desc pd({alg, md0, md1, mdc}, ctx.engine);
  return primitive(dnnl::binary(pd),
                   {{DNNL_ARG_SRC_0, bind(md0, ctx, src0)},
                    {DNNL_ARG_SRC_1, bind(md1, ctx, src1)},
                    {DNNL_ARG_DST, bind(mdc, ctx, ctx.outs[0])}},
                   ctx);
}

} // namespace

std::unique_ptr<Kernel> makeRelu(const KernelContext &ctx) {
  return eltwiseFwd(ctx, algorithm::eltwise_relu);
}
/// The erf form, or the tanh form with attr `approximate = "tanh"`.
algorithm geluAlgorithm(const KernelContext &ctx) {
  auto form = ctx.step.attrs.find("approximate");
  return form != ctx.step.attrs.end() && form->second.s == "tanh"
             ? algorithm::eltwise_gelu_tanh
             : algorithm::eltwise_gelu_erf;
}
std::unique_ptr<Kernel> makeGelu(const KernelContext &ctx) {
  return eltwiseFwd(ctx, geluAlgorithm(ctx));
}
/// relu6 = clip to [0, 6]; oneDNN's clip_v2 passes the gradient strictly
/// inside (0, 6), as PyTorch's hardtanh_backward.
std::unique_ptr<Kernel> makeRelu6(const KernelContext &ctx) {
  return eltwiseFwd(ctx, algorithm::eltwise_clip_v2, 0.f, 6.f);
}
std::unique_ptr<Kernel> makeRelu6Bwd(const KernelContext &ctx) {
  return eltwiseBwd(ctx, algorithm::eltwise_clip_v2, false, 0.f, 6.f);
}
std::unique_ptr<Kernel> makeReluBwd(const KernelContext &ctx) {
  return eltwiseBwd(ctx, algorithm::eltwise_relu);
}
std::unique_ptr<Kernel> makeGeluBwd(const KernelContext &ctx) {
  return eltwiseBwd(ctx, geluAlgorithm(ctx));
}
std::unique_ptr<Kernel> makeTanh(const KernelContext &ctx) {
  return eltwiseFwd(ctx, algorithm::eltwise_tanh_use_dst_for_bwd);
}
std::unique_ptr<Kernel> makeTanhBwd(const KernelContext &ctx) {
  return eltwiseBwd(ctx, algorithm::eltwise_tanh_use_dst_for_bwd,
                    /*fromDst=*/true);
}
std::unique_ptr<Kernel> makeAdd(const KernelContext &ctx) {
  return binary(ctx, algorithm::binary_add);
}
std::unique_ptr<Kernel> makeSub(const KernelContext &ctx) {
  return binary(ctx, algorithm::binary_sub);
}
std::unique_ptr<Kernel> makeMul(const KernelContext &ctx) {
  return binary(ctx, algorithm::binary_mul);
}

std::unique_ptr<Kernel> makeReduceSum(const KernelContext &ctx) {
  const Arg &x = ctx.ins[0], &y = ctx.outs[0];
  if (x.buf->layout == plan::Layout::Blocked16) {
    // [N, C, H, W] in nChw16c summed over H and W (the plan allows only
    // that): y[n, c] over the 16 lanes of each block, in position order.
    const float *in = x.f32();
    float *out = y.f32();
    int64_t n = x.shape()[0], blocks = x.shape()[1] / 16,
            hw = x.shape()[2] * x.shape()[3];
    return std::make_unique<FnKernel>([=] {
#pragma omp parallel for if (n * blocks * hw * 16 > kParallelMin)
      for (int64_t nb = 0; nb < n * blocks; ++nb) {
        float acc[16] = {};
        const float *p = in + nb * hw * 16;
        for (int64_t i = 0; i < hw; ++i)
#pragma omp simd
          for (int64_t l = 0; l < 16; ++l)
            acc[l] += p[i * 16 + l];
        for (int64_t l = 0; l < 16; ++l)
          out[nb * 16 + l] = acc[l];
      }
    });
  }
  std::vector<int64_t> axes = ctx.step.getInts("axes");
  // Merge neighbouring dimensions that are all reduced or all kept: the
  // result is the same, the rank stays small, and rank 0 needs no case.
  memory::dims src, dst;
  bool prevReduced = false;
  for (size_t d = 0; d < x.shape().size(); ++d) {
    int64_t n = x.shape()[d];
    bool reduced =
        std::find(axes.begin(), axes.end(), int64_t(d)) != axes.end();
    if (!src.empty() && reduced == prevReduced) {
      src.back() *= n;
      dst.back() *= reduced ? 1 : n;
    } else {
      src.push_back(n);
      dst.push_back(reduced ? 1 : n);
    }
    prevReduced = reduced;
  }
  if (src == dst) { // nothing (or only size-1 dims) reduced: a copy
    size_t bytes = size_t(x.buf->bytes());
    void *to = y.ptr;
    const void *from = x.ptr;
    return std::make_unique<FnKernel>([=] { std::memmove(to, from, bytes); });
  }
  if (src.size() == 2 && dst[0] == 1 && x.buf->dtype == plan::DType::F32) {
    // Column sums of [rows, cols] (a bias gradient): oneDNN 2.6 runs this
    // pattern on its reference implementation, 50x slower than a streaming
    // loop. Each column is summed over rows in order, so the result does not
    // depend on the thread count.
    const float *in = x.f32();
    float *out = y.f32();
    int64_t rows = src[0], cols = src[1];
    return std::make_unique<FnKernel>([=] { columnSums(in, rows, cols, out); });
  }
  memory::desc srcMd = plainMd(src), dstMd = plainMd(dst);
  dnnl::reduction::primitive_desc pd(
      {algorithm::reduction_sum, srcMd, dstMd, 0.f, 0.f}, ctx.engine);
  return primitive(dnnl::reduction(pd),
                   {{DNNL_ARG_SRC, bind(srcMd, ctx, x)},
                    {DNNL_ARG_DST, bind(dstMd, ctx, y)}},
                   ctx);
}

/// The kernels of the runtime contract that this file implements.
void registerDnnlKernels(KernelTable &table) {
  table.add("linear", makeLinear);
  table.add("linear_bwd_data", makeLinearBwdData);
  table.add("linear_bwd_weights", makeLinearBwdWeights);
  table.add("relu", makeRelu);
  table.add("gelu", makeGelu);
  table.add("relu_bwd", makeReluBwd);
  table.add("relu6", makeRelu6);
  table.add("relu6_bwd", makeRelu6Bwd);
  table.add("gelu_bwd", makeGeluBwd);
  table.add("tanh", makeTanh);
  table.add("tanh_bwd", makeTanhBwd);
  table.add("add", makeAdd);
  table.add("sub", makeSub);
  table.add("mul", makeMul);
  table.add("reduce_sum", makeReduceSum);
}

} // namespace ftc::rt::cpu
