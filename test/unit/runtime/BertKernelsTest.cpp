//===- BertKernelsTest.cpp - BERT's kernels vs references -------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Each kernel runs in a small hand-built plan and is compared with a naive
// double-precision loop. Every backward kernel is also compared with central
// finite differences of its forward kernel, run through the backend, so the
// pair is checked against the contract rather than against itself.
//===----------------------------------------------------------------------===//

#include "PlanBuilder.h"

#include "ftc/runtime/Backend.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <numeric>

using namespace ftc;
using ftc::test::PlanBuilder;

namespace {

using Vec = std::vector<float>;
using Ref = std::vector<double>;
using IVec = std::vector<int32_t>;

std::unique_ptr<rt::Backend> loaded(const plan::Plan &p, int threads = 0) {
  auto be = rt::createCpuBackend(threads);
  be->load(p);
  return be;
}

Vec readF32(rt::Backend &be, const plan::Plan &p, int32_t id) {
  Vec v(size_t(p.buffers[id].numElements()));
  be.read(id, v.data());
  return v;
}

IVec readI32(rt::Backend &be, const plan::Plan &p, int32_t id) {
  IVec v(size_t(p.buffers[id].numElements()));
  be.read(id, v.data());
  return v;
}

void expectClose(const Vec &got, const Ref &ref, double rel = 1e-5) {
  ASSERT_EQ(got.size(), ref.size());
  int failures = 0;
  for (size_t i = 0; i < got.size() && failures < 5; ++i)
    if (!test::closeTo(got[i], ref[i], rel)) {
      ADD_FAILURE() << "element " << i << ": got " << got[i] << ", expected "
                    << ref[i];
      ++failures;
    }
}

bool bitIdentical(const Vec &a, const Vec &b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

/// Central differences of Σ w·out with respect to every element of the input
/// buffer `in` (which holds `x`), running the whole program each time. Leaves
/// `x` written back.
Ref numericGrad(rt::Backend &be, const plan::Plan &p, int32_t in, Vec x,
                int32_t out, const Vec &w, float h = 1e-2f) {
  auto objective = [&] {
    be.run("p");
    Vec y = readF32(be, p, out);
    double s = 0;
    for (size_t i = 0; i < y.size(); ++i)
      s += double(w[i]) * y[i];
    return s;
  };
  Ref g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    float orig = x[i];
    x[i] = orig + h;
    double xp = x[i];
    be.write(in, x.data());
    double lp = objective();
    x[i] = orig - h;
    double xm = x[i];
    be.write(in, x.data());
    double lm = objective();
    x[i] = orig;
    g[i] = (lp - lm) / (xp - xm);
  }
  be.write(in, x.data());
  be.run("p");
  return g;
}

/// Finite differences are good to a few parts in 10^3 in f32.
void expectGradClose(const Vec &analytic, const Ref &numeric,
                     double tol = 3e-3) {
  expectClose(analytic, numeric, tol);
}

template <typename Fn> std::string errorOf(Fn fn) {
  try {
    fn();
  } catch (const rt::Error &e) {
    return e.what();
  }
  return "";
}

plan::DType kI32 = plan::DType::I32;

//===----------------------------------------------------------------------===//
// embedding, embedding_bwd
//===----------------------------------------------------------------------===//

struct EmbeddingPlan {
  static constexpr int64_t V = 7, H = 5;
  PlanBuilder pb;
  int32_t table, ids, dy, y, dtable;
  EmbeddingPlan() {
    table = pb.param("table", {V, H});
    ids = pb.input("ids", {2, 3}, kI32);
    dy = pb.input("dy", {2, 3, H});
    y = pb.temp("y", {2, 3, H});
    dtable = pb.temp("dtable", {V, H});
    pb.step("embedding", {table, ids}, {y});
    pb.step("embedding_bwd", {ids, dy}, {dtable});
  }
};

TEST(EmbeddingTest, GathersAndScatterAddsRepeatedIds) {
  EmbeddingPlan e;
  const int64_t V = EmbeddingPlan::V, H = EmbeddingPlan::H;
  auto be = loaded(e.pb.plan);
  Vec tv = test::randomVector(V * H, 1), dyv = test::randomVector(6 * H, 2);
  IVec idv = {3, 0, 3, 6, 3, 0}; // 3 three times, 0 twice; 1, 2, 4, 5 unused
  be->write(e.table, tv.data());
  be->write(e.ids, idv.data());
  be->write(e.dy, dyv.data());
  // A stale gradient must be overwritten, not accumulated into.
  Vec junk(V * H, 9.f);
  be->write(e.dtable, junk.data());
  be->run("p");
  Ref yRef(6 * H), dRef(V * H, 0);
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t h = 0; h < H; ++h) {
      yRef[i * H + h] = tv[idv[i] * H + h];
      dRef[idv[i] * H + h] += dyv[i * H + h];
    }
  expectClose(readF32(*be, e.pb.plan, e.y), yRef, 0);
  expectClose(readF32(*be, e.pb.plan, e.dtable), dRef);
  // Against finite differences of the forward kernel.
  Vec analytic = readF32(*be, e.pb.plan, e.dtable);
  expectGradClose(analytic, numericGrad(*be, e.pb.plan, e.table, tv, e.y, dyv));
}

TEST(EmbeddingTest, BackwardIsBitIdenticalAcrossRunsAndThreads) {
  // Large enough to run on many threads, with heavy repetition.
  const int64_t V = 50, H = 200, N = 4096;
  PlanBuilder pb;
  int32_t ids = pb.input("ids", {N}, kI32), dy = pb.input("dy", {N, H});
  int32_t dtable = pb.temp("dtable", {V, H});
  pb.step("embedding_bwd", {ids, dy}, {dtable});
  IVec idv(N);
  std::mt19937 rng(3);
  for (int32_t &i : idv)
    i = int32_t(rng() % V);
  Vec dyv = test::randomVector(N * H, 4);
  Vec first;
  for (int threads : {1, 2, 2}) {
    auto be = loaded(pb.plan, threads);
    be->write(ids, idv.data());
    be->write(dy, dyv.data());
    be->run("p");
    be->run("p");
    Vec got = readF32(*be, pb.plan, dtable);
    if (first.empty()) {
      first = got;
      Ref ref(V * H, 0);
      for (int64_t i = 0; i < N; ++i)
        for (int64_t h = 0; h < H; ++h)
          ref[idv[i] * H + h] += dyv[i * H + h];
      expectClose(got, ref, 1e-4);
    } else {
      EXPECT_TRUE(bitIdentical(first, got)) << threads << " threads";
    }
  }
}

