//===- LossKernels.cpp - Fused softmax cross-entropy ------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Hand-written because a fused loss avoids materialising the softmax and
// oneDNN 2.6's softmax backward is its slow reference implementation. Rows
// are independent; the batch mean is summed serially so that results do not
// depend on the thread count.
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "ftc/runtime/Error.h"

#include <cmath>

namespace ftc::rt::cpu {

namespace {

// log(sum(exp(row))), stable: shifted by the row maximum.
float logSumExp(const float *row, int64_t n) {
  float m = row[0];
  for (int64_t c = 1; c < n; ++c)
    m = std::max(m, row[c]);
  double s = 0;
  for (int64_t c = 0; c < n; ++c)
    s += std::exp(row[c] - m);
  return m + float(std::log(s));
}

void checkLabels(const int32_t *labels, int64_t rows, int64_t classes) {
  for (int64_t r = 0; r < rows; ++r)
    if (labels[r] < 0 || labels[r] >= classes)
      throw Error("label " + std::to_string(labels[r]) + " in row " +
                  std::to_string(r) + " is outside [0, " +
                  std::to_string(classes) + ")");
}

} // namespace

std::unique_ptr<Kernel> makeSoftmaxCrossEntropy(const KernelContext &ctx) {
  const float *logits = ctx.ins[0].f32();
  const int32_t *labels = ctx.ins[1].i32();
  float *loss = ctx.outs[0].f32();
  int64_t rows = ctx.ins[0].shape()[0], classes = ctx.ins[0].shape()[1];
  // Per-row losses live in the kernel so that run() allocates nothing.
  auto rowLoss = std::make_shared<std::vector<double>>(size_t(rows));
  return std::make_unique<FnKernel>([=] {
    checkLabels(labels, rows, classes);
    double *out = rowLoss->data();
#pragma omp parallel for if (rows * classes > 32768)
    for (int64_t r = 0; r < rows; ++r) {
      const float *row = logits + r * classes;
      out[r] = double(logSumExp(row, classes)) - double(row[labels[r]]);
    }
    double sum = 0;
    for (int64_t r = 0; r < rows; ++r)
      sum += out[r];
    *loss = float(sum / double(rows));
  });
}

std::unique_ptr<Kernel> makeSoftmaxCrossEntropyBwd(const KernelContext &ctx) {
  const float *logits = ctx.ins[0].f32();
  const int32_t *labels = ctx.ins[1].i32();
  const float *dloss = ctx.ins[2].f32();
  float *dlogits = ctx.outs[0].f32();
  int64_t rows = ctx.ins[0].shape()[0], classes = ctx.ins[0].shape()[1];
  return std::make_unique<FnKernel>([=] {
    checkLabels(labels, rows, classes);
    float scale = float(double(*dloss) / double(rows));
#pragma omp parallel for if (rows * classes > 32768)
    for (int64_t r = 0; r < rows; ++r) {
      const float *row = logits + r * classes;
      float *drow = dlogits + r * classes;
      float lse = logSumExp(row, classes);
      for (int64_t c = 0; c < classes; ++c)
        drow[c] = std::exp(row[c] - lse) * scale;
      drow[labels[r]] -= scale;
    }
  });
}

} // namespace ftc::rt::cpu
