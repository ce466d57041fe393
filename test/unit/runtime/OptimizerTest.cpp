//===- OptimizerTest.cpp - SGD and AdamW updates vs PyTorch rules ---------===//
// SPDX-License-Identifier: Apache-2.0
//
// The references transcribe torch.optim.SGD and torch.optim.AdamW in double
// precision; several steps with fresh gradients exercise the state buffers.
// The group updates (ftc-fuse's multi-tensor form) must give bit-identical
// results to one update per tensor.
//===----------------------------------------------------------------------===//

#include "PlanBuilder.h"

#include "ftc/runtime/Backend.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

using namespace ftc;
using ftc::test::PlanBuilder;

namespace {

constexpr int64_t kN = 37;
constexpr int kSteps = 4;

struct SgdConfig {
  double momentum, dampening, weightDecay;
  bool nesterov;
};

class SgdTest : public ::testing::TestWithParam<SgdConfig> {};

TEST_P(SgdTest, MatchesTorchSgd) {
  SgdConfig c = GetParam();
  PlanBuilder pb;
  int32_t grad = pb.input("grad", {kN}), lr = pb.input("lr", {}),
          step = pb.input("step", {});
  int32_t p = pb.param("p", {kN}), buf = pb.state("p.momentum", {kN});
  std::vector<int32_t> outs = {p};
  if (c.momentum != 0)
    outs.push_back(buf);
  plan::Step &s = pb.step("sgd_update", {grad, lr, step}, outs);
  s.attrs["momentum"] = test::floatAttr(c.momentum);
  s.attrs["dampening"] = test::floatAttr(c.dampening);
  s.attrs["weight_decay"] = test::floatAttr(c.weightDecay);
  s.attrs["nesterov"] = test::intAttr(c.nesterov);
  ASSERT_EQ(plan::verify(pb.plan), "");
  auto be = rt::createCpuBackend(0);
  be->load(pb.plan);

  std::vector<float> p0 = test::randomVector(kN, 30);
  be->write(p, p0.data());
  std::vector<double> pRef(p0.begin(), p0.end()), bufRef(kN, 0);
  for (int t = 1; t <= kSteps; ++t) {
    std::vector<float> g = test::randomVector(kN, 100 + t);
    float lrV = 0.05f * float(t), stepV = float(t);
    be->write(grad, g.data());
    be->write(lr, &lrV);
    be->write(step, &stepV);
    be->run("p");
    for (int64_t i = 0; i < kN; ++i) {
      double d = g[i] + c.weightDecay * pRef[i];
      if (c.momentum != 0) {
        bufRef[i] = t == 1 ? d : c.momentum * bufRef[i] + (1 - c.dampening) * d;
        d = c.nesterov ? d + c.momentum * bufRef[i] : bufRef[i];
      }
      pRef[i] -= double(lrV) * d;
    }
  }
  std::vector<float> got(kN), gotBuf(kN);
  be->read(p, got.data());
  be->read(buf, gotBuf.data());
  for (int64_t i = 0; i < kN; ++i) {
    EXPECT_TRUE(test::closeTo(got[i], pRef[i]))
        << i << ": " << got[i] << " vs " << pRef[i];
    EXPECT_TRUE(test::closeTo(gotBuf[i], bufRef[i]))
        << i << ": " << gotBuf[i] << " vs " << bufRef[i];
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, SgdTest,
                         ::testing::Values(SgdConfig{0, 0, 0, false},
                                           SgdConfig{0, 0, 0.1, false},
                                           SgdConfig{0.9, 0, 0, false},
                                           SgdConfig{0.9, 0.25, 0.01, false},
                                           SgdConfig{0.8, 0, 0.05, true}));

struct AdamwConfig {
  double beta1, beta2, eps, weightDecay;
};

class AdamwTest : public ::testing::TestWithParam<AdamwConfig> {};

TEST_P(AdamwTest, MatchesTorchAdamw) {
  AdamwConfig c = GetParam();
  PlanBuilder pb;
  int32_t grad = pb.input("grad", {kN}), lr = pb.input("lr", {}),
          step = pb.input("step", {});
  int32_t p = pb.param("p", {kN}), m = pb.state("p.exp_avg", {kN}),
          v = pb.state("p.exp_avg_sq", {kN});
  plan::Step &s = pb.step("adamw_update", {grad, lr, step}, {p, m, v});
  s.attrs["beta1"] = test::floatAttr(c.beta1);
  s.attrs["beta2"] = test::floatAttr(c.beta2);
  s.attrs["eps"] = test::floatAttr(c.eps);
  s.attrs["weight_decay"] = test::floatAttr(c.weightDecay);
  auto be = rt::createCpuBackend(0);
  be->load(pb.plan);

  std::vector<float> p0 = test::randomVector(kN, 31);
  be->write(p, p0.data());
  std::vector<double> pRef(p0.begin(), p0.end()), mRef(kN, 0), vRef(kN, 0);
  for (int t = 1; t <= kSteps; ++t) {
    std::vector<float> g = test::randomVector(kN, 200 + t);
    float lrV = 1e-2f / float(t), stepV = float(t);
    be->write(grad, g.data());
    be->write(lr, &lrV);
    be->write(step, &stepV);
    be->run("p");
    double bc1 = 1 - std::pow(c.beta1, t), bc2 = 1 - std::pow(c.beta2, t);
    for (int64_t i = 0; i < kN; ++i) {
      pRef[i] *= 1 - double(lrV) * c.weightDecay;
      mRef[i] = c.beta1 * mRef[i] + (1 - c.beta1) * g[i];
      vRef[i] = c.beta2 * vRef[i] + (1 - c.beta2) * double(g[i]) * g[i];
      pRef[i] -= (lrV / bc1) * mRef[i] / (std::sqrt(vRef[i] / bc2) + c.eps);
    }
  }
  std::vector<float> gotP(kN), gotM(kN), gotV(kN);
  be->read(p, gotP.data());
  be->read(m, gotM.data());
  be->read(v, gotV.data());
  for (int64_t i = 0; i < kN; ++i) {
    EXPECT_TRUE(test::closeTo(gotP[i], pRef[i]))
        << i << ": " << gotP[i] << " vs " << pRef[i];
    EXPECT_TRUE(test::closeTo(gotM[i], mRef[i])) << i;
    EXPECT_TRUE(test::closeTo(gotV[i], vRef[i])) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, AdamwTest,
                         ::testing::Values(AdamwConfig{0.9, 0.999, 1e-8, 0.01},
                                           AdamwConfig{0.8, 0.99, 1e-6, 0},
                                           AdamwConfig{0.5, 0.9, 1e-3, 0.1}));

TEST(AdamwTest, DefaultsAreTorchDefaults) {
  PlanBuilder pb;
  int32_t grad = pb.input("grad", {2}), lr = pb.input("lr", {}),
          step = pb.input("step", {});
  int32_t p = pb.param("p", {2}), m = pb.state("m", {2}),
          v = pb.state("v", {2});
  pb.step("adamw_update", {grad, lr, step}, {p, m, v});
  auto be = rt::createCpuBackend(1);
  be->load(pb.plan);
  float g[2] = {1.f, -2.f}, p0[2] = {1.f, 1.f}, lrV = 0.1f, one = 1.f;
  be->write(grad, g);
  be->write(p, p0);
  be->write(lr, &lrV);
  be->write(step, &one);
  be->run("p");
  float got[2];
  be->read(p, got);
  // Step 1: m/bc1 = g, sqrt(v/bc2) = |g|, so p = p(1 - lr wd) - lr sign(g).
  double decayed = 1.0 * (1 - 0.1 * 0.01);
  EXPECT_NEAR(got[0], decayed - 0.1 * (1 / (1 + 1e-8)), 1e-6);
  EXPECT_NEAR(got[1], decayed + 0.1 * (2 / (2 + 1e-8)), 1e-6);
}

// Tensors of a group: one spans several of the group kernel's chunks, one
// is a single element.
const std::vector<int64_t> kGroupSizes = {40000, 37, 1, 5000};

/// Final parameters and states after 3 steps of `kernel` ("sgd" or
/// "adamw"), as one update per tensor or as one group update, with a clip
/// factor input. `attrs` are the hyperparameters.
std::vector<std::vector<float>>
runUpdates(const std::string &kernel, bool grouped,
           const std::map<std::string, plan::Attr> &attrs, int threads) {
  bool adamw = kernel == "adamw";
  size_t states = adamw ? 2 : attrs.at("momentum").f != 0 ? 1 : 0;
  PlanBuilder pb;
  int32_t lr = pb.input("lr", {}), step = pb.input("step", {}),
          clip = pb.input("clip", {});
  std::vector<int32_t> grads, params, stateIds;
  for (size_t t = 0; t < kGroupSizes.size(); ++t) {
    std::string n = "p" + std::to_string(t);
    grads.push_back(pb.input(n + ".grad", {kGroupSizes[t]}));
    params.push_back(pb.param(n, {kGroupSizes[t]}));
  }
  for (size_t s = 0; s < states; ++s)
    for (size_t t = 0; t < kGroupSizes.size(); ++t)
      stateIds.push_back(
          pb.state("p" + std::to_string(t) + ".state" + std::to_string(s),
                   {kGroupSizes[t]}));
  size_t n = kGroupSizes.size();
  if (grouped) {
    std::vector<int32_t> ins = grads, outs = params;
    ins.insert(ins.end(), {lr, step, clip});
    outs.insert(outs.end(), stateIds.begin(), stateIds.end());
    plan::Step &s = pb.step(kernel + "_group", ins, outs);
    s.attrs = attrs;
    s.attrs["tensors"] = test::intAttr(int64_t(n));
  } else {
    for (size_t t = 0; t < n; ++t) {
      std::vector<int32_t> outs = {params[t]};
      for (size_t s = 0; s < states; ++s)
        outs.push_back(stateIds[s * n + t]);
      pb.step(kernel + "_update", {grads[t], lr, step, clip}, outs).attrs =
          attrs;
    }
  }
  EXPECT_EQ(plan::verify(pb.plan), "");
  auto be = rt::createCpuBackend(threads);
  be->load(pb.plan);
  for (size_t t = 0; t < n; ++t) {
    std::vector<float> p0 = test::randomVector(kGroupSizes[t], 40 + int(t));
    be->write(params[t], p0.data());
  }
  for (int k = 1; k <= 3; ++k) {
    for (size_t t = 0; t < n; ++t) {
      std::vector<float> g =
          test::randomVector(kGroupSizes[t], 100 * k + int(t));
      be->write(grads[t], g.data());
    }
    float lrV = 0.01f / float(k), stepV = float(k), clipV = 0.75f;
    be->write(lr, &lrV);
    be->write(step, &stepV);
    be->write(clip, &clipV);
    be->run("p");
  }
  std::vector<std::vector<float>> out;
  std::vector<int32_t> all = params;
  all.insert(all.end(), stateIds.begin(), stateIds.end());
  for (int32_t id : all) {
    out.emplace_back(size_t(pb.plan.buffers[id].numElements()));
    be->read(id, out.back().data());
  }
  return out;
}

TEST(GroupUpdateTest, AdamwGroupIsBitIdenticalToSingleUpdates) {
  std::map<std::string, plan::Attr> attrs = {
      {"beta1", test::floatAttr(0.9)},
      {"beta2", test::floatAttr(0.999)},
      {"eps", test::floatAttr(1e-8)},
      {"weight_decay", test::floatAttr(0.01)},
      {"lr_scale", test::floatAttr(0.8)}};
  for (int threads : {1, 2})
    EXPECT_EQ(runUpdates("adamw", true, attrs, threads),
              runUpdates("adamw", false, attrs, 1))
        << threads << " threads";
}

TEST(GroupUpdateTest, SgdGroupIsBitIdenticalToSingleUpdates) {
  for (double momentum : {0.0, 0.9}) {
    std::map<std::string, plan::Attr> attrs = {
        {"momentum", test::floatAttr(momentum)},
        {"dampening", test::floatAttr(0.1)},
        {"weight_decay", test::floatAttr(1e-3)},
        {"nesterov", test::intAttr(0)}};
    for (int threads : {1, 2})
      EXPECT_EQ(runUpdates("sgd", true, attrs, threads),
                runUpdates("sgd", false, attrs, 1))
          << "momentum " << momentum << ", " << threads << " threads";
  }
}

TEST(GroupUpdateTest, VerifierRejectsAWrongGroupArity) {
  PlanBuilder pb;
  int32_t lr = pb.input("lr", {}), step = pb.input("step", {}),
          clip = pb.input("clip", {});
  int32_t g = pb.input("g", {3}), p = pb.param("p", {3}),
          m = pb.state("p.m", {3});
  plan::Step &s = pb.step("adamw_group", {g, lr, step, clip}, {p, m});
  s.attrs["tensors"] = test::intAttr(1);
  EXPECT_NE(plan::verify(pb.plan).find("a group of 1 tensors takes 3 or 4 "
                                       "inputs and 3 outputs, got 4 and 2"),
            std::string::npos)
      << plan::verify(pb.plan);
}

/// The clip factor of grad_norm_scale over kGroupSizes' tensors scaled by
/// `scale`, at `threads` threads.
float clipFactor(float scale, int threads) {
  PlanBuilder pb;
  std::vector<int32_t> grads;
  for (size_t t = 0; t < kGroupSizes.size(); ++t)
    grads.push_back(pb.input("g" + std::to_string(t), {kGroupSizes[t]}));
  int32_t out = pb.temp("clip", {});
  pb.step("grad_norm_scale", grads, {out}).attrs["max_norm"] =
      test::floatAttr(1.0);
  EXPECT_EQ(plan::verify(pb.plan), "");
  auto be = rt::createCpuBackend(threads);
  be->load(pb.plan);
  for (size_t t = 0; t < grads.size(); ++t) {
    std::vector<float> g = test::randomVector(kGroupSizes[t], 7 + int(t));
    for (float &x : g)
      x *= scale;
    be->write(grads[t], g.data());
  }
  be->run("p");
  float got;
  be->read(out, &got);
  return got;
}

TEST(GradNormScaleTest, MatchesTorchAndNotTheThreadCount) {
  // A double-precision reference of clip_grad_norm_'s factor.
  double sq = 0;
  for (size_t t = 0; t < kGroupSizes.size(); ++t)
    for (float x : test::randomVector(kGroupSizes[t], 7 + int(t)))
      sq += double(x) * double(x);
  double norm = std::sqrt(sq);
  for (float scale : {1.f, 1e-3f}) {
    double expected = std::min(1.0, 1.0 / (double(scale) * norm + 1e-6));
    float one = clipFactor(scale, 1);
    EXPECT_TRUE(test::closeTo(one, expected)) << one << " vs " << expected;
    EXPECT_EQ(clipFactor(scale, 2), one) << "scale " << scale;
  }
}

} // namespace