TEST(EmbeddingTest, IdOutOfRangeNamesPositionAndValue) {
  EmbeddingPlan e;
  auto be = loaded(e.pb.plan);
  IVec idv = {0, 1, 2, 3, 7, 0};
  be->write(e.ids, idv.data());
  std::string err = errorOf([&] { be->run("p"); });
  EXPECT_NE(err.find("id 7 at position 4 is outside [0, 7)"), std::string::npos)
      << err;
  EXPECT_NE(err.find("embedding("), std::string::npos) << err;
  idv[4] = -1;
  be->write(e.ids, idv.data());
  err = errorOf([&] { be->run("p"); });
  EXPECT_NE(err.find("id -1 at position 4"), std::string::npos) << err;
}

//===----------------------------------------------------------------------===//
// iota
//===----------------------------------------------------------------------===//

TEST(IotaTest, CountsAlongTheAxis) {
  const std::vector<int64_t> shape = {2, 3, 4};
  for (int64_t axis = 0; axis < 3; ++axis) {
    PlanBuilder pb;
    int32_t y = pb.temp("y", shape, kI32);
    pb.step("iota", {}, {y}).attrs["axis"] = test::intAttr(axis);
    auto be = loaded(pb.plan);
    be->run("p");
    IVec got = readI32(*be, pb.plan, y);
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 3; ++j)
        for (int64_t k = 0; k < 4; ++k) {
          int64_t idx[] = {i, j, k};
          ASSERT_EQ(got[(i * 3 + j) * 4 + k], idx[axis])
              << "axis " << axis << " at " << i << "," << j << "," << k;
        }
  }
}

//===----------------------------------------------------------------------===//
// layer_norm, layer_norm_bwd
//===----------------------------------------------------------------------===//

struct LayerNormRef {
  Ref y, dx, dgamma, dbeta;
};

LayerNormRef layerNormRef(const Vec &x, const Vec &g, const Vec &b,
                          const Vec &dy, int64_t rows, int64_t h, double eps) {
  LayerNormRef r{Ref(x.size()), Ref(x.size()), Ref(h, 0), Ref(h, 0)};
  for (int64_t i = 0; i < rows; ++i) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < h; ++j)
      mean += x[i * h + j];
    mean /= h;
    for (int64_t j = 0; j < h; ++j)
      var += (x[i * h + j] - mean) * (x[i * h + j] - mean);
    var /= h;
    double rstd = 1 / std::sqrt(var + eps);
    Ref xhat(h);
    double mg = 0, mgx = 0;
    for (int64_t j = 0; j < h; ++j) {
      xhat[j] = (x[i * h + j] - mean) * rstd;
      r.y[i * h + j] = xhat[j] * g[j] + b[j];
      double gj = double(dy[i * h + j]) * g[j];
      mg += gj / h;
      mgx += gj * xhat[j] / h;
      r.dgamma[j] += dy[i * h + j] * xhat[j];
      r.dbeta[j] += dy[i * h + j];
    }
    for (int64_t j = 0; j < h; ++j)
      r.dx[i * h + j] =
          rstd * (double(dy[i * h + j]) * g[j] - mg - xhat[j] * mgx);
  }
  return r;
}

class LayerNormTest : public ::testing::TestWithParam<double> {};

TEST_P(LayerNormTest, ForwardBackwardAndFiniteDifferences) {
  double eps = GetParam();
  const int64_t R = 2, S = 3, H = 16;
  PlanBuilder pb;
  int32_t x = pb.input("x", {R, S, H}), g = pb.param("gamma", {H});
  int32_t b = pb.param("beta", {H}), dy = pb.input("dy", {R, S, H});
  int32_t y = pb.temp("y", {R, S, H}), dx = pb.temp("dx", {R, S, H});
  int32_t dg = pb.temp("dgamma", {H}), db = pb.temp("dbeta", {H});
  pb.step("layer_norm", {x, g, b}, {y}).attrs["eps"] = test::floatAttr(eps);
  pb.step("layer_norm_bwd", {x, g, dy}, {dx, dg, db}).attrs["eps"] =
      test::floatAttr(eps);
  auto be = loaded(pb.plan);
  // An offset mean and a large spread: a one-pass float variance would lose
  // digits here.
  Vec xv = test::randomVector(R * S * H, 5, 95, 105);
  Vec gv = test::randomVector(H, 6, 0.5, 1.5), bv = test::randomVector(H, 7);
  Vec dyv = test::randomVector(R * S * H, 8);
  be->write(x, xv.data());
  be->write(g, gv.data());
  be->write(b, bv.data());
  be->write(dy, dyv.data());
  be->run("p");
  LayerNormRef ref = layerNormRef(xv, gv, bv, dyv, R * S, H, eps);
  expectClose(readF32(*be, pb.plan, y), ref.y, 1e-6);
  expectClose(readF32(*be, pb.plan, dx), ref.dx);
  expectClose(readF32(*be, pb.plan, dg), ref.dgamma);
  expectClose(readF32(*be, pb.plan, db), ref.dbeta);

  // Finite differences on a well-scaled input (x near 100 makes f32
  // perturbations too coarse).
  xv = test::randomVector(R * S * H, 9);
  be->write(x, xv.data());
  be->run("p");
  Vec dxv = readF32(*be, pb.plan, dx), dgv = readF32(*be, pb.plan, dg),
      dbv = readF32(*be, pb.plan, db);
  expectGradClose(dxv, numericGrad(*be, pb.plan, x, xv, y, dyv));
  expectGradClose(dgv, numericGrad(*be, pb.plan, g, gv, y, dyv));
  expectGradClose(dbv, numericGrad(*be, pb.plan, b, bv, y, dyv));
}

INSTANTIATE_TEST_SUITE_P(Eps, LayerNormTest, ::testing::Values(1e-5, 1e-12));

