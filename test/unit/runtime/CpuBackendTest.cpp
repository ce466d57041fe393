//===- CpuBackendTest.cpp - CPU backend kernels vs references ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Each kernel runs in a small hand-built plan and is compared with a naive
// double-precision loop.
//===----------------------------------------------------------------------===//

#include "PlanBuilder.h"

#include "ftc/runtime/Backend.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace ftc;
using ftc::test::PlanBuilder;

namespace {

using Vec = std::vector<float>;
using Ref = std::vector<double>;

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

Ref linearRef(const Vec &x, const Vec &w, const Vec *b, int64_t B, int64_t I,
              int64_t O) {
  Ref y(size_t(B * O));
  for (int64_t r = 0; r < B; ++r)
    for (int64_t o = 0; o < O; ++o) {
      double s = b ? (*b)[o] : 0;
      for (int64_t i = 0; i < I; ++i)
        s += double(x[r * I + i]) * w[o * I + i];
      y[r * O + o] = s;
    }
  return y;
}

class LinearTest : public ::testing::TestWithParam<bool> {};

TEST_P(LinearTest, Forward) {
  bool bias = GetParam();
  const int64_t B = 3, I = 5, O = 4;
  PlanBuilder pb;
  int32_t x = pb.input("x", {B, I}), w = pb.param("w", {O, I});
  int32_t b = pb.param("b", {O}), y = pb.temp("y", {B, O});
  if (bias)
    pb.step("linear", {x, w, b}, {y});
  else
    pb.step("linear", {x, w}, {y});
  auto be = loaded(pb.plan);
  Vec xv = test::randomVector(B * I, 1), wv = test::randomVector(O * I, 2),
      bv = test::randomVector(O, 3);
  be->write(x, xv.data());
  be->write(w, wv.data());
  be->write(b, bv.data());
  be->run("p");
  expectClose(readF32(*be, pb.plan, y),
              linearRef(xv, wv, bias ? &bv : nullptr, B, I, O));
}

void checkBackwardWeights(bool bias, int64_t B, int64_t I, int64_t O) {
  PlanBuilder pb;
  int32_t x = pb.input("x", {B, I}), dy = pb.input("dy", {B, O});
  int32_t dw = pb.temp("dw", {O, I}), db = pb.temp("db", {O});
  if (bias)
    pb.step("linear_bwd_weights", {x, dy}, {dw, db});
  else
    pb.step("linear_bwd_weights", {x, dy}, {dw});
  auto be = loaded(pb.plan);
  Vec xv = test::randomVector(B * I, 4), dyv = test::randomVector(B * O, 5);
  be->write(x, xv.data());
  be->write(dy, dyv.data());
  be->run("p");
  Ref dwRef(size_t(O * I), 0), dbRef(size_t(O), 0);
  for (int64_t r = 0; r < B; ++r)
    for (int64_t o = 0; o < O; ++o) {
      dbRef[o] += dyv[r * O + o];
      for (int64_t i = 0; i < I; ++i)
        dwRef[o * I + i] += double(dyv[r * O + o]) * xv[r * I + i];
    }
  expectClose(readF32(*be, pb.plan, dw), dwRef);
  if (bias)
    expectClose(readF32(*be, pb.plan, db), dbRef);
}

TEST_P(LinearTest, BackwardWeights) {
  checkBackwardWeights(GetParam(), 6, 3, 5);
}

// Rows 1024 floats wide are copied to padded rows before the product (they
// alias in the cache): on x, on dy, and on both.
TEST_P(LinearTest, BackwardWeightsWideRows) {
  checkBackwardWeights(GetParam(), 5, 1024, 3);
  checkBackwardWeights(GetParam(), 5, 2, 1024);
  checkBackwardWeights(GetParam(), 3, 1024, 2048);
}

INSTANTIATE_TEST_SUITE_P(Bias, LinearTest, ::testing::Bool());

TEST(LinearBwdDataTest, MatchesReference) {
  const int64_t B = 4, I = 7, O = 3;
  PlanBuilder pb;
  int32_t dy = pb.input("dy", {B, O}), w = pb.param("w", {O, I});
  int32_t dx = pb.temp("dx", {B, I});
  pb.step("linear_bwd_data", {dy, w}, {dx});
  auto be = loaded(pb.plan);
  Vec dyv = test::randomVector(B * O, 6), wv = test::randomVector(O * I, 7);
  be->write(dy, dyv.data());
  be->write(w, wv.data());
  be->run("p");
  Ref ref(size_t(B * I), 0);
  for (int64_t r = 0; r < B; ++r)
    for (int64_t i = 0; i < I; ++i)
      for (int64_t o = 0; o < O; ++o)
        ref[r * I + i] += double(dyv[r * O + o]) * wv[o * I + i];
  expectClose(readF32(*be, pb.plan, dx), ref);
}

double geluRef(double x) {
  return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
}
double geluGradRef(double x) {
  return 0.5 * (1 + std::erf(x / std::sqrt(2.0))) +
         x * std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI);
}

