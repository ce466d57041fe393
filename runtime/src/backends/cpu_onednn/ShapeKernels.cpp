//===- ShapeKernels.cpp - iota, transpose, cast -----------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Index generation and data movement. `transpose` is a oneDNN reorder whose
// source descriptor walks the input with permuted strides; `cast` one that
// converts the element type (f32 to bf16 rounds to nearest even, in
// AVX512-BF16's vcvtneps2bf16 where the CPU has it).
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <algorithm>
#include <cstring>

namespace ftc::rt::cpu {

std::unique_ptr<Kernel> makeIota(const KernelContext &ctx) {
  const std::vector<int64_t> &shape = ctx.outs[0].shape();
  size_t axis = size_t(ctx.step.getInt("axis", 0));
  int64_t dim = shape[axis],
          inner = shapeProduct(shape, axis + 1, shape.size());
  int64_t n = ctx.outs[0].numel();
  int32_t *y = ctx.outs[0].i32();
  return std::make_unique<FnKernel>([=] {
#pragma omp parallel for simd if (n > kParallelMin)
    for (int64_t i = 0; i < n; ++i)
      y[i] = int32_t((i / inner) % dim);
  });
}

std::unique_ptr<Kernel> makeTranspose(const KernelContext &ctx) {
  const Arg &x = ctx.ins[0], &y = ctx.outs[0];
  std::vector<int64_t> perm = ctx.step.getInts("perm");
  // Drop size-1 dims and merge neighbouring output dims that the input also
  // stores contiguously: fewer dims, the same data movement.
  const std::vector<int64_t> &xs = x.shape();
  std::vector<int64_t> xStride(xs.size(), 1);
  for (size_t d = xs.size(); d-- > 1;)
    xStride[d - 1] = xStride[d] * xs[d];
  dnnl::memory::dims dims, strides;
  for (int64_t a : perm) {
    if (xs[a] == 1)
      continue;
    if (!dims.empty() && strides.back() == xStride[a] * xs[a]) {
      dims.back() *= xs[a];
      strides.back() = xStride[a];
    } else {
      dims.push_back(xs[a]);
      strides.push_back(xStride[a]);
    }
  }
  bool identity = dims.size() <= 1;
  for (size_t d = 1; d < dims.size(); ++d)
    identity &= strides[d - 1] == strides[d] * dims[d];
  if (identity) {
    size_t bytes = size_t(x.buf->bytes());
    void *to = y.ptr;
    const void *from = x.ptr;
    return std::make_unique<FnKernel>([=] { std::memmove(to, from, bytes); });
  }
  dnnl::memory::data_type dt = dnnlType(x.buf->dtype);
  dnnl::memory::desc srcMd(dims, dt, strides);
  dnnl::memory::desc dstMd = plainMd(dims, dt);
  dnnl::memory src(srcMd, ctx.engine, x.ptr), dst(dstMd, ctx.engine, y.ptr);
  dnnl::reorder::primitive_desc pd(src, dst);
  return std::make_unique<PrimitiveKernel>(
      dnnl::reorder(pd),
      std::unordered_map<int, dnnl::memory>{{DNNL_ARG_FROM, src},
                                            {DNNL_ARG_TO, dst}},
      ctx.stream);
}

/// The kernels of the runtime contract that this file implements.
std::unique_ptr<Kernel> makeCast(const KernelContext &ctx) {
  using dnnl::memory;
  const Arg &x = ctx.ins[0], &y = ctx.outs[0];
  // Element-wise: the buffers as flat 1-D tensors.
  memory::desc src = plainMd({x.numel()}, dnnlType(x.buf->dtype)),
               dst = plainMd({y.numel()}, dnnlType(y.buf->dtype));
  dnnl::reorder::primitive_desc pd(ctx.engine, src, ctx.engine, dst);
  return std::make_unique<PrimitiveKernel>(
      dnnl::reorder(pd),
      std::unordered_map<int, memory>{
          {DNNL_ARG_SRC, memory(src, ctx.engine, x.ptr)},
          {DNNL_ARG_DST, memory(dst, ctx.engine, y.ptr)}},
      ctx.stream);
}

void registerShapeKernels(KernelTable &table) {
  table.add("iota", makeIota);
  table.add("transpose", makeTranspose);
  table.add("cast", makeCast);
}

} // namespace ftc::rt::cpu