TEST(LayerNormTest, ConstantRowsAndManyThreadsAreStable) {
  const int64_t R = 300, H = 128; // above the parallel threshold
  PlanBuilder pb;
  int32_t x = pb.input("x", {R, H}), g = pb.param("gamma", {H});
  int32_t b = pb.param("beta", {H}), dy = pb.input("dy", {R, H});
  int32_t y = pb.temp("y", {R, H}), dx = pb.temp("dx", {R, H});
  int32_t dg = pb.temp("dgamma", {H}), db = pb.temp("dbeta", {H});
  pb.step("layer_norm", {x, g, b}, {y}).attrs["eps"] = test::floatAttr(1e-12);
  pb.step("layer_norm_bwd", {x, g, dy}, {dx, dg, db}).attrs["eps"] =
      test::floatAttr(1e-12);
  Vec xv = test::randomVector(R * H, 10), gv = test::randomVector(H, 11);
  Vec bv = test::randomVector(H, 12), dyv = test::randomVector(R * H, 13);
  std::fill(xv.begin(), xv.begin() + H, 3.f); // a constant row: x̂ = 0
  std::vector<Vec> results[2];
  for (int t = 0; t < 2; ++t) {
    auto be = loaded(pb.plan, t + 1);
    be->write(x, xv.data());
    be->write(g, gv.data());
    be->write(b, bv.data());
    be->write(dy, dyv.data());
    be->run("p");
    for (int32_t id : {y, dx, dg, db})
      results[t].push_back(readF32(*be, pb.plan, id));
  }
  for (size_t k = 0; k < 4; ++k)
    EXPECT_TRUE(bitIdentical(results[0][k], results[1][k])) << "output " << k;
  LayerNormRef ref = layerNormRef(xv, gv, bv, dyv, R, H, 1e-12);
  expectClose(results[0][0], ref.y, 1e-6);
  for (int64_t j = 0; j < H; ++j)
    ASSERT_EQ(results[0][0][j], bv[j]); // the constant row gives beta
  expectClose(results[0][2], ref.dgamma, 1e-5);
}

//===----------------------------------------------------------------------===//
// transpose
//===----------------------------------------------------------------------===//

struct TransposeCase {
  std::vector<int64_t> shape, perm;
};

class TransposeTest : public ::testing::TestWithParam<TransposeCase> {};

TEST_P(TransposeTest, PermutesAxes) {
  const TransposeCase &c = GetParam();
  size_t rank = c.shape.size();
  std::vector<int64_t> outShape;
  for (int64_t a : c.perm)
    outShape.push_back(c.shape[a]);
  for (plan::DType dt : {plan::DType::F32, kI32}) {
    PlanBuilder pb;
    int32_t x = pb.input("x", c.shape, dt), y = pb.temp("y", outShape, dt);
    pb.step("transpose", {x}, {y}).attrs["perm"] = test::intsAttr(c.perm);
    auto be = loaded(pb.plan);
    int64_t n = pb.plan.buffers[x].numElements();
    IVec xv(n); // distinct values; read as f32 bit patterns or i32 alike
    std::iota(xv.begin(), xv.end(), 1);
    if (dt == plan::DType::F32)
      for (int32_t &v : xv) {
        float f = float(v);
        std::memcpy(&v, &f, 4);
      }
    be->write(x, xv.data());
    be->run("p");
    IVec got = readI32(*be, pb.plan, y);
    std::vector<int64_t> xStride(rank, 1);
    for (size_t d = rank; d-- > 1;)
      xStride[d - 1] = xStride[d] * c.shape[d];
    for (int64_t o = 0; o < n; ++o) {
      int64_t rem = o, xi = 0;
      for (size_t d = rank; d-- > 0;) {
        xi += (rem % outShape[d]) * xStride[c.perm[d]];
        rem /= outShape[d];
      }
      ASSERT_EQ(got[o], xv[xi]) << "output element " << o;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Perms, TransposeTest,
    ::testing::Values(TransposeCase{{3, 5}, {1, 0}},
                      TransposeCase{{2, 3, 4}, {0, 2, 1}},
                      TransposeCase{{2, 3, 4, 5}, {0, 2, 1, 3}}, // BERT heads
                      TransposeCase{{2, 3, 4, 5}, {0, 2, 3, 1}},
                      TransposeCase{{2, 1, 4, 3}, {3, 1, 0, 2}},
                      TransposeCase{{2, 3, 2, 2, 3, 2}, {5, 3, 1, 0, 2, 4}},
                      TransposeCase{{2, 3, 4}, {0, 1, 2}}, // identity: a copy
                      TransposeCase{{1, 6}, {1, 0}},       // a reshape
                      TransposeCase{{7}, {0}}));

//===----------------------------------------------------------------------===//
// batch_matmul
//===----------------------------------------------------------------------===//

class BatchMatmulTest
    : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(BatchMatmulTest, MatchesReference) {
  auto [ta, tb] = GetParam();
  const int64_t B0 = 2, B1 = 3, M = 4, K = 5, N = 6;
  PlanBuilder pb;
  int32_t a = pb.input("a", {B0, B1, ta ? K : M, ta ? M : K});
  int32_t b = pb.input("b", {B0, B1, tb ? N : K, tb ? K : N});
  int32_t c = pb.temp("c", {B0, B1, M, N});
  plan::Step &s = pb.step("batch_matmul", {a, b}, {c});
  s.attrs["transpose_a"] = test::intAttr(ta);
  s.attrs["transpose_b"] = test::intAttr(tb);
  auto be = loaded(pb.plan);
  const int64_t B = B0 * B1;
  Vec av = test::randomVector(B * M * K, 14),
      bv = test::randomVector(B * K * N, 15);
  be->write(a, av.data());
  be->write(b, bv.data());
  be->run("p");
  Ref ref(B * M * N, 0);
  for (int64_t t = 0; t < B; ++t)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j)
        for (int64_t k = 0; k < K; ++k) {
          double aik = av[t * M * K + (ta ? k * M + i : i * K + k)];
          double bkj = bv[t * K * N + (tb ? j * K + k : k * N + j)];
          ref[(t * M + i) * N + j] += aik * bkj;
        }
  expectClose(readF32(*be, pb.plan, c), ref);
}

INSTANTIATE_TEST_SUITE_P(Transposes, BatchMatmulTest,
                         ::testing::Combine(::testing::Bool(),
                                            ::testing::Bool()));

TEST(BatchMatmulTest, RankTwoIsAPlainMatmul) {
  PlanBuilder pb;
  int32_t a = pb.input("a", {3, 4}), b = pb.input("b", {2, 4});
  int32_t c = pb.temp("c", {3, 2});
  pb.step("batch_matmul", {a, b}, {c}).attrs["transpose_b"] = test::intAttr(1);
  auto be = loaded(pb.plan);
  Vec av = test::randomVector(12, 16), bv = test::randomVector(8, 17);
  be->write(a, av.data());
  be->write(b, bv.data());
  be->run("p");
  Ref ref(6, 0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 4; ++k)
        ref[i * 2 + j] += double(av[i * 4 + k]) * bv[j * 4 + k];
  expectClose(readF32(*be, pb.plan, c), ref);
}

//===----------------------------------------------------------------------===//
// masked_softmax, softmax_bwd
//===----------------------------------------------------------------------===//

Ref softmaxRef(const Vec &x, const IVec *mask, int64_t rows, int64_t s,
               int64_t perBatch, double scale) {
  const double lowest = -3.4028234663852886e38;
  Ref y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    Ref v(s);
    double mx = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < s; ++j) {
      v[j] = scale * x[r * s + j] +
             (mask && (*mask)[(r / perBatch) * s + j] == 0 ? lowest : 0.0);
      mx = std::max(mx, v[j]);
    }
    double sum = 0;
    for (int64_t j = 0; j < s; ++j)
      sum += std::exp(v[j] - mx);
    for (int64_t j = 0; j < s; ++j)
      y[r * s + j] = std::exp(v[j] - mx) / sum;
  }
  return y;
}

