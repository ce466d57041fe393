//===- AttentionKernels.cpp - batch_matmul, masked softmax ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// `batch_matmul` is one oneDNN matmul over the flattened batch, with the
// transposes expressed as strides (no copies). The softmax kernels are
// hand-written: the mask is fused into the forward, and oneDNN 2.6's softmax
// backward is its slow reference implementation. Rows are independent, and
// each row is reduced serially, so results do not depend on the thread count.
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <cmath>
#include <limits>

namespace ftc::rt::cpu {

using dnnl::memory;

namespace {

// A [batch, rows, cols] view of a dense [batch, rows, cols] buffer, or of a
// dense [batch, cols, rows] one when `transposed`.
memory::desc matrixMd(int64_t batch, int64_t rows, int64_t cols,
                      bool transposed, plan::DType dt) {
  memory::dims strides = transposed ? memory::dims{rows * cols, 1, rows}
                                    : memory::dims{rows * cols, cols, 1};
  return memory::desc({batch, rows, cols}, dnnlType(dt), strides);
}

} // namespace

namespace {

/// The strides of a plain row-major tensor of `shape`.
memory::dims plainStrides(const std::vector<int64_t> &shape) {
  memory::dims strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;)
    strides[d - 1] = strides[d] * shape[d];
  return strides;
}

/// The view of a row-major buffer of `shape` whose axis k is the buffer's
/// axis view[k]: the same bytes, permuted dims and strides.
memory::desc viewMd(const std::vector<int64_t> &shape,
                    const std::vector<int64_t> &view, plan::DType dt) {
  memory::dims plain = plainStrides(shape), dims, strides;
  for (int64_t v : view) {
    dims.push_back(shape[size_t(v)]);
    strides.push_back(plain[size_t(v)]);
  }
  return memory::desc(dims, dnnlType(dt), strides);
}

/// batch_matmul with a_perm / b_perm / c_perm (ftc.strided_batch_matmul):
/// oneDNN's matmul reads and writes the permuted layouts through strides.
std::unique_ptr<Kernel> makeStridedBatchMatmul(const KernelContext &ctx) {
  const Arg &a = ctx.ins[0], &b = ctx.ins[1], &c = ctx.outs[0];
  std::vector<int64_t> cPerm = ctx.step.getInts("c_perm");
  // The buffer holds transpose(C, c_perm): C's axis j is its axis inv[j].
  std::vector<int64_t> inv(cPerm.size());
  for (size_t k = 0; k < cPerm.size(); ++k)
    inv[size_t(cPerm[k])] = int64_t(k);
  memory::desc aMd =
                   viewMd(a.shape(), ctx.step.getInts("a_perm"), a.buf->dtype),
               bMd =
                   viewMd(b.shape(), ctx.step.getInts("b_perm"), b.buf->dtype),
               cMd = viewMd(c.shape(), inv, c.buf->dtype);
  return matmulKernel(ctx, aMd, a.ptr, bMd, b.ptr, cMd, c.ptr);
}

} // namespace

std::unique_ptr<Kernel> matmulKernel(const KernelContext &ctx,
                                     const memory::desc &a, void *aPtr,
                                     const memory::desc &b, void *bPtr,
                                     const memory::desc &c, void *cPtr,
                                     const memory::desc *bias, void *biasPtr,
                                     const dnnl::primitive_attr &attr) {
  auto desc =
      bias ? dnnl::matmul::desc(a, b, *bias, c) : dnnl::matmul::desc(a, b, c);
  dnnl::matmul::primitive_desc pd(desc, attr, ctx.engine);
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, memory(a, ctx.engine, aPtr)},
      {DNNL_ARG_WEIGHTS, memory(b, ctx.engine, bPtr)},
      {DNNL_ARG_DST, memory(c, ctx.engine, cPtr)}};
  if (bias)
    args[DNNL_ARG_BIAS] = memory(*bias, ctx.engine, biasPtr);
  return std::make_unique<PrimitiveKernel>(dnnl::matmul(pd), std::move(args),
                                           ctx.stream);
}

std::unique_ptr<Kernel> makeBatchMatmul(const KernelContext &ctx) {
  if (ctx.step.attrs.count("a_perm"))
    return makeStridedBatchMatmul(ctx);
  const Arg &a = ctx.ins[0], &c = ctx.outs[0];
  bool ta = ctx.step.getInt("transpose_a", 0) != 0;
  bool tb = ctx.step.getInt("transpose_b", 0) != 0;
  const std::vector<int64_t> &cs = c.shape();
  size_t rank = cs.size();
  int64_t m = cs[rank - 2], n = cs[rank - 1];
  int64_t k = a.shape()[ta ? rank - 2 : rank - 1];
  int64_t batch = c.numel() / (m * n);
  plan::DType dt = a.buf->dtype; // f32, or bf16 under mixed precision
  memory::desc aMd = matrixMd(batch, m, k, ta, dt),
               bMd = matrixMd(batch, k, n, tb, dt);
  memory::desc cMd = matrixMd(batch, m, n, false, plan::DType::F32);
  return matmulKernel(ctx, aMd, a.ptr, bMd, ctx.ins[1].ptr, cMd, c.ptr);
}