TEST(EltwiseTest, ForwardAndBackward) {
  const std::vector<int64_t> shape = {2, 3, 5};
  const size_t n = 30;
  PlanBuilder pb;
  int32_t x = pb.input("x", shape), dy = pb.input("dy", shape);
  int32_t relu = pb.temp("relu", shape), gelu = pb.temp("gelu", shape);
  int32_t dRelu = pb.temp("drelu", shape), dGelu = pb.temp("dgelu", shape);
  pb.step("relu", {x}, {relu});
  pb.step("gelu", {x}, {gelu});
  pb.step("relu_bwd", {x, dy}, {dRelu});
  pb.step("gelu_bwd", {x, dy}, {dGelu});
  auto be = loaded(pb.plan);
  Vec xv = test::randomVector(n, 8, -4, 4), dyv = test::randomVector(n, 9);
  be->write(x, xv.data());
  be->write(dy, dyv.data());
  be->run("p");
  Ref reluRef(n), geluR(n), dReluRef(n), dGeluRef(n);
  for (size_t i = 0; i < n; ++i) {
    reluRef[i] = std::max(0.0, double(xv[i]));
    geluR[i] = geluRef(xv[i]);
    dReluRef[i] = xv[i] > 0 ? dyv[i] : 0;
    dGeluRef[i] = dyv[i] * geluGradRef(xv[i]);
  }
  expectClose(readF32(*be, pb.plan, relu), reluRef);
  expectClose(readF32(*be, pb.plan, gelu), geluR);
  expectClose(readF32(*be, pb.plan, dRelu), dReluRef);
  expectClose(readF32(*be, pb.plan, dGelu), dGeluRef);
}

/// GELU's tanh form (PyTorch's approximate="tanh", GPT-2's gelu_new) and
/// its derivative, in double.
double geluTanhRef(double x) {
  const double k = std::sqrt(2.0 / M_PI);
  return 0.5 * x * (1 + std::tanh(k * (x + 0.044715 * x * x * x)));
}
double geluTanhGradRef(double x) {
  const double k = std::sqrt(2.0 / M_PI);
  double u = k * (x + 0.044715 * x * x * x), t = std::tanh(u);
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x);
}

TEST(EltwiseTest, GeluTanhForm) {
  const std::vector<int64_t> shape = {4, 7};
  const size_t n = 28;
  PlanBuilder pb;
  int32_t x = pb.input("x", shape), dy = pb.input("dy", shape);
  int32_t y = pb.temp("y", shape), dx = pb.temp("dx", shape),
          erf = pb.temp("erf", shape);
  pb.step("gelu", {x}, {y}).attrs["approximate"] = test::stringAttr("tanh");
  pb.step("gelu_bwd", {x, dy}, {dx}).attrs["approximate"] =
      test::stringAttr("tanh");
  pb.step("gelu", {x}, {erf}).attrs["approximate"] = test::stringAttr("none");
  auto be = loaded(pb.plan);
  Vec xv = test::randomVector(n, 10, -5, 5), dyv = test::randomVector(n, 11);
  be->write(x, xv.data());
  be->write(dy, dyv.data());
  be->run("p");
  Ref yRef(n), dxRef(n), erfRef(n);
  for (size_t i = 0; i < n; ++i) {
    yRef[i] = geluTanhRef(xv[i]);
    dxRef[i] = dyv[i] * geluTanhGradRef(xv[i]);
    erfRef[i] = geluRef(xv[i]);
  }
  expectClose(readF32(*be, pb.plan, y), yRef);
  expectClose(readF32(*be, pb.plan, dx), dxRef);
  expectClose(readF32(*be, pb.plan, erf), erfRef); // "none" is the erf form
  // The two forms differ by more than the tolerance somewhere in [-5, 5].
  double gap = 0;
  for (size_t i = 0; i < n; ++i)
    gap = std::max(gap, std::abs(geluTanhRef(xv[i]) - geluRef(xv[i])));
  EXPECT_GT(gap, 1e-4);
}