TEST(MaskedSoftmaxTest, MaskScaleFullyMaskedRowsAndBackward) {
  const int64_t B = 3, NH = 2, S = 5;
  const double scale = 0.125;
  PlanBuilder pb;
  int32_t x = pb.input("x", {B, NH, S, S}),
          mask = pb.input("mask", {B, S}, kI32);
  int32_t dy = pb.input("dy", {B, NH, S, S});
  int32_t y = pb.temp("y", {B, NH, S, S}), dx = pb.temp("dx", {B, NH, S, S});
  pb.step("masked_softmax", {x, mask}, {y}).attrs["scale"] =
      test::floatAttr(scale);
  pb.step("softmax_bwd", {y, dy}, {dx}).attrs["scale"] = test::floatAttr(scale);
  auto be = loaded(pb.plan);
  const int64_t n = B * NH * S * S;
  Vec xv = test::randomVector(n, 18, -20, 20), dyv = test::randomVector(n, 19);
  // Batch 0 partly masked, batch 1 unmasked, batch 2 fully masked.
  IVec mv = {1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
  be->write(x, xv.data());
  be->write(mask, mv.data());
  be->write(dy, dyv.data());
  be->run("p");
  Ref yRef = softmaxRef(xv, &mv, B * NH * S, S, NH * S, scale);
  Vec yv = readF32(*be, pb.plan, y);
  expectClose(yv, yRef, 1e-6);
  for (int64_t r = 0; r < B * NH * S; ++r) {
    int64_t b = r / (NH * S);
    for (int64_t j = 0; j < S; ++j) {
      float got = yv[r * S + j];
      if (b == 0 && j >= 3) {
        ASSERT_EQ(got, 0.f) << "masked key " << j << " in row " << r;
      }
      if (b == 2) {
        ASSERT_FLOAT_EQ(got, 1.f / S) << "fully masked row " << r;
      }
    }
  }
  // softmax_bwd against the formula, everywhere.
  Ref dxRef(n);
  for (int64_t r = 0; r < B * NH * S; ++r) {
    double dot = 0;
    for (int64_t j = 0; j < S; ++j)
      dot += double(dyv[r * S + j]) * yv[r * S + j];
    for (int64_t j = 0; j < S; ++j)
      dxRef[r * S + j] = scale * yv[r * S + j] * (dyv[r * S + j] - dot);
  }
  Vec dxv = readF32(*be, pb.plan, dx);
  expectClose(dxv, dxRef);
  // ... and against finite differences of masked_softmax, except in the
  // fully masked batch: there f32 rounds scale·x + lowest to lowest, so the
  // forward is flat, while the contract (as PyTorch's autograd) passes the
  // softmax gradient through the constant mask.
  Ref num = numericGrad(*be, pb.plan, x, xv, y, dyv);
  const int64_t checked = 2 * NH * S * S;
  expectGradClose(Vec(dxv.begin(), dxv.begin() + checked),
                  Ref(num.begin(), num.begin() + checked));
  for (int64_t i = checked; i < n; ++i)
    ASSERT_EQ(num[i], 0.0);
}

// The causal mask (GPT-2): query q of Q sees keys k <= q + K - Q; with a
// key mask too, a key counts only where both allow it. Against a reference
// that drops the hidden keys (every row keeps key 0 visible and unmasked,
// so no row is empty), with K > Q to check the offset, and the backward
// from the output as for any softmax.
TEST(MaskedSoftmaxTest, CausalWithKeyMaskAndOffset) {
  const int64_t B = 2, NH = 2, Q = 3, K = 5;
  const double scale = 0.5;
  PlanBuilder pb;
  int32_t x = pb.input("x", {B, NH, Q, K}),
          mask = pb.input("mask", {B, K}, kI32);
  int32_t y = pb.temp("y", {B, NH, Q, K}), yc = pb.temp("yc", {B, NH, Q, K});
  plan::Step &masked = pb.step("masked_softmax", {x, mask}, {y});
  masked.attrs["scale"] = test::floatAttr(scale);
  masked.attrs["causal"] = test::intAttr(1);
  plan::Step &plain = pb.step("masked_softmax", {x}, {yc});
  plain.attrs["scale"] = test::floatAttr(scale);
  plain.attrs["causal"] = test::intAttr(1);
  auto be = loaded(pb.plan);
  const int64_t n = B * NH * Q * K;
  Vec xv = test::randomVector(n, 31, -6, 6);
  IVec mv = {1, 0, 1, 1, 0, /*batch 1*/ 1, 1, 1, 0, 1};
  be->write(x, xv.data());
  be->write(mask, mv.data());
  be->run("p");
  Vec yv = readF32(*be, pb.plan, y), ycv = readF32(*be, pb.plan, yc);
  for (int withMask = 0; withMask < 2; ++withMask) {
    Ref ref(n, 0.0);
    for (int64_t r = 0; r < B * NH * Q; ++r) {
      int64_t b = r / (NH * Q), q = r % Q;
      auto visible = [&](int64_t k) {
        return k <= q + K - Q && (!withMask || mv[b * K + k] != 0);
      };
      double mx = -INFINITY, sum = 0;
      for (int64_t k = 0; k < K; ++k)
        if (visible(k))
          mx = std::max(mx, scale * xv[r * K + k]);
      for (int64_t k = 0; k < K; ++k)
        if (visible(k))
          sum += std::exp(scale * xv[r * K + k] - mx);
      for (int64_t k = 0; k < K; ++k)
        ref[r * K + k] =
            visible(k) ? std::exp(scale * xv[r * K + k] - mx) / sum : 0.0;
    }
    expectClose(withMask ? yv : ycv, ref, 1e-6);
  }
  // The last query sees every key; the first only keys 0..K-Q.
  EXPECT_EQ(ycv[0 * K + (K - Q + 1)], 0.f);
  EXPECT_GT(ycv[(Q - 1) * K + (K - 1)], 0.f);
}

TEST(MaskedSoftmaxTest, CausalNeedsAsManyKeysAsQueries) {
  PlanBuilder pb;
  int32_t x = pb.input("x", {2, 4, 3}), y = pb.temp("y", {2, 4, 3});
  pb.step("masked_softmax", {x}, {y}).attrs["causal"] = test::intAttr(1);
  EXPECT_NE(plan::verify(pb.plan).find("a causal mask needs at least as many "
                                       "keys as queries"),
            std::string::npos)
      << plan::verify(pb.plan);
}

TEST(MaskedSoftmaxTest, WithoutMaskIsStableForLargeInputs) {
  const int64_t R = 4, S = 7;
  PlanBuilder pb;
  int32_t x = pb.input("x", {R, S}), dy = pb.input("dy", {R, S});
  int32_t y = pb.temp("y", {R, S}), dx = pb.temp("dx", {R, S});
  pb.step("masked_softmax", {x}, {y}); // scale defaults to 1
  pb.step("softmax_bwd", {y, dy}, {dx});
  auto be = loaded(pb.plan);
  Vec xv = test::randomVector(R * S, 20, -3, 3),
      dyv = test::randomVector(R * S, 21);
  for (int64_t j = 0; j < S; ++j)
    xv[j] += 1000.f; // exp would overflow without the max shift
  be->write(x, xv.data());
  be->write(dy, dyv.data());
  be->run("p");
  Ref ref = softmaxRef(xv, nullptr, R, S, 1, 1.0);
  expectClose(readF32(*be, pb.plan, y), ref, 1e-6);
  Vec dxv = readF32(*be, pb.plan, dx);
  // Finite differences on the rows with well-scaled inputs.
  Ref num = numericGrad(*be, pb.plan, x, xv, y, dyv);
  expectGradClose(Vec(dxv.begin() + S, dxv.end()),
                  Ref(num.begin() + S, num.end()));
}

//===----------------------------------------------------------------------===//
// tanh, tanh_bwd
//===----------------------------------------------------------------------===//

TEST(TanhTest, ForwardBackwardAndFiniteDifferences) {
  const std::vector<int64_t> shape = {3, 7};
  const size_t n = 21;
  PlanBuilder pb;
  int32_t x = pb.input("x", shape), dy = pb.input("dy", shape);
  int32_t y = pb.temp("y", shape), dx = pb.temp("dx", shape);
  pb.step("tanh", {x}, {y});
  pb.step("tanh_bwd", {y, dy}, {dx});
  auto be = loaded(pb.plan);
  Vec xv = test::randomVector(n, 22, -3, 3), dyv = test::randomVector(n, 23);
  be->write(x, xv.data());
  be->write(dy, dyv.data());
  be->run("p");
  Ref yRef(n), dxRef(n);
  Vec yv = readF32(*be, pb.plan, y);
  for (size_t i = 0; i < n; ++i) {
    yRef[i] = std::tanh(double(xv[i]));
    dxRef[i] = dyv[i] * (1 - double(yv[i]) * yv[i]); // from the output
  }
  expectClose(yv, yRef, 1e-6);
  Vec dxv = readF32(*be, pb.plan, dx);
  expectClose(dxv, dxRef);
  expectGradClose(dxv, numericGrad(*be, pb.plan, x, xv, y, dyv));
}

//===----------------------------------------------------------------------===//
// dropout, dropout_bwd
//===----------------------------------------------------------------------===//

// The documented draw (docs/runtime-contract.md), written out independently.
uint64_t splitmix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
double documentedU(int32_t seed, int32_t step, int64_t stream, uint64_t i) {
  uint64_t key =
      splitmix(splitmix((uint64_t(uint32_t(seed)) << 32) | uint32_t(step)) ^
               uint64_t(stream));
  return double(splitmix(key ^ i) >> 40) / 16777216.0;
}

struct DropoutPlan {
  PlanBuilder pb;
  int32_t x, rng, y, dx;
  DropoutPlan(int64_t n, double p, int64_t stream) {
    x = pb.input("x", {n});
    rng = pb.input("rng", {2}, kI32);
    y = pb.temp("y", {n});
    dx = pb.temp("dx", {n});
    for (auto [kernel, out] : {std::pair{"dropout", y}, {"dropout_bwd", dx}}) {
      plan::Step &s = pb.step(kernel, {x, rng}, {out});
      s.attrs["p"] = test::floatAttr(p);
      s.attrs["stream"] = test::intAttr(stream);
    }
  }
  Vec run(const Vec &xv, IVec rngv, int threads = 0, Vec *dxOut = nullptr) {
    auto be = loaded(pb.plan, threads);
    be->write(x, xv.data());
    be->write(rng, rngv.data());
    be->run("p");
    if (dxOut)
      *dxOut = readF32(*be, pb.plan, dx);
    return readF32(*be, pb.plan, y);
  }
};

TEST(DropoutTest, ZeroProbabilityIsAnExactCopy) {
  const int64_t n = 1000;
  DropoutPlan d(n, 0.0, 0);
  Vec xv = test::randomVector(n, 24);
  xv[0] = -0.f;
  xv[1] = std::numeric_limits<float>::denorm_min();
  Vec dxv;
  Vec yv = d.run(xv, {1, 2}, 0, &dxv);
  EXPECT_TRUE(bitIdentical(yv, xv));
  EXPECT_TRUE(bitIdentical(dxv, xv));
}

TEST(DropoutTest, KeepRateScaleAndTheDocumentedFunction) {
  const int64_t n = 100000;
  const double p = 0.1;
  DropoutPlan d(n, p, 3);
  Vec xv = test::randomVector(n, 25, 0.5, 2);
  IVec rngv = {42, 7};
  Vec dxv;
  Vec yv = d.run(xv, rngv, 0, &dxv);
  int64_t kept = 0;
  float scale = float(1 / (1 - p));
  for (int64_t i = 0; i < n; ++i) {
    bool keep = documentedU(rngv[0], rngv[1], 3, uint64_t(i)) >= p;
    kept += keep;
    ASSERT_EQ(yv[i], keep ? xv[i] * scale : 0.f) << "element " << i;
    ASSERT_EQ(dxv[i], yv[i]) << "the backward regenerates the mask, " << i;
  }
  double rate = double(kept) / n; // σ ≈ 0.001
  EXPECT_NEAR(rate, 1 - p, 0.005);
}

TEST(DropoutTest, MaskDependsOnSeedStepAndStreamButNotThreads) {
  const int64_t n = 100000; // above the parallel threshold
  DropoutPlan d(n, 0.5, 1), other(n, 0.5, 2);
  Vec xv(n, 1.f);
  Vec a = d.run(xv, {5, 1}, 1);
  EXPECT_TRUE(bitIdentical(a, d.run(xv, {5, 1}, 2))) << "thread count";
  EXPECT_TRUE(bitIdentical(a, d.run(xv, {5, 1}, 1))) << "rerun";
  auto differing = [&](const Vec &b) {
    int64_t diff = 0;
    for (int64_t i = 0; i < n; ++i)
      diff += (a[i] == 0) != (b[i] == 0);
    return double(diff) / n; // ≈ 0.5 for independent masks
  };
  EXPECT_NEAR(differing(d.run(xv, {5, 2}, 2)), 0.5, 0.02) << "step";
  EXPECT_NEAR(differing(d.run(xv, {6, 1}, 2)), 0.5, 0.02) << "seed";
  EXPECT_NEAR(differing(other.run(xv, {5, 1}, 2)), 0.5, 0.02) << "stream";
}

TEST(DropoutTest, BackwardMatchesFiniteDifferences) {
  const int64_t n = 40;
  DropoutPlan d(n, 0.3, 9);
  auto be = loaded(d.pb.plan);
  Vec xv = test::randomVector(n, 26);
  Vec w = test::randomVector(n, 27);
  IVec rngv = {11, 3};
  be->write(d.rng, rngv.data());
  // Feed w as the "x" of dropout_bwd too: both steps read buffer x, so the
  // backward output is mask·scale·x; the objective's gradient is mask·scale·w.
  be->write(d.x, w.data());
  be->run("p");
  Vec grad = readF32(*be, d.pb.plan, d.dx);
  be->write(d.x, xv.data());
  expectGradClose(grad, numericGrad(*be, d.pb.plan, d.x, xv, d.y, w));
}

//===----------------------------------------------------------------------===//
// select, select_bwd
//===----------------------------------------------------------------------===//

class SelectTest
    : public ::testing::TestWithParam<std::pair<int64_t, int64_t>> {};

TEST_P(SelectTest, ForwardBackwardAndFiniteDifferences) {
  auto [axis, index] = GetParam();
  const std::vector<int64_t> shape = {2, 3, 4};
  std::vector<int64_t> outShape = shape;
  outShape.erase(outShape.begin() + axis);
  PlanBuilder pb;
  int32_t x = pb.input("x", shape), dy = pb.input("dy", outShape);
  int32_t y = pb.temp("y", outShape), dx = pb.temp("dx", shape);
  for (auto [kernel, in, out] :
       {std::tuple{"select", x, y}, {"select_bwd", dy, dx}}) {
    plan::Step &s = pb.step(kernel, {in}, {out});
    s.attrs["axis"] = test::intAttr(axis);
    s.attrs["index"] = test::intAttr(index);
  }
  auto be = loaded(pb.plan);
  Vec xv = test::randomVector(24, 28),
      dyv = test::randomVector(24 / shape[axis], 29);
  be->write(x, xv.data());
  be->write(dy, dyv.data());
  Vec junk(24, 5.f);
  be->write(dx, junk.data());
  be->run("p");
  Ref yRef, dxRef(24, 0);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k) {
        int64_t idx[] = {i, j, k};
        if (idx[axis] != index)
          continue;
        dxRef[(i * 3 + j) * 4 + k] = dyv[yRef.size()];
        yRef.push_back(xv[(i * 3 + j) * 4 + k]);
      }
  expectClose(readF32(*be, pb.plan, y), yRef, 0);
  Vec dxv = readF32(*be, pb.plan, dx);
  expectClose(dxv, dxRef, 0);
  expectGradClose(dxv, numericGrad(*be, pb.plan, x, xv, y, dyv));
}

