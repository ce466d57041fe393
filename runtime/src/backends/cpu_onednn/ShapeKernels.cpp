//===- ShapeKernels.cpp - iota, transpose -----------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Index generation and data movement. `transpose` is a oneDNN reorder whose
// source descriptor walks the input with permuted strides.
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <algorithm>
#include <cstring>

namespace ftc::rt::cpu {

namespace {

dnnl::memory::data_type dnnlType(plan::DType dt) {
  return dt == plan::DType::I32 ? dnnl::memory::data_type::s32
                                : dnnl::memory::data_type::f32;
}

} // namespace

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
void registerShapeKernels(KernelTable &table) {
  table.add("iota", makeIota);
  table.add("transpose", makeTranspose);
}

} // namespace ftc::rt::cpu