TEST(EltwiseTest, GeluRejectsAnUnknownForm) {
  PlanBuilder pb;
  int32_t x = pb.input("x", {3}), y = pb.temp("y", {3});
  pb.step("gelu", {x}, {y}).attrs["approximate"] = test::stringAttr("sigmoid");
  EXPECT_NE(plan::verify(pb.plan).find("attribute 'approximate' must be the "
                                       "string \"none\" or \"tanh\""),
            std::string::npos)
      << plan::verify(pb.plan);
}

// Broadcasting add/sub/mul against a reference, in every arrangement: the
// second operand broadcast (oneDNN's own case), the first (swapped where
// the operation commutes, a loop for sub), and both.
TEST(BinaryTest, Broadcasting) {
  struct Case {
    std::vector<int64_t> a, b, c;
  };
  const Case cases[] = {{{3, 4}, {1, 4}, {3, 4}},
                        {{3, 1}, {3, 4}, {3, 4}},
                        {{3, 1}, {1, 4}, {3, 4}},
                        {{2, 1, 4}, {2, 3, 1}, {2, 3, 4}}};
  for (const Case &k : cases)
    for (const char *kernel : {"add", "sub", "mul"}) {
      PlanBuilder pb;
      int32_t a = pb.input("a", k.a), b = pb.input("b", k.b),
              c = pb.temp("c", k.c);
      pb.step(kernel, {a, b}, {c});
      ASSERT_EQ(plan::verify(pb.plan), "") << kernel;
      auto be = loaded(pb.plan);
      auto numel = [](const std::vector<int64_t> &s) {
        int64_t n = 1;
        for (int64_t d : s)
          n *= d;
        return size_t(n);
      };
      Vec av = test::randomVector(numel(k.a), 40),
          bv = test::randomVector(numel(k.b), 41);
      be->write(a, av.data());
      be->write(b, bv.data());
      be->run("p");
      Ref ref(numel(k.c));
      size_t rank = k.c.size();
      for (size_t e = 0; e < ref.size(); ++e) {
        size_t rest = e, ia = 0, ib = 0, na = 1, nb = 1;
        for (size_t i = rank; i-- > 0;) {
          size_t idx = rest % size_t(k.c[i]);
          rest /= size_t(k.c[i]);
          ia += (k.a[i] == 1 ? 0 : idx) * na;
          ib += (k.b[i] == 1 ? 0 : idx) * nb;
          na *= size_t(k.a[i]);
          nb *= size_t(k.b[i]);
        }
        double x = av[ia], y = bv[ib];
        ref[e] = kernel[0] == 'a' ? x + y : kernel[0] == 's' ? x - y : x * y;
      }
      expectClose(readF32(*be, pb.plan, c), ref);
    }
}

size_t numel(const std::vector<int64_t> &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return size_t(n);
}

/// The flat index in an input of `in` shape of output element `e` (NumPy
/// broadcasting, ranks equal).
size_t broadcastIndex(const std::vector<int64_t> &out,
                      const std::vector<int64_t> &in, size_t e) {
  size_t index = 0, stride = 1;
  for (size_t i = out.size(); i-- > 0;) {
    size_t k = e % size_t(out[i]);
    e /= size_t(out[i]);
    index += (in[i] == 1 ? 0 : k) * stride;
    stride *= size_t(in[i]);
  }
  return index;
}