INSTANTIATE_TEST_SUITE_P(AxisIndex, SelectTest,
                         ::testing::Values(std::pair{0, 1}, std::pair{1, 0},
                                           std::pair{1, 2}, std::pair{2, 3}));

TEST(SelectTest, WorksOnI32) {
  PlanBuilder pb;
  int32_t x = pb.input("x", {3, 2}, kI32), y = pb.temp("y", {3}, kI32);
  plan::Step &s = pb.step("select", {x}, {y});
  s.attrs["axis"] = test::intAttr(1);
  s.attrs["index"] = test::intAttr(1);
  auto be = loaded(pb.plan);
  IVec xv = {1, 2, 3, 4, 5, 6};
  be->write(x, xv.data());
  be->run("p");
  EXPECT_EQ(readI32(*be, pb.plan, y), (IVec{2, 4, 6}));
}

//===----------------------------------------------------------------------===//
// softmax_cross_entropy with ignore_index
//===----------------------------------------------------------------------===//

struct ScePlan {
  PlanBuilder pb;
  int32_t logits, labels, dloss, loss, dlogits;
  ScePlan(int64_t B, int64_t C, const plan::Attr *ignore) {
    logits = pb.input("logits", {B, C});
    labels = pb.input("labels", {B}, kI32);
    dloss = pb.input("dloss", {});
    loss = pb.temp("loss", {});
    dlogits = pb.temp("dlogits", {B, C});
    plan::Step &f = pb.step("softmax_cross_entropy", {logits, labels}, {loss});
    plan::Step &b = pb.step("softmax_cross_entropy_bwd",
                            {logits, labels, dloss}, {dlogits});
    if (ignore) {
      pb.plan.programs[0].steps[0].attrs["ignore_index"] = *ignore;
      pb.plan.programs[0].steps[1].attrs["ignore_index"] = *ignore;
    }
    (void)f;
    (void)b;
  }
};

