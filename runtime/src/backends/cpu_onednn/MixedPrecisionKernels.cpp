//===- MixedPrecisionKernels.cpp - Linear layers on bf16 operands -*- C++
//-*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Under train.precision = "bf16" the linear kernels multiply bf16 copies
// (docs/runtime-contract.md, "Mixed precision") and write f32. They are
// oneDNN matmuls, not inner products: oneDNN 2.6's bf16 inner product takes
// AMX only with blocked weights (a reorder per call, as weights change every
// step), while its matmul packs plain operands itself and runs AMX (or
// AVX512-BF16) brgemm kernels. The transposes are strides, so no copy is
// made.
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "ftc/runtime/Bfloat16.h"

namespace ftc::rt::cpu {

using dnnl::memory;

namespace {

constexpr memory::data_type kBf16 = memory::data_type::bf16;
constexpr memory::data_type kF32 = memory::data_type::f32;

/// A [rows, cols] matrix viewed in a dense [rows, cols] buffer, or in a dense
/// [cols, rows] one when `transposed`.
memory::desc matrix(int64_t rows, int64_t cols, memory::data_type dt,
                    bool transposed = false) {
  return memory::desc({rows, cols}, dt,
                      transposed ? memory::dims{1, rows}
                                 : memory::dims{cols, 1});
}

} // namespace

// y[B,O] = x[B,I] · w[O,I]ᵀ + b, gelu as a post-op when fused.
std::unique_ptr<Kernel> makeLinearBf16(const KernelContext &ctx) {
  const Arg &x = ctx.ins[0], &w = ctx.ins[1], &y = ctx.outs[0];
  int64_t batch = x.shape()[0], in = x.shape()[1], out = w.shape()[0];
  dnnl::primitive_attr attr;
  auto act = ctx.step.attrs.find("activation");
  if (act != ctx.step.attrs.end() && act->second.s == "gelu") {
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_gelu_erf, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  memory::desc biasMd = matrix(1, out, kF32);
  bool bias = ctx.ins.size() == 3;
  return matmulKernel(ctx, matrix(batch, in, kBf16), x.ptr,
                      matrix(in, out, kBf16, /*transposed=*/true), w.ptr,
                      matrix(batch, out, kF32), y.ptr, bias ? &biasMd : nullptr,
                      bias ? ctx.ins[2].ptr : nullptr, attr);
}

// dx[B,I] = dy[B,O] · w[O,I].
std::unique_ptr<Kernel> makeLinearBwdDataBf16(const KernelContext &ctx) {
  const Arg &dy = ctx.ins[0], &w = ctx.ins[1], &dx = ctx.outs[0];
  int64_t batch = dy.shape()[0], out = w.shape()[0], in = w.shape()[1];
  return matmulKernel(ctx, matrix(batch, out, kBf16), dy.ptr,
                      matrix(out, in, kBf16), w.ptr, matrix(batch, in, kF32),
                      dx.ptr);
}

// dw[O,I] = dy[B,O]ᵀ · x[B,I]; db = the f32 column sums of dy, each column
// summed over the rows in order (independent of the thread count).
std::unique_ptr<Kernel> makeLinearBwdWeightsBf16(const KernelContext &ctx) {
  const Arg &x = ctx.ins[0], &dy = ctx.ins[1], &dw = ctx.outs[0];
  int64_t rows = x.shape()[0], in = x.shape()[1], out = dy.shape()[1];
  std::unique_ptr<Kernel> product = matmulKernel(
      ctx, matrix(out, rows, kBf16, /*transposed=*/true), dy.ptr,
      matrix(rows, in, kBf16), x.ptr, matrix(out, in, kF32), dw.ptr);
  if (ctx.outs.size() == 1)
    return product;
  std::shared_ptr<Kernel> shared = std::move(product);
  const uint16_t *dyp = static_cast<const uint16_t *>(dy.ptr);
  float *db = ctx.outs[1].f32();
  return std::make_unique<FnKernel>([=] {
    shared->run();
    columnSums(dyp, rows, out, db, bf16ToFloat);
  });
}

} // namespace ftc::rt::cpu