// compare over f32 and i32 with every predicate, and where with each of its
// three operands broadcast, against a loop over NumPy's rule.
TEST(SelectionTest, CompareAndWhereBroadcast) {
  const std::vector<int64_t> out{2, 3, 4};
  const std::vector<std::vector<int64_t>> shapes{
      {2, 3, 4}, {1, 3, 1}, {2, 1, 4}, {1, 1, 1}};
  for (const char *pred : {"eq", "ne", "lt", "le", "gt", "ge"})
    for (plan::DType dt : {plan::DType::F32, plan::DType::I32}) {
      const std::vector<int64_t> &as = shapes[1], &bs = shapes[2];
      PlanBuilder pb;
      int32_t a = pb.input("a", as, dt), b = pb.input("b", bs, dt),
              y = pb.temp("y", out, plan::DType::I32);
      pb.step("compare", {a, b}, {y}).attrs["predicate"] =
          test::stringAttr(pred);
      ASSERT_EQ(plan::verify(pb.plan), "") << pred;
      auto be = loaded(pb.plan);
      // Small integers so that equality happens in both dtypes.
      std::vector<int32_t> ai(numel(as)), bi(numel(bs));
      for (size_t i = 0; i < ai.size(); ++i)
        ai[i] = int32_t(i % 3);
      for (size_t i = 0; i < bi.size(); ++i)
        bi[i] = int32_t((i * 7) % 3);
      Vec af(ai.begin(), ai.end()), bf(bi.begin(), bi.end());
      be->write(a, dt == plan::DType::I32 ? (void *)ai.data() : af.data());
      be->write(b, dt == plan::DType::I32 ? (void *)bi.data() : bf.data());
      be->run("p");
      std::vector<int32_t> got(numel(out));
      be->read(y, got.data());
      std::string p = pred;
      for (size_t e = 0; e < got.size(); ++e) {
        int x = ai[broadcastIndex(out, as, e)],
            z = bi[broadcastIndex(out, bs, e)];
        bool holds = p == "eq"   ? x == z
                     : p == "ne" ? x != z
                     : p == "lt" ? x < z
                     : p == "le" ? x <= z
                     : p == "gt" ? x > z
                                 : x >= z;
        ASSERT_EQ(got[e], holds ? 1 : 0) << pred << " element " << e;
      }
    }
  for (size_t c = 0; c < shapes.size(); ++c) {
    const std::vector<int64_t> &cs = shapes[c], &as = shapes[(c + 1) % 4],
                               &bs = shapes[(c + 2) % 4];
    PlanBuilder pb;
    int32_t cond = pb.input("cond", cs, plan::DType::I32),
            a = pb.input("a", as), b = pb.input("b", bs), y = pb.temp("y", out);
    pb.step("where", {cond, a, b}, {y});
    ASSERT_EQ(plan::verify(pb.plan), "");
    auto be = loaded(pb.plan);
    std::vector<int32_t> cv(numel(cs));
    for (size_t i = 0; i < cv.size(); ++i)
      cv[i] = int32_t((i * 5 + c) % 3) - 1; // -1, 0, 1: nonzero is true
    Vec av = test::randomVector(numel(as), 50),
        bv = test::randomVector(numel(bs), 51);
    be->write(cond, cv.data());
    be->write(a, av.data());
    be->write(b, bv.data());
    be->run("p");
    Ref ref(numel(out));
    for (size_t e = 0; e < ref.size(); ++e)
      ref[e] = cv[broadcastIndex(out, cs, e)] != 0
                   ? av[broadcastIndex(out, as, e)]
                   : bv[broadcastIndex(out, bs, e)];
    expectClose(readF32(*be, pb.plan, y), ref, 0);
  }
}

// slice on every axis (i32 too), its backward, and concat that undoes it.
TEST(SelectionTest, SliceSliceBwdConcat) {
  const std::vector<int64_t> full{3, 5, 4};
  for (int64_t axis = 0; axis < 3; ++axis) {
    int64_t start = 1, size = full[size_t(axis)] - 2;
    std::vector<int64_t> part = full, head = full, tail = full;
    part[size_t(axis)] = size;
    head[size_t(axis)] = start;
    tail[size_t(axis)] = full[size_t(axis)] - start - size;
    PlanBuilder pb;
    int32_t x = pb.input("x", full), y = pb.temp("y", part),
            dx = pb.temp("dx", full), h = pb.temp("h", head),
            t = pb.temp("t", tail), joined = pb.temp("joined", full);
    int32_t xi = pb.input("xi", full, plan::DType::I32),
            yi = pb.temp("yi", part, plan::DType::I32);
    auto range = [&](plan::Step &s, int64_t from) {
      s.attrs["axis"] = test::intAttr(axis);
      s.attrs["start"] = test::intAttr(from);
    };
    range(pb.step("slice", {x}, {y}), start);
    range(pb.step("slice_bwd", {y}, {dx}), start);
    range(pb.step("slice", {x}, {h}), 0);
    range(pb.step("slice", {x}, {t}), start + size);
    pb.step("concat", {h, y, t}, {joined}).attrs["axis"] = test::intAttr(axis);
    range(pb.step("slice", {xi}, {yi}), start);
    ASSERT_EQ(plan::verify(pb.plan), "") << axis;
    auto be = loaded(pb.plan);
    Vec xv = test::randomVector(numel(full), 60);
    std::vector<int32_t> xiv(numel(full));
    for (size_t i = 0; i < xiv.size(); ++i)
      xiv[i] = int32_t(i);
    be->write(x, xv.data());
    be->write(xi, xiv.data());
    be->run("p");
    Ref yref, dxref(numel(full), 0.0);
    std::vector<int32_t> yiref;
    for (size_t e = 0; e < numel(full); ++e) {
      int64_t rest = int64_t(e), coord[3];
      for (int i = 2; i >= 0; --i) {
        coord[i] = rest % full[size_t(i)];
        rest /= full[size_t(i)];
      }
      if (coord[axis] >= start && coord[axis] < start + size) {
        yref.push_back(xv[e]);
        yiref.push_back(xiv[e]);
        dxref[e] = xv[e];
      }
    }
    expectClose(readF32(*be, pb.plan, y), yref, 0);
    expectClose(readF32(*be, pb.plan, dx), dxref, 0);
    expectClose(readF32(*be, pb.plan, joined), Ref(xv.begin(), xv.end()), 0);
    std::vector<int32_t> gotI(yiref.size());
    be->read(yi, gotI.data());
    EXPECT_EQ(gotI, yiref);
  }
}

