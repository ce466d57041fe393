//===- EmbeddingKernels.cpp - Embedding gather and scatter-add --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The backward scatter-add is parallel over column blocks of the table: each
// thread owns whole columns and walks every id in order, so each element is
// summed in the same order whatever the thread count, with no atomics.
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "ftc/runtime/Error.h"

#include <algorithm>
#include <cstring>

namespace ftc::rt::cpu {

namespace {

constexpr int64_t kColumnBlock = 64;

void checkIds(const int32_t *ids, int64_t n, int64_t vocab) {
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= vocab)
      throw Error("id " + std::to_string(ids[i]) + " at position " +
                  std::to_string(i) + " is outside [0, " +
                  std::to_string(vocab) + ")");
}

} // namespace

std::unique_ptr<Kernel> makeEmbedding(const KernelContext &ctx) {
  const float *table = ctx.ins[0].f32();
  const int32_t *ids = ctx.ins[1].i32();
  float *y = ctx.outs[0].f32();
  int64_t vocab = ctx.ins[0].shape()[0], hidden = ctx.ins[0].shape()[1];
  int64_t n = ctx.ins[1].numel();
  return std::make_unique<FnKernel>([=] {
    checkIds(ids, n, vocab);
#pragma omp parallel for if (n * hidden > kParallelMin)
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(y + i * hidden, table + int64_t(ids[i]) * hidden,
                  size_t(hidden) * sizeof(float));
  });
}

std::unique_ptr<Kernel> makeEmbeddingBwd(const KernelContext &ctx) {
  const int32_t *ids = ctx.ins[0].i32();
  const float *dy = ctx.ins[1].f32();
  float *dtable = ctx.outs[0].f32();
  int64_t vocab = ctx.outs[0].shape()[0], hidden = ctx.outs[0].shape()[1];
  int64_t n = ctx.ins[0].numel();
  int64_t blocks = (hidden + kColumnBlock - 1) / kColumnBlock;
  return std::make_unique<FnKernel>([=] {
    checkIds(ids, n, vocab);
    int64_t total = vocab * hidden;
#pragma omp parallel for simd if (total > kParallelMin)
    for (int64_t e = 0; e < total; ++e)
      dtable[e] = 0.f;
#pragma omp parallel for if (n * hidden > kParallelMin)
    for (int64_t blk = 0; blk < blocks; ++blk) {
      int64_t h0 = blk * kColumnBlock, h1 = std::min(hidden, h0 + kColumnBlock);
      for (int64_t i = 0; i < n; ++i) {
        float *dst = dtable + int64_t(ids[i]) * hidden;
        const float *src = dy + i * hidden;
        for (int64_t h = h0; h < h1; ++h)
          dst[h] += src[h];
      }
    }
  });
}

/// The kernels of the runtime contract that this file implements.
void registerEmbeddingKernels(KernelTable &table) {
  table.add("embedding", makeEmbedding);
  table.add("embedding_bwd", makeEmbeddingBwd);
}

} // namespace ftc::rt::cpu
