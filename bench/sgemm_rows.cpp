//===- sgemm_rows.cpp - Backward-weights gemm, plain and padded rows ------===//
// SPDX-License-Identifier: Apache-2.0
//
// Why linear_bwd_weights copies 1024-float-wide operands to padded rows
// (docs/performance.md): times dW[O,I] = dY^T X, the product it runs, on
// BERT's shapes with the operands as the plan lays them out (row length =
// width) and with rows padded by 16 floats, caches flushed before each rep.
// Usage: ftc-sgemm-rows THREADS; prints one line per shape, GFLOP/s.
//===----------------------------------------------------------------------===//
#include <dnnl.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

std::vector<float> flushBuffer(32 << 20);

void flushCaches() {
  for (size_t i = 0; i < flushBuffer.size(); i += 16)
    flushBuffer[i] += 1.f;
}

/// GFLOP/s of dY^T X for [rows, in] X and [rows, out] dY whose rows are
/// `pad` floats longer than their width; the median of 5 cold reps.
double rate(long rows, long in, long out, long pad) {
  long ldx = in + pad, ldy = out + pad;
  std::vector<float> x(size_t(rows * ldx), 0.5f), dy(size_t(rows * ldy), 0.25f),
      dw(size_t(out * in));
  std::vector<double> secs;
  for (int rep = 0; rep < 6; ++rep) {
    flushCaches();
    auto start = std::chrono::steady_clock::now();
    dnnl_sgemm('T', 'N', out, in, rows, 1.f, dy.data(), ldy, x.data(), ldx, 0.f,
               dw.data(), in);
    if (rep > 0)
      secs.push_back(std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count());
  }
  std::sort(secs.begin(), secs.end());
  return 2.0 * double(rows) * in * out / secs[secs.size() / 2] / 1e9;
}

} // namespace

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 0;
  if (threads < 1) {
    std::fprintf(stderr, "usage: %s THREADS\n", argv[0]);
    return 2;
  }
  omp_set_num_threads(threads);
  // bert-mini B32 x S128: the attention projections and the two FFN layers.
  const long shapes[][3] = {
      {4096, 256, 256}, {4096, 256, 1024}, {4096, 1024, 256}};
  for (auto &s : shapes)
    std::printf("rows %ld, in %ld, out %ld: %.1f GFLOP/s plain rows, %.1f "
                "padded by 16 floats\n",
                s[0], s[1], s[2], rate(s[0], s[1], s[2], 0),
                rate(s[0], s[1], s[2], 16));
  return 0;
}