TEST(SceIgnoreIndexTest, IgnoredRowsCountForNothing) {
  const int64_t B = 5, C = 4;
  plan::Attr ignore = test::intAttr(-100);
  ScePlan s(B, C, &ignore);
  auto be = loaded(s.pb.plan);
  Vec lv = test::randomVector(B * C, 30);
  IVec labv = {2, -100, 0, -100, 3};
  float dl = 1.5f;
  be->write(s.logits, lv.data());
  be->write(s.labels, labv.data());
  be->write(s.dloss, &dl);
  be->run("p");
  double lossRef = 0;
  Ref dRef(B * C, 0);
  for (int64_t r = 0; r < B; ++r) {
    if (labv[r] == -100)
      continue;
    double mx = -1e30, sum = 0;
    for (int64_t c = 0; c < C; ++c)
      mx = std::max(mx, double(lv[r * C + c]));
    for (int64_t c = 0; c < C; ++c)
      sum += std::exp(lv[r * C + c] - mx);
    lossRef += mx + std::log(sum) - lv[r * C + labv[r]];
    for (int64_t c = 0; c < C; ++c)
      dRef[r * C + c] =
          (std::exp(lv[r * C + c] - mx) / sum - (c == labv[r] ? 1 : 0)) * dl /
          3;
  }
  expectClose(readF32(*be, s.pb.plan, s.loss), {lossRef / 3});
  Vec dv = readF32(*be, s.pb.plan, s.dlogits);
  expectClose(dv, dRef);
  expectGradClose(dv, numericGrad(*be, s.pb.plan, s.logits, lv, s.loss, {dl}));
}

