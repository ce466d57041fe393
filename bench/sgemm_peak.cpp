//===- sgemm_peak.cpp - The machine's f32 GEMM rate through oneDNN -------===//
// SPDX-License-Identifier: Apache-2.0
//
// bench/bench.py prints each row's step rate beside this: a square sgemm
// through oneDNN (the library ftc's CPU backend uses), at a thread count.
// Usage: ftc-sgemm-peak THREADS [N]; prints GFLOP/s.
//===----------------------------------------------------------------------===//
#include <dnnl.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s THREADS [N]\n", argv[0]);
    return 2;
  }
  int threads = std::atoi(argv[1]);
  long n = argc > 2 ? std::atol(argv[2]) : 1024;
  if (threads < 1 || n < 64) {
    std::fprintf(stderr, "THREADS >= 1 and N >= 64\n");
    return 2;
  }
  omp_set_num_threads(threads);
  std::vector<float> a(size_t(n * n), 0.5f), b(size_t(n * n), 0.25f),
      c(size_t(n * n), 0.f);
  auto gemm = [&] {
    return dnnl_sgemm('N', 'N', n, n, n, 1.f, a.data(), n, b.data(), n, 0.f,
                      c.data(), n);
  };
  for (int i = 0; i < 3; ++i)
    if (gemm() != dnnl_success)
      return 1;
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    auto start = std::chrono::steady_clock::now();
    int iters = 5;
    for (int i = 0; i < iters; ++i)
      gemm();
    double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    best = std::max(best, 2.0 * double(n) * n * n * iters / s / 1e9);
  }
  std::printf("%.1f\n", best);
  return 0;
}