TEST(SelectionTest, VerifierChecksRangesAndTypes) {
  PlanBuilder pb;
  int32_t x = pb.input("x", {3, 4}), y = pb.temp("y", {3, 2});
  plan::Step &s = pb.step("slice", {x}, {y});
  s.attrs["axis"] = test::intAttr(1);
  s.attrs["start"] = test::intAttr(3);
  EXPECT_NE(
      plan::verify(pb.plan).find("attribute 'start' is 3, outside [0, 2]"),
      std::string::npos)
      << plan::verify(pb.plan);
  PlanBuilder pc;
  int32_t a = pc.input("a", {3, 4}),
          b = pc.input("b", {3, 4}, plan::DType::I32),
          r = pc.temp("r", {3, 4}, plan::DType::I32);
  pc.step("compare", {a, b}, {r}).attrs["predicate"] = test::stringAttr("lt");
  EXPECT_NE(plan::verify(pc.plan).find("has dtype i32, expected f32"),
            std::string::npos)
      << plan::verify(pc.plan);
  PlanBuilder pd;
  int32_t c1 = pd.input("c1", {2, 3}), c2 = pd.input("c2", {3, 3}),
          j = pd.temp("j", {2, 6});
  pd.step("concat", {c1, c2}, {j}).attrs["axis"] = test::intAttr(1);
  EXPECT_NE(plan::verify(pd.plan).find("has shape [3,3], expected [2,3]"),
            std::string::npos)
      << plan::verify(pd.plan);
}

TEST(BinaryTest, BroadcastingChecksShapes) {
  PlanBuilder pb;
  int32_t a = pb.input("a", {3, 4}), b = pb.input("b", {2, 4}),
          c = pb.temp("c", {3, 4});
  pb.step("add", {a, b}, {c});
  EXPECT_NE(plan::verify(pb.plan).find("do not broadcast (axis 0)"),
            std::string::npos)
      << plan::verify(pb.plan);
}

TEST(BinaryTest, AddSubMulScaleCopyFill) {
  PlanBuilder pb;
  int32_t a = pb.input("a", {3, 4}), b = pb.input("b", {3, 4});
  int32_t add = pb.temp("add", {3, 4}), sub = pb.temp("sub", {3, 4});
  int32_t mul = pb.temp("mul", {3, 4}), scaled = pb.temp("scaled", {3, 4});
  int32_t flat = pb.temp("flat", {12}), filled = pb.temp("filled", {2, 2});
  int32_t ifilled = pb.temp("ifilled", {3}, plan::DType::I32);
  pb.step("add", {a, b}, {add});
  pb.step("sub", {a, b}, {sub});
  pb.step("mul", {a, b}, {mul});
  pb.step("scale", {a}, {scaled}).attrs["factor"] = test::floatAttr(-0.25);
  pb.step("copy", {a}, {flat});
  pb.step("fill", {}, {filled}).attrs["value"] = test::floatAttr(1.5);
  pb.step("fill", {}, {ifilled}).attrs["value"] = test::intAttr(7);
  auto be = loaded(pb.plan);
  Vec av = test::randomVector(12, 10), bv = test::randomVector(12, 11);
  be->write(a, av.data());
  be->write(b, bv.data());
  be->run("p");
  Ref addR(12), subR(12), mulR(12), scaleR(12), copyR(12);
  for (size_t i = 0; i < 12; ++i) {
    addR[i] = double(av[i]) + bv[i];
    subR[i] = double(av[i]) - bv[i];
    mulR[i] = double(av[i]) * bv[i];
    scaleR[i] = -0.25 * av[i];
    copyR[i] = av[i];
  }
  expectClose(readF32(*be, pb.plan, add), addR);
  expectClose(readF32(*be, pb.plan, sub), subR);
  expectClose(readF32(*be, pb.plan, mul), mulR);
  expectClose(readF32(*be, pb.plan, scaled), scaleR);
  expectClose(readF32(*be, pb.plan, flat), copyR, 0);
  expectClose(readF32(*be, pb.plan, filled), Ref(4, 1.5), 0);
  std::vector<int32_t> iv(3);
  be->read(ifilled, iv.data());
  EXPECT_EQ(iv, std::vector<int32_t>({7, 7, 7}));
}

