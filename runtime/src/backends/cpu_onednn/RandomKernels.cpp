//===- RandomKernels.cpp - Counter-based dropout ----------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Dropout draws element i's uniform number from a hash of (seed, step,
// stream, i) instead of a sequential generator: any thread can compute any
// element, the result does not depend on the thread count, and the backward
// regenerates the forward's mask instead of storing it. The exact function is
// part of the contract (docs/runtime-contract.md).
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <cmath>

namespace ftc::rt::cpu {

namespace {

// splitmix64's finaliser (Steele, Lea and Flood), including its increment.
inline uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t dropoutKey(uint32_t seed, uint32_t step, uint64_t stream) {
  return mix64(mix64((uint64_t(seed) << 32) | step) ^ stream);
}

struct DropoutParams {
  const float *in;
  const int32_t *rng;
  float *out;
  int64_t n;
  uint64_t stream;
  uint32_t threshold; // keep iff the 24-bit draw >= threshold
  float scale;        // 1 / (1 − p)
};

DropoutParams dropoutParams(const KernelContext &ctx) {
  double p = ctx.step.getFloat("p", 0);
  // u = r / 2^24 >= p  <=>  r >= ceil(p · 2^24) (p · 2^24 is exact).
  return {ctx.ins[0].f32(),
          ctx.ins[1].i32(),
          ctx.outs[0].f32(),
          ctx.ins[0].numel(),
          uint64_t(ctx.step.getInt("stream", 0)),
          uint32_t(std::ceil(p * 16777216.0)),
          float(1.0 / (1.0 - p))};
}

// The same function computes the forward and the backward: both scale the
// kept elements of their input and zero the rest.
std::unique_ptr<Kernel> dropout(const KernelContext &ctx) {
  DropoutParams d = dropoutParams(ctx);
  return std::make_unique<FnKernel>([=] {
    uint64_t key = dropoutKey(uint32_t(d.rng[0]), uint32_t(d.rng[1]), d.stream);
#pragma omp parallel for simd if (d.n > kParallelMin)
    for (int64_t i = 0; i < d.n; ++i) {
      uint32_t r = uint32_t(mix64(key ^ uint64_t(i)) >> 40);
      d.out[i] = r >= d.threshold ? d.in[i] * d.scale : 0.f;
    }
  });
}

} // namespace

std::unique_ptr<Kernel> makeDropout(const KernelContext &ctx) {
  return dropout(ctx);
}

std::unique_ptr<Kernel> makeDropoutBwd(const KernelContext &ctx) {
  return dropout(ctx);
}

/// The kernels of the runtime contract that this file implements.
void registerRandomKernels(KernelTable &table) {
  table.add("dropout", makeDropout);
  table.add("dropout_bwd", makeDropoutBwd);
}

} // namespace ftc::rt::cpu