TEST(SceIgnoreIndexTest, AllIgnoredGivesZeroLossAndGradient) {
  plan::Attr ignore = test::intAttr(7);
  ScePlan s(3, 4, &ignore);
  auto be = loaded(s.pb.plan);
  Vec lv = test::randomVector(12, 31), junk(12, 3.f);
  IVec labv = {7, 7, 7};
  float dl = 1.f;
  be->write(s.logits, lv.data());
  be->write(s.labels, labv.data());
  be->write(s.dloss, &dl);
  be->write(s.dlogits, junk.data());
  be->run("p");
  EXPECT_EQ(readF32(*be, s.pb.plan, s.loss), Vec{0.f});
  EXPECT_EQ(readF32(*be, s.pb.plan, s.dlogits), Vec(12, 0.f));
}

TEST(SceIgnoreIndexTest, OtherOutOfRangeLabelsAndNoAttrStayErrors) {
  plan::Attr ignore = test::intAttr(-100);
  ScePlan s(3, 4, &ignore);
  auto be = loaded(s.pb.plan);
  IVec labv = {1, -100, 4};
  be->write(s.labels, labv.data());
  std::string err = errorOf([&] { be->run("p"); });
  EXPECT_NE(err.find("label 4 in row 2 is outside [0, 4)"), std::string::npos)
      << err;
  // Without the attribute -100 is an ordinary bad label.
  ScePlan plain(3, 4, nullptr);
  auto be2 = loaded(plain.pb.plan);
  labv = {1, -100, 2};
  be2->write(plain.labels, labv.data());
  err = errorOf([&] { be2->run("p"); });
  EXPECT_NE(err.find("label -100 in row 1"), std::string::npos) << err;
}

//===----------------------------------------------------------------------===//
// In place, where the contract allows it
//===----------------------------------------------------------------------===//

TEST(InPlaceTest, ElementwiseAndSoftmaxKernelsMayOverwriteTheirInput) {
  const std::vector<int64_t> shape = {3, 6};
  const int64_t n = 18;
  Vec xv = test::randomVector(n, 40), dyv = test::randomVector(n, 41);
  IVec rngv = {1, 2};
  // Each kernel once out of place, once over its first (or `dy`) input.
  auto runBoth = [&](const char *kernel, bool twoInputs, bool overDy,
                     const std::map<std::string, plan::Attr> &attrs) {
    Vec results[2];
    for (int inPlace = 0; inPlace < 2; ++inPlace) {
      PlanBuilder pb;
      int32_t a = pb.temp("a", shape), r = pb.input("rng", {2}, kI32);
      int32_t b = pb.temp("b", shape), out = pb.temp("out", shape);
      int32_t xa = pb.input("x", shape), xb = pb.input("dy", shape);
      pb.step("copy", {xa}, {a});
      pb.step("copy", {xb}, {b});
      bool dropout = std::string(kernel).rfind("dropout", 0) == 0;
      int32_t second = dropout ? r : b;
      int32_t target = inPlace ? (overDy ? b : a) : out;
      std::vector<int32_t> ins = {a};
      if (twoInputs)
        ins.push_back(second);
      pb.step(kernel, ins, {target}).attrs = attrs;
      auto be = loaded(pb.plan);
      be->write(xa, xv.data());
      be->write(xb, dyv.data());
      be->write(r, rngv.data());
      be->run("p");
      results[inPlace] = readF32(*be, pb.plan, target);
    }
    EXPECT_TRUE(bitIdentical(results[0], results[1])) << kernel;
  };
  std::map<std::string, plan::Attr> none,
      drop = {{"p", test::floatAttr(0.5)}, {"stream", test::intAttr(1)}};
  runBoth("tanh", false, false, none);
  runBoth("tanh_bwd", true, true, none);
  runBoth("dropout", true, false, drop);
  runBoth("dropout_bwd", true, false, drop);
  runBoth("masked_softmax", false, false, {{"scale", test::floatAttr(0.5)}});
  runBoth("softmax_bwd", true, true, {{"scale", test::floatAttr(0.5)}});
}

//===----------------------------------------------------------------------===//
// plan::verify for the new kernels
//===----------------------------------------------------------------------===//

void expectVerifyError(const plan::Plan &p, const std::string &needle) {
  std::string err = plan::verify(p);
  EXPECT_NE(err.find(needle), std::string::npos)
      << "expected '" << needle << "' in: " << err;
}

TEST(BertVerifyTest, AcceptsWellFormedSteps) {
  PlanBuilder pb;
  int32_t t = pb.param("t", {10, 4}), ids = pb.input("ids", {2, 3}, kI32);
  int32_t e = pb.temp("e", {2, 3, 4});
  pb.step("embedding", {t, ids}, {e});
  int32_t m = pb.input("mask", {2, 3}, kI32), s = pb.temp("s", {2, 5, 3, 3});
  pb.step("masked_softmax", {s, m}, {s}).attrs["scale"] = test::floatAttr(0.5);
  EXPECT_EQ(plan::verify(pb.plan), "");
}

