//===- LossKernels.cpp - Fused softmax cross-entropy ------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Hand-written because a fused loss avoids materialising the softmax and
// oneDNN 2.6's softmax backward is its slow reference implementation. Rows
// are independent; the batch mean is summed serially so that results do not
// depend on the thread count. Rows labelled `ignore_index` (when the step has
// it) count for nothing, neither in the sum nor in the mean's divisor.
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "ftc/runtime/Error.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace ftc::rt::cpu {

namespace {

/// e^x for x <= 0 (the arguments here are shifted by the row maximum):
/// Cephes' expf polynomial (relative error about 1e-7) in plain arithmetic
/// and bit casts, so the loops below vectorise instead of calling libm once
/// per logit: a language model's vocabulary makes this the costliest kernel
/// of a step. Below -87 (a weight under 2^-125) it returns e^-87.
inline float expNonPositive(float x) {
  constexpr float kRound = 12582912.0f; // 1.5 * 2^23: adding it rounds
  x = x < -87.0f ? -87.0f : x;
  float t = x * 1.44269504088896341f + kRound;
  float n = t - kRound; // round(x / ln 2)
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  int32_t scaleBits = (bits - 0x4B400000 + 127) << 23; // 2^n
  float scale;
  std::memcpy(&scale, &scaleBits, sizeof scale);
  return p * scale;
}

float rowMax(const float *row, int64_t n) {
  float m = row[0];
  for (int64_t c = 1; c < n; ++c)
    m = row[c] > m ? row[c] : m;
  return m;
}

/// sum_c e^(row[c] - m), in eight float partial sums of a fixed order (so
/// that the loop vectorises and the result does not depend on the thread
/// count), added in double; with `out`, also each term.
double sumExp(const float *row, int64_t n, float m, float *out) {
  constexpr int64_t kLanes = 8;
  float acc[kLanes] = {};
  int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes)
    for (int64_t k = 0; k < kLanes; ++k) {
      float e = expNonPositive(row[c + k] - m);
      if (out)
        out[c + k] = e;
      acc[k] += e;
    }
  double s = 0;
  for (int64_t k = 0; k < kLanes; ++k)
    s += acc[k];
  for (; c < n; ++c) {
    float e = expNonPositive(row[c] - m);
    if (out)
      out[c] = e;
    s += e;
  }
  return s;
}

// log(sum(exp(row))), stable: shifted by the row maximum.
float logSumExp(const float *row, int64_t n) {
  float m = rowMax(row, n);
  return m + float(std::log(sumExp(row, n, m, nullptr)));
}

// A label equal to `ignore` (when `hasIgnore`) marks a row that contributes
// nothing; any other label must be a class.
struct Labels {
  const int32_t *labels;
  int64_t rows, classes;
  bool hasIgnore;
  int64_t ignore;

  bool ignored(int64_t r) const { return hasIgnore && labels[r] == ignore; }

  // Checks every label; returns the number of rows that count.
  int64_t check() const {
    int64_t counted = 0;
    for (int64_t r = 0; r < rows; ++r) {
      if (ignored(r))
        continue;
      if (labels[r] < 0 || labels[r] >= classes)
        throw Error("label " + std::to_string(labels[r]) + " in row " +
                    std::to_string(r) + " is outside [0, " +
                    std::to_string(classes) + ")" +
                    (hasIgnore ? " and is not the ignore_index " +
                                     std::to_string(ignore)
                               : std::string()));
      ++counted;
    }
    return counted;
  }
};

Labels labelsOf(const KernelContext &ctx) {
  auto it = ctx.step.attrs.find("ignore_index");
  bool has = it != ctx.step.attrs.end();
  return {ctx.ins[1].i32(), ctx.ins[0].shape()[0], ctx.ins[0].shape()[1], has,
          has ? it->second.i : 0};
}

} // namespace

std::unique_ptr<Kernel> makeSoftmaxCrossEntropy(const KernelContext &ctx) {
  const float *logits = ctx.ins[0].f32();
  Labels l = labelsOf(ctx);
  const int32_t *labels = l.labels;
  float *loss = ctx.outs[0].f32();
  int64_t rows = l.rows, classes = l.classes;
  // Per-row losses live in the kernel so that run() allocates nothing.
  auto rowLoss = std::make_shared<std::vector<double>>(size_t(rows));
  return std::make_unique<FnKernel>([=] {
    int64_t counted = l.check();
    double *out = rowLoss->data();
#pragma omp parallel for if (rows * classes > 32768)
    for (int64_t r = 0; r < rows; ++r) {
      const float *row = logits + r * classes;
      out[r] = l.ignored(r)
                   ? 0.0
                   : double(logSumExp(row, classes)) - double(row[labels[r]]);
    }
    double sum = 0;
    for (int64_t r = 0; r < rows; ++r)
      sum += out[r];
    *loss = counted ? float(sum / double(counted)) : 0.f;
  });
}

std::unique_ptr<Kernel> makeSoftmaxCrossEntropyBwd(const KernelContext &ctx) {
  const float *logits = ctx.ins[0].f32();
  Labels l = labelsOf(ctx);
  const int32_t *labels = l.labels;
  const float *dloss = ctx.ins[2].f32();
  float *dlogits = ctx.outs[0].f32();
  int64_t rows = l.rows, classes = l.classes;
  return std::make_unique<FnKernel>([=] {
    int64_t counted = l.check();
    float scale = counted ? float(double(*dloss) / double(counted)) : 0.f;
#pragma omp parallel for if (rows * classes > 32768)
    for (int64_t r = 0; r < rows; ++r) {
      const float *row = logits + r * classes;
      float *drow = dlogits + r * classes;
      if (l.ignored(r)) {
        std::fill(drow, drow + classes, 0.f);
        continue;
      }
      // The softmax, its exponentials computed once.
      double sum = sumExp(row, classes, rowMax(row, classes), drow);
      float k = float(double(scale) / sum);
      for (int64_t c = 0; c < classes; ++c)
        drow[c] *= k;
      drow[labels[r]] -= scale;
    }
  });
}

/// The kernels of the runtime contract that this file implements.
void registerLossKernels(KernelTable &table) {
  table.add("softmax_cross_entropy", makeSoftmaxCrossEntropy);
  table.add("softmax_cross_entropy_bwd", makeSoftmaxCrossEntropyBwd);
}

} // namespace ftc::rt::cpu
