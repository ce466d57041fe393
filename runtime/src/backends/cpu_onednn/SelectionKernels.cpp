//===- SelectionKernels.cpp - compare, where, select, slice, concat *- C++
//-*-===//
// SPDX-License-Identifier: Apache-2.0
//
// `compare` and `where` walk the output with one stride per input and axis
// (0 where the input broadcasts); `select`, `slice`, their backward kernels
// and `concat` copy whole inner rows, dtype-blind (`select` is a slice of
// one whose axis the result drops: the bytes are the same). None sums
// anything, so all are exact.
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <cstring>

namespace ftc::rt::cpu {

namespace {

/// Maps an output element index to the element of each (broadcast) input.
class BroadcastIndex {
public:
  BroadcastIndex(const std::vector<int64_t> &out,
                 const std::vector<const std::vector<int64_t> *> &ins)
      : dims(out), strides(ins.size(), std::vector<int64_t>(out.size())) {
    for (size_t k = 0; k < ins.size(); ++k)
      for (int64_t i = int64_t(out.size()) - 1, n = 1; i >= 0; --i) {
        int64_t d = (*ins[k])[size_t(i)];
        strides[k][size_t(i)] = d == 1 ? 0 : n;
        n *= d;
      }
  }
  /// The flat index in input `k` of output element `e`.
  int64_t at(size_t k, int64_t e) const {
    int64_t index = 0;
    for (size_t i = dims.size(); i-- > 0;) {
      index += (e % dims[i]) * strides[k][i];
      e /= dims[i];
    }
    return index;
  }

private:
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> strides;
};

template <typename T>
std::unique_ptr<Kernel> compareOf(const KernelContext &ctx, const T *a,
                                  const T *b) {
  BroadcastIndex index(ctx.outs[0].shape(),
                       {&ctx.ins[0].shape(), &ctx.ins[1].shape()});
  const std::string &predicate = ctx.step.attrs.at("predicate").s;
  int32_t *y = ctx.outs[0].i32();
  int64_t n = ctx.outs[0].numel();
  // One comparison per predicate, picked once here, not per element.
  auto loop = [=](auto cmp) -> std::function<void()> {
    return [=] {
#pragma omp parallel for if (n > kParallelMin)
      for (int64_t e = 0; e < n; ++e)
        y[e] = cmp(a[index.at(0, e)], b[index.at(1, e)]) ? 1 : 0;
    };
  };
  std::function<void()> fn;
  if (predicate == "eq")
    fn = loop([](T x, T z) { return x == z; });
  else if (predicate == "ne")
    fn = loop([](T x, T z) { return x != z; });
  else if (predicate == "lt")
    fn = loop([](T x, T z) { return x < z; });
  else if (predicate == "le")
    fn = loop([](T x, T z) { return x <= z; });
  else if (predicate == "gt")
    fn = loop([](T x, T z) { return x > z; });
  else
    fn = loop([](T x, T z) { return x >= z; });
  return std::make_unique<FnKernel>(std::move(fn));
}

/// Copies rows of `rowBytes` between a tensor with the axis whole (`full`,
/// rows of `fullBytes`) and one holding a range of it (`part`), at byte
/// offset `offsetBytes` in each full row.
struct RangeCopy {
  char *full, *part;
  int64_t outer;
  size_t fullBytes, rowBytes, offsetBytes;
};

/// The range [start, start + size) along `axis` of `full`, held by `part`.
RangeCopy rangeCopy(const Arg &full, const Arg &part, int64_t axis,
                    int64_t start, int64_t size) {
  const std::vector<int64_t> &shape = full.shape();
  size_t inner = size_t(shapeProduct(shape, size_t(axis) + 1, shape.size())) *
                 plan::elementSize(full.buf->dtype);
  return {static_cast<char *>(full.ptr),
          static_cast<char *>(part.ptr),
          shapeProduct(shape, 0, size_t(axis)),
          size_t(shape[size_t(axis)]) * inner,
          size_t(size) * inner,
          size_t(start) * inner};
}

/// `slice`'s range: `part` keeps the axis, shortened.
RangeCopy sliceRange(const Arg &full, const Arg &part, const plan::Step &step) {
  int64_t axis = step.getInt("axis", 0);
  return rangeCopy(full, part, axis, step.getInt("start", 0),
                   part.shape()[size_t(axis)]);
}

/// `select`'s range: one position, which `part` drops.
RangeCopy selectRange(const Arg &full, const Arg &part,
                      const plan::Step &step) {
  return rangeCopy(full, part, step.getInt("axis", 0), step.getInt("index", 0),
                   1);
}

void gather(const RangeCopy &c) {
#pragma omp parallel for if (c.outer * int64_t(c.rowBytes) > kParallelMin)
  for (int64_t o = 0; o < c.outer; ++o)
    std::memcpy(c.part + o * int64_t(c.rowBytes),
                c.full + o * int64_t(c.fullBytes) + int64_t(c.offsetBytes),
                c.rowBytes);
}

void scatter(const RangeCopy &c) {
#pragma omp parallel for if (c.outer * int64_t(c.rowBytes) > kParallelMin)
  for (int64_t o = 0; o < c.outer; ++o)
    std::memcpy(c.full + o * int64_t(c.fullBytes) + int64_t(c.offsetBytes),
                c.part + o * int64_t(c.rowBytes), c.rowBytes);
}

/// Zeroes `full`, then writes the range back.
std::unique_ptr<Kernel> scatterKernel(RangeCopy c, size_t fullBytes) {
  return std::make_unique<FnKernel>([=] {
    std::memset(c.full, 0, fullBytes);
    scatter(c);
  });
}

} // namespace

std::unique_ptr<Kernel> makeCompare(const KernelContext &ctx) {
  if (ctx.ins[0].buf->dtype == plan::DType::I32)
    return compareOf<int32_t>(ctx, ctx.ins[0].i32(), ctx.ins[1].i32());
  return compareOf<float>(ctx, ctx.ins[0].f32(), ctx.ins[1].f32());
}

std::unique_ptr<Kernel> makeWhere(const KernelContext &ctx) {
  BroadcastIndex index(
      ctx.outs[0].shape(),
      {&ctx.ins[0].shape(), &ctx.ins[1].shape(), &ctx.ins[2].shape()});
  const int32_t *cond = ctx.ins[0].i32();
  const float *a = ctx.ins[1].f32(), *b = ctx.ins[2].f32();
  float *y = ctx.outs[0].f32();
  int64_t n = ctx.outs[0].numel();
  return std::make_unique<FnKernel>([=] {
#pragma omp parallel for if (n > kParallelMin)
    for (int64_t e = 0; e < n; ++e)
      y[e] = cond[index.at(0, e)] != 0 ? a[index.at(1, e)] : b[index.at(2, e)];
  });
}

std::unique_ptr<Kernel> makeSelect(const KernelContext &ctx) {
  RangeCopy c = selectRange(ctx.ins[0], ctx.outs[0], ctx.step);
  return std::make_unique<FnKernel>([=] { gather(c); });
}

std::unique_ptr<Kernel> makeSelectBwd(const KernelContext &ctx) {
  return scatterKernel(selectRange(ctx.outs[0], ctx.ins[0], ctx.step),
                       size_t(ctx.outs[0].buf->bytes()));
}

std::unique_ptr<Kernel> makeSlice(const KernelContext &ctx) {
  RangeCopy c = sliceRange(ctx.ins[0], ctx.outs[0], ctx.step);
  return std::make_unique<FnKernel>([=] { gather(c); });
}

std::unique_ptr<Kernel> makeSliceBwd(const KernelContext &ctx) {
  return scatterKernel(sliceRange(ctx.outs[0], ctx.ins[0], ctx.step),
                       size_t(ctx.outs[0].buf->bytes()));
}

std::unique_ptr<Kernel> makeConcat(const KernelContext &ctx) {
  int64_t axis = ctx.step.getInt("axis", 0), start = 0;
  std::vector<RangeCopy> parts;
  for (const Arg &in : ctx.ins) {
    parts.push_back(
        rangeCopy(ctx.outs[0], in, axis, start, in.shape()[size_t(axis)]));
    start += in.shape()[size_t(axis)];
  }
  return std::make_unique<FnKernel>([=] {
    for (const RangeCopy &c : parts)
      scatter(c);
  });
}

/// The kernels of the runtime contract that this file implements.
void registerSelectionKernels(KernelTable &table) {
  table.add("compare", makeCompare);
  table.add("where", makeWhere);
  table.add("select", makeSelect);
  table.add("select_bwd", makeSelectBwd);
  table.add("slice", makeSlice);
  table.add("slice_bwd", makeSliceBwd);
  table.add("concat", makeConcat);
}

} // namespace ftc::rt::cpu