TEST(BertVerifyTest, RejectsBadArityShapesDtypesAndAttrs) {
  auto base = [] { return PlanBuilder(); };
  {
    PlanBuilder pb = base();
    int32_t t = pb.param("t", {10, 4}), ids = pb.input("ids", {2, 3}, kI32);
    int32_t e = pb.temp("e", {2, 3, 5});
    pb.step("embedding", {t, ids}, {e});
    expectVerifyError(pb.plan, "output 'y' (%2 \"e\") has shape [2,3,5], "
                               "expected [2,3,4]");
    pb.plan.buffers[ids].dtype = plan::DType::F32;
    expectVerifyError(pb.plan, "input 'ids' (%1 \"ids\") has dtype f32");
  }
  {
    PlanBuilder pb = base();
    int32_t ids = pb.input("ids", {6}, kI32), dy = pb.input("dy", {6, 3});
    int32_t dt = pb.temp("dt", {10, 4});
    pb.step("embedding_bwd", {ids, dy}, {dt});
    expectVerifyError(pb.plan, "input 'dy'");
    pb.plan.programs[0].steps[0].numInputs = 1;
    expectVerifyError(pb.plan, "takes 2 inputs and 1 outputs, got 1 and 2");
  }
  {
    PlanBuilder pb = base();
    int32_t y = pb.temp("y", {2, 3}, kI32);
    plan::Step &s = pb.step("iota", {}, {y});
    expectVerifyError(pb.plan, "missing integer attribute 'axis'");
    pb.plan.programs[0].steps[0].attrs["axis"] = test::intAttr(2);
    expectVerifyError(pb.plan, "attribute 'axis' is 2, outside [0, 1]");
    (void)s;
  }
  {
    PlanBuilder pb = base();
    int32_t x = pb.input("x", {4, 8}), g = pb.param("g", {8});
    int32_t dy = pb.input("dy", {4, 8}), dx = pb.temp("dx", {4, 8});
    int32_t dg = pb.temp("dg", {8}), db = pb.temp("db", {7});
    pb.step("layer_norm_bwd", {x, g, dy}, {dx, dg, db}).attrs["eps"] =
        test::floatAttr(1e-5);
    expectVerifyError(pb.plan, "output 'dbeta' (%5 \"db\") has shape [7]");
    pb.plan.buffers[db].shape = {8};
    EXPECT_EQ(plan::verify(pb.plan), "");
    pb.plan.programs[0].steps[0].attrs.clear();
    expectVerifyError(pb.plan, "missing attribute 'eps'");
    pb.plan.programs[0].steps[0].kernel = "layer_norm";
    expectVerifyError(pb.plan, "takes 3 inputs and 1 outputs, got 3 and 3");
  }
  {
    PlanBuilder pb = base();
    int32_t x = pb.input("x", {2, 3, 4}), y = pb.temp("y", {2, 4, 3});
    pb.step("transpose", {x}, {y}).attrs["perm"] = test::intsAttr({0, 2, 2});
    expectVerifyError(pb.plan, "'perm' [0,2,2] is not a permutation");
    pb.plan.programs[0].steps[0].attrs["perm"] = test::intsAttr({1, 0, 2});
    expectVerifyError(pb.plan, "expected [3,2,4]");
  }
  {
    PlanBuilder pb = base();
    int32_t a = pb.input("a", {2, 3, 4}), b = pb.input("b", {2, 5, 4});
    int32_t c = pb.temp("c", {2, 3, 5});
    pb.step("batch_matmul", {a, b}, {c});
    expectVerifyError(pb.plan, "input 'b' (%1 \"b\") has shape [2,5,4], "
                               "expected [2,4,4]");
    pb.plan.programs[0].steps[0].attrs["transpose_b"] = test::intAttr(1);
    EXPECT_EQ(plan::verify(pb.plan), "");
    pb.plan.programs[0].steps[0].attrs["transpose_a"] = test::intAttr(2);
    expectVerifyError(pb.plan, "'transpose_a' is 2, outside [0, 1]");
    pb.plan.programs[0].steps[0].attrs["transpose_a"] = test::intAttr(0);
    pb.plan.buffers[b].shape = {3, 5, 4};
    expectVerifyError(pb.plan, "expected [2,5,4]");
  }
  {
    PlanBuilder pb = base();
    int32_t x = pb.input("x", {2, 3, 5}), m = pb.input("m", {2, 3}, kI32);
    int32_t y = pb.temp("y", {2, 3, 5});
    pb.step("masked_softmax", {x, m}, {y});
    expectVerifyError(pb.plan, "input 'mask' (%1 \"m\") has shape [2,3], "
                               "expected [2,5]");
  }
  {
    PlanBuilder pb = base();
    int32_t x = pb.input("x", {8}), r = pb.input("rng", {3}, kI32);
    int32_t y = pb.temp("y", {8});
    plan::Step &s = pb.step("dropout", {x, r}, {y});
    s.attrs["p"] = test::floatAttr(0.1);
    s.attrs["stream"] = test::intAttr(0);
    expectVerifyError(pb.plan, "input 'rng' (%1 \"rng\") has shape [3]");
    pb.plan.buffers[r].shape = {2};
    EXPECT_EQ(plan::verify(pb.plan), "");
    pb.plan.programs[0].steps[0].attrs["p"] = test::floatAttr(1.0);
    expectVerifyError(pb.plan, "attribute 'p' must be in [0, 1)");
    pb.plan.programs[0].steps[0].attrs.erase("stream");
    pb.plan.programs[0].steps[0].attrs["p"] = test::floatAttr(0.5);
    expectVerifyError(pb.plan, "missing integer attribute 'stream'");
  }
  {
    PlanBuilder pb = base();
    int32_t dy = pb.input("dy", {2, 4}), dx = pb.temp("dx", {2, 3, 4});
    plan::Step &s = pb.step("select_bwd", {dy}, {dx});
    s.attrs["axis"] = test::intAttr(1);
    s.attrs["index"] = test::intAttr(3);
    expectVerifyError(pb.plan, "attribute 'index' is 3, outside [0, 2]");
    pb.plan.programs[0].steps[0].attrs["index"] = test::intAttr(2);
    EXPECT_EQ(plan::verify(pb.plan), "");
    pb.plan.programs[0].steps[0].attrs["axis"] = test::intAttr(0);
    pb.plan.programs[0].steps[0].attrs["index"] = test::intAttr(1);
    expectVerifyError(pb.plan, "input 'dy' (%0 \"dy\") has shape [2,4], "
                               "expected [3,4]");
  }
  {
    PlanBuilder pb = base();
    int32_t l = pb.input("l", {2, 3}), lab = pb.input("lab", {2}, kI32);
    int32_t loss = pb.temp("loss", {});
    pb.step("softmax_cross_entropy", {l, lab}, {loss}).attrs["ignore_index"] =
        test::floatAttr(-100);
    expectVerifyError(pb.plan, "attribute 'ignore_index' must be an integer");
    pb.plan.programs[0].steps[0].attrs["ignore_index"] = test::intAttr(-100);
    EXPECT_EQ(plan::verify(pb.plan), "");
  }
  {
    PlanBuilder pb = base();
    int32_t y = pb.input("y", {2, 3}), dy = pb.input("dy", {2, 3});
    int32_t dx = pb.temp("dx", {3, 2});
    pb.step("tanh_bwd", {y, dy}, {dx});
    expectVerifyError(pb.plan, "output 'dx' (%2 \"dx\") has shape [3,2]");
  }
}

} // namespace
