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
      float lse = logSumExp(row, classes);
      for (int64_t c = 0; c < classes; ++c)
        drow[c] = std::exp(row[c] - lse) * scale;
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