std::unique_ptr<Kernel> makeMaskedSoftmax(const KernelContext &ctx) {
  const float *x = ctx.ins[0].f32();
  const int32_t *mask = ctx.ins.size() == 2 ? ctx.ins[1].i32() : nullptr;
  float *y = ctx.outs[0].f32();
  const std::vector<int64_t> &shape = ctx.ins[0].shape();
  int64_t s = shape.empty() ? 1 : shape.back();
  int64_t rows = ctx.ins[0].numel() / s;
  // Rows per mask row: the product of the middle axes.
  int64_t perBatch = mask ? rows / shape[0] : 1;
  float scale = float(ctx.step.getFloat("scale", 1));
  constexpr float kMasked = std::numeric_limits<float>::lowest();
  // Causal: row r is query r % Q, which sees keys k <= q + (K - Q).
  bool causal = ctx.step.getInt("causal", 0) != 0;
  int64_t queries = causal ? shape[shape.size() - 2] : 1;
  // The softmax itself is oneDNN's (vectorised exp), in place on y.
  memory::desc md = plainMd({rows, s});
  dnnl::softmax_forward::primitive_desc pd(
      {dnnl::prop_kind::forward_training, md, 1}, ctx.engine);
  auto softmax = std::make_shared<PrimitiveKernel>(
      dnnl::softmax_forward(pd),
      std::unordered_map<int, memory>{
          {DNNL_ARG_SRC, memory(md, ctx.engine, y)},
          {DNNL_ARG_DST, memory(md, ctx.engine, y)}},
      ctx.stream);
  return std::make_unique<FnKernel>([=] {
  // As Hugging Face: scale · x plus the float32 minimum where masked, in
  // float, so a fully masked row becomes uniform.
#pragma omp parallel for if (rows * s > kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      const float *xr = x + r * s;
      const int32_t *mr = mask ? mask + (r / perBatch) * s : nullptr;
      float *yr = y + r * s;
      if (mr) {
#pragma omp simd
        for (int64_t j = 0; j < s; ++j)
          yr[j] = scale * xr[j] + (mr[j] == 0 ? kMasked : 0.f);
      } else {
#pragma omp simd
        for (int64_t j = 0; j < s; ++j)
          yr[j] = scale * xr[j];
      }
      if (causal) {
        // As Hugging Face's GPT-2: the hidden keys are replaced by the
        // lowest float and the key mask then added (lowest + lowest is -inf:
        // still no weight).
        int64_t visible = r % queries + (s - queries) + 1;
        for (int64_t j = visible; j < s; ++j)
          yr[j] = mr && mr[j] == 0 ? -std::numeric_limits<float>::infinity()
                                   : kMasked;
      }
    }
    softmax->run();
  });
}

std::unique_ptr<Kernel> makeSoftmaxBwd(const KernelContext &ctx) {
  const float *y = ctx.ins[0].f32(), *dy = ctx.ins[1].f32();
  float *dx = ctx.outs[0].f32();
  const std::vector<int64_t> &shape = ctx.ins[0].shape();
  int64_t s = shape.empty() ? 1 : shape.back();
  int64_t rows = ctx.ins[0].numel() / s;
  double scale = ctx.step.getFloat("scale", 1);
  return std::make_unique<FnKernel>([=] {
#pragma omp parallel for if (rows * s > kParallelMin)
    for (int64_t r = 0; r < rows; ++r) {
      const float *yr = y + r * s, *dyr = dy + r * s;
      float *dxr = dx + r * s;
      double dot = 0;
#pragma omp simd reduction(+ : dot)
      for (int64_t j = 0; j < s; ++j)
        dot += double(dyr[j]) * yr[j];
#pragma omp simd
      for (int64_t j = 0; j < s; ++j)
        dxr[j] = float(scale * yr[j] * (double(dyr[j]) - dot));
    }
  });
}

/// The kernels of the runtime contract that this file implements.
void registerAttentionKernels(KernelTable &table) {
  table.add("batch_matmul", makeBatchMatmul);
  table.add("masked_softmax", makeMaskedSoftmax);
  table.add("softmax_bwd", makeSoftmaxBwd);
}

} // namespace ftc::rt::cpu