// logits[B,C] with a few large values to exercise the stable log-sum-exp.
struct SceCase {
  Vec logits;
  std::vector<int32_t> labels;
  int64_t B = 4, C = 6;
  SceCase() {
    logits = test::randomVector(size_t(B * C), 12, -3, 3);
    logits[1] = 80.f;
    logits[C + 2] = -90.f;
    labels = {1, 0, 5, 3};
  }
  double lse(int64_t r) const {
    double m = -1e300;
    for (int64_t c = 0; c < C; ++c)
      m = std::max(m, double(logits[r * C + c]));
    double s = 0;
    for (int64_t c = 0; c < C; ++c)
      s += std::exp(double(logits[r * C + c]) - m);
    return m + std::log(s);
  }
};

TEST(SoftmaxCrossEntropyTest, ForwardAndBackward) {
  SceCase k;
  PlanBuilder pb;
  int32_t logits = pb.input("logits", {k.B, k.C});
  int32_t labels = pb.input("labels", {k.B}, plan::DType::I32);
  int32_t dloss = pb.input("dloss", {});
  int32_t loss = pb.temp("loss", {}), dlogits = pb.temp("dlogits", {k.B, k.C});
  pb.step("softmax_cross_entropy", {logits, labels}, {loss});
  pb.step("softmax_cross_entropy_bwd", {logits, labels, dloss}, {dlogits});
  auto be = loaded(pb.plan);
  be->write(logits, k.logits.data());
  be->write(labels, k.labels.data());
  float dl = 2.5f;
  be->write(dloss, &dl);
  be->run("p");

  double lossRef = 0;
  Ref dRef(size_t(k.B * k.C));
  for (int64_t r = 0; r < k.B; ++r) {
    double lse = k.lse(r);
    lossRef += (lse - k.logits[r * k.C + k.labels[r]]) / double(k.B);
    for (int64_t c = 0; c < k.C; ++c)
      dRef[r * k.C + c] = (std::exp(k.logits[r * k.C + c] - lse) -
                           (c == k.labels[r] ? 1.0 : 0.0)) *
                          dl / double(k.B);
  }
  Vec lossGot = readF32(*be, pb.plan, loss);
  EXPECT_TRUE(std::isfinite(lossGot[0]));
  expectClose(lossGot, {lossRef});
  expectClose(readF32(*be, pb.plan, dlogits), dRef);
}

TEST(SoftmaxCrossEntropyTest, LabelOutOfRangeIsAnError) {
  SceCase k;
  PlanBuilder pb;
  int32_t logits = pb.input("logits", {k.B, k.C});
  int32_t labels = pb.input("labels", {k.B}, plan::DType::I32);
  int32_t loss = pb.temp("loss", {});
  pb.step("softmax_cross_entropy", {logits, labels}, {loss});
  auto be = loaded(pb.plan);
  k.labels[2] = 6;
  be->write(logits, k.logits.data());
  be->write(labels, k.labels.data());
  try {
    be->run("p");
    FAIL() << "expected an rt::Error";
  } catch (const rt::Error &e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("label 6 in row 2"), std::string::npos) << msg;
    EXPECT_NE(msg.find("step 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("softmax_cross_entropy"), std::string::npos) << msg;
  }
  k.labels[2] = -1;
  be->write(labels, k.labels.data());
  EXPECT_THROW(be->run("p"), rt::Error);
}

class ReduceSumTest : public ::testing::TestWithParam<std::vector<int64_t>> {};

TEST_P(ReduceSumTest, MatchesReference) {
  const std::vector<int64_t> shape = {2, 3, 4, 5};
  std::vector<int64_t> axes = GetParam();
  std::vector<int64_t> outShape;
  std::vector<bool> reduced(shape.size(), false);
  for (int64_t a : axes)
    reduced[a] = true;
  for (size_t d = 0; d < shape.size(); ++d)
    if (!reduced[d])
      outShape.push_back(shape[d]);
  PlanBuilder pb;
  int32_t x = pb.input("x", shape), y = pb.temp("y", outShape);
  pb.step("reduce_sum", {x}, {y}).attrs["axes"] = test::intsAttr(axes);
  auto be = loaded(pb.plan);
  Vec xv = test::randomVector(120, 13);
  be->write(x, xv.data());
  be->run("p");

  int64_t outN = 1;
  for (int64_t d : outShape)
    outN *= d;
  Ref ref(size_t(outN), 0);
  for (int64_t i = 0; i < 120; ++i) {
    int64_t rem = i, out = 0, mul = 1;
    for (size_t d = shape.size(); d-- > 0;) {
      int64_t idx = rem % shape[d];
      rem /= shape[d];
      if (!reduced[d]) {
        out += idx * mul;
        mul *= shape[d];
      }
    }
    ref[out] += xv[i];
  }
  expectClose(readF32(*be, pb.plan, y), ref);
}

INSTANTIATE_TEST_SUITE_P(
    Axes, ReduceSumTest,
    ::testing::Values(std::vector<int64_t>{0}, std::vector<int64_t>{3},
                      std::vector<int64_t>{1, 2}, std::vector<int64_t>{0, 2},
                      std::vector<int64_t>{3, 1}, std::vector<int64_t>{},
                      std::vector<int64_t>{0, 1, 2, 3}));

class BroadcastTest
    : public ::testing::TestWithParam<
          std::pair<std::vector<int64_t>, std::vector<int64_t>>> {};

// Broadcast then check y[idx] == x[idx without the broadcast axes].
TEST_P(BroadcastTest, RepeatsAlongAxes) {
  auto [yShape, axes] = GetParam();
  std::vector<bool> bc(yShape.size(), false);
  for (int64_t a : axes)
    bc[a] = true;
  std::vector<int64_t> xShape;
  for (size_t d = 0; d < yShape.size(); ++d)
    if (!bc[d])
      xShape.push_back(yShape[d]);
  PlanBuilder pb;
  int32_t x = pb.input("x", xShape), y = pb.temp("y", yShape);
  pb.step("broadcast", {x}, {y}).attrs["axes"] = test::intsAttr(axes);
  auto be = loaded(pb.plan);
  size_t xn = size_t(pb.plan.buffers[x].numElements());
  size_t yn = size_t(pb.plan.buffers[y].numElements());
  Vec xv = test::randomVector(xn, 14);
  be->write(x, xv.data());
  be->run("p");
  Ref ref(yn);
  for (size_t i = 0; i < yn; ++i) {
    int64_t rem = int64_t(i), xi = 0, mul = 1;
    for (size_t d = yShape.size(); d-- > 0;) {
      int64_t idx = rem % yShape[d];
      rem /= yShape[d];
      if (!bc[d]) {
        xi += idx * mul;
        mul *= yShape[d];
      }
    }
    ref[i] = xv[xi];
  }
  expectClose(readF32(*be, pb.plan, y), ref, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Axes, BroadcastTest,
    ::testing::Values(
        std::make_pair(std::vector<int64_t>{2, 3}, std::vector<int64_t>{0}),
        std::make_pair(std::vector<int64_t>{3, 2}, std::vector<int64_t>{1}),
        std::make_pair(std::vector<int64_t>{2, 3, 4}, std::vector<int64_t>{1}),
        std::make_pair(std::vector<int64_t>{2, 3, 4, 5},
                       std::vector<int64_t>{0, 2}),
        std::make_pair(std::vector<int64_t>{2, 3}, std::vector<int64_t>{0, 1}),
        std::make_pair(std::vector<int64_t>{4}, std::vector<int64_t>{})));

// A forward + backward + SGD step of a one-layer classifier.
PlanBuilder trainStepPlan(int32_t &w, int32_t &loss) {
  const int64_t B = 8, I = 16, O = 5;
  PlanBuilder pb("train_step");
  int32_t x = pb.input("x", {B, I});
  int32_t labels = pb.input("labels", {B}, plan::DType::I32);
  int32_t lr = pb.input("lr", {}), step = pb.input("step", {});
  w = pb.param("w", {O, I});
  int32_t b = pb.param("b", {O});
  int32_t h = pb.temp("h", {B, O}), a = pb.temp("a", {B, O});
  loss = pb.temp("loss", {});
  int32_t one = pb.temp("one", {}), da = pb.temp("da", {B, O});
  int32_t dh = pb.temp("dh", {B, O}), dw = pb.temp("dw", {O, I}),
          db = pb.temp("db", {O});
  pb.step("linear", {x, w, b}, {h});
  pb.step("gelu", {h}, {a});
  pb.step("softmax_cross_entropy", {a, labels}, {loss});
  pb.step("fill", {}, {one}).attrs["value"] = test::floatAttr(1);
  pb.step("softmax_cross_entropy_bwd", {a, labels, one}, {da});
  pb.step("gelu_bwd", {h, da}, {dh});
  pb.step("linear_bwd_weights", {x, dh}, {dw, db});
  pb.step("sgd_update", {dw, lr, step}, {w});
  pb.step("sgd_update", {db, lr, step}, {b});
  pb.plan.programs[0].outputs["loss"] = loss;
  return pb;
}

void initTrainStep(rt::Backend &be, const plan::Plan &p) {
  Vec xv = test::randomVector(8 * 16, 20);
  std::vector<int32_t> labels = {0, 1, 2, 3, 4, 0, 1, 2};
  Vec wv = test::randomVector(5 * 16, 21, -0.5f, 0.5f);
  float lr = 0.1f, step = 1;
  be.write(p.findBuffer("x"), xv.data());
  be.write(p.findBuffer("labels"), labels.data());
  be.write(p.findBuffer("w"), wv.data());
  be.write(p.findBuffer("lr"), &lr);
  be.write(p.findBuffer("step"), &step);
}

TEST(DeterminismTest, RepeatedRunsAreBitIdentical) {
  int32_t w, loss;
  PlanBuilder pb = trainStepPlan(w, loss);
  auto be1 = loaded(pb.plan, 2), be2 = loaded(pb.plan, 2);
  initTrainStep(*be1, pb.plan);
  initTrainStep(*be2, pb.plan);
  std::vector<float> losses;
  for (int i = 0; i < 3; ++i) {
    be1->run("train_step");
    be2->run("train_step");
    Vec l1 = readF32(*be1, pb.plan, loss), l2 = readF32(*be2, pb.plan, loss);
    EXPECT_EQ(std::memcmp(l1.data(), l2.data(), sizeof(float)), 0);
    losses.push_back(l1[0]);
  }
  Vec w1 = readF32(*be1, pb.plan, w), w2 = readF32(*be2, pb.plan, w);
  EXPECT_EQ(std::memcmp(w1.data(), w2.data(), w1.size() * sizeof(float)), 0);
  // Training does something: the loss goes down on a fixed batch.
  EXPECT_LT(losses[2], losses[0]);

  // The same program on the same state gives the same bits: rerun from a
  // restored state.
  auto be3 = loaded(pb.plan, 2);
  initTrainStep(*be3, pb.plan);
  be3->run("train_step");
  Vec l3 = readF32(*be3, pb.plan, loss);
  EXPECT_EQ(std::memcmp(&l3[0], &losses[0], sizeof(float)), 0);
}

TEST(BackendTest, HostPointerAliasesTheBuffer) {
  int32_t w, loss;
  PlanBuilder pb = trainStepPlan(w, loss);
  auto be = loaded(pb.plan);
  auto *p = static_cast<float *>(be->hostPointer(w));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
  EXPECT_EQ(p[0], 0.f); // zero-initialised
  p[3] = 4.5f;
  Vec got = readF32(*be, pb.plan, w);
  EXPECT_EQ(got[3], 4.5f);
  EXPECT_EQ(be->name(), "cpu");
}

TEST(BackendTest, ErrorsAreReported) {
  int32_t w, loss;
  PlanBuilder pb = trainStepPlan(w, loss);
  auto be = rt::createCpuBackend(0);
  float v = 0;
  EXPECT_THROW(be->read(0, &v), rt::Error); // nothing loaded
  be->load(pb.plan);
  EXPECT_THROW(be->run("eval_step"), rt::Error);
  EXPECT_THROW(be->read(-1, &v), rt::Error);
  EXPECT_THROW(be->read(int32_t(pb.plan.buffers.size()), &v), rt::Error);
  float zero = 0;
  be->write(pb.plan.findBuffer("step"), &zero);
  try {
    be->run("train_step");
    FAIL() << "step 0 must be rejected";
  } catch (const rt::Error &e) {
    EXPECT_NE(std::string(e.what()).find("sgd_update"), std::string::npos)
        << e.what();
  }
  // An invalid plan is refused at load with verify's message.
  pb.plan.programs[0].steps[0].kernel = "conv9d";
  try {
    be->load(pb.plan);
    FAIL() << "expected an rt::Error";
  } catch (const rt::Error &e) {
    EXPECT_NE(std::string(e.what()).find("unknown kernel 'conv9d'"),
              std::string::npos)
        << e.what();
  }
}

TEST(BackendTest, CudaIsNotAvailableInThisBuild) {
  std::string why;
  EXPECT_FALSE(rt::cudaAvailable(&why));
  EXPECT_EQ(why, "this build has no CUDA backend");
}

} // namespace
