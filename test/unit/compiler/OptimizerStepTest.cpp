//===- OptimizerStepTest.cpp - Compiled updates vs hand-written rules ----===//
// SPDX-License-Identifier: Apache-2.0
//
// The MLP is compiled twice: to the Train stage, whose train_step outputs the
// gradients, and to the Plan stage, whose train_step applies the optimizer
// in place. Each step the gradient read from the first plan (at the second
// plan's current parameters) drives a double-precision transcription of
// torch.optim.SGD / torch.optim.AdamW; the second plan's parameters and
// state must match it. Several steps exercise the state buffers.
//===----------------------------------------------------------------------===//

#include "CompileHelpers.h"

#include "ftc/runtime/Trainer.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace ftc;
using mlir::ftc::Stage;
using mlir::ftc::TrainingPipelineOptions;

namespace {

constexpr int kSteps = 3;

struct OptConfig {
  std::string name;
  std::string optimizer;
  double momentum = 0, dampening = 0, weightDecay = 0;
  bool nesterov = false;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double lr = 0.05;
};

std::ostream &operator<<(std::ostream &os, const OptConfig &c) {
  return os << c.name;
}

struct State {
  std::vector<double> a, b; // momentum buffer | exp_avg, exp_avg_sq
};

/// One torch.optim step on `p` in double precision.
void referenceStep(const OptConfig &c, std::vector<double> &p,
                   const std::vector<double> &g, State &s, int t, double lr) {
  size_t n = p.size();
  if (s.a.empty())
    s.a.assign(n, 0), s.b.assign(n, 0);
  if (c.optimizer == "sgd") {
    for (size_t i = 0; i < n; ++i) {
      double d = g[i] + c.weightDecay * p[i];
      if (c.momentum != 0) {
        s.a[i] = t == 1 ? d : c.momentum * s.a[i] + (1 - c.dampening) * d;
        d = c.nesterov ? d + c.momentum * s.a[i] : s.a[i];
      }
      p[i] -= lr * d;
    }
    return;
  }
  double bc1 = 1 - std::pow(c.beta1, t), bc2 = 1 - std::pow(c.beta2, t);
  for (size_t i = 0; i < n; ++i) {
    p[i] *= 1 - lr * c.weightDecay;
    s.a[i] = c.beta1 * s.a[i] + (1 - c.beta1) * g[i];
    s.b[i] = c.beta2 * s.b[i] + (1 - c.beta2) * g[i] * g[i];
    double denom = std::sqrt(s.b[i]) / std::sqrt(bc2) + c.eps;
    p[i] -= lr / bc1 * s.a[i] / denom;
  }
}

class OptimizerStepTest : public ::testing::TestWithParam<OptConfig> {};

TEST_P(OptimizerStepTest, MatchesReference) {
  const OptConfig &c = GetParam();
  std::string error;
  std::optional<plan::Plan> gradPlan = test::compileToPlan(
      test::kMlpIr, TrainingPipelineOptions(), Stage::Train, error);
  ASSERT_TRUE(gradPlan) << error;
  TrainingPipelineOptions options;
  options.optimizer.optimizer = c.optimizer;
  options.optimizer.momentum = c.momentum;
  options.optimizer.dampening = c.dampening;
  options.optimizer.nesterov = c.nesterov;
  options.optimizer.weightDecay = c.weightDecay;
  options.optimizer.beta1 = c.beta1;
  options.optimizer.beta2 = c.beta2;
  options.optimizer.eps = c.eps;
  std::optional<plan::Plan> stepPlan =
      test::compileToPlan(test::kMlpIr, options, Stage::Plan, error);
  ASSERT_TRUE(stepPlan) << error;
  gradPlan->batchSize = stepPlan->batchSize = test::kMlpBatch;
  EXPECT_EQ(stepPlan->optimizer, c.optimizer);

  std::unique_ptr<rt::Backend> gradBe = rt::createCpuBackend(1);
  std::unique_ptr<rt::Backend> stepBe = rt::createCpuBackend(1);
  gradBe->load(*gradPlan);
  stepBe->load(*stepPlan);
  rt::initializeParameters(*stepPlan, *stepBe, 5);
  const plan::Program *gradProgram = gradPlan->findProgram("train_step");
  ASSERT_NE(gradProgram, nullptr);

  std::map<std::string, State> state;
  for (int t = 1; t <= kSteps; ++t) {
    SCOPED_TRACE("step " + std::to_string(t));
    double lr = c.lr * (1 + 0.5 * (t - 1)); // a schedule: lr is an input
    test::fillInputs(*gradPlan, *gradBe, 300 + t, test::kMlpClasses);
    test::fillInputs(*stepPlan, *stepBe, 300 + t, test::kMlpClasses);

    // Gradients at the current parameters of the stepping plan.
    std::map<std::string, std::vector<float>> params, grads;
    for (const plan::ParamInfo &info : stepPlan->params) {
      const std::string &name = stepPlan->buffers[info.buffer].name;
      params[name] = test::readFloats(*stepPlan, *stepBe, info.buffer);
      int32_t id = gradPlan->findBuffer(name);
      ASSERT_GE(id, 0) << name;
      gradBe->write(id, params[name].data());
    }
    float gradLoss = test::runLoss(*gradPlan, *gradBe, "train_step");
    for (auto &[name, values] : params)
      grads[name] = test::readFloats(*gradPlan, *gradBe,
                                     gradProgram->outputs.at("grad." + name));

    test::writeScalar(*stepPlan, *stepBe, "lr", float(lr));
    test::writeScalar(*stepPlan, *stepBe, "step", float(t));
    float stepLoss = test::runLoss(*stepPlan, *stepBe, "train_step");
    EXPECT_FLOAT_EQ(stepLoss, gradLoss);

    for (auto &[name, before] : params) {
      std::vector<double> ref(before.begin(), before.end());
      std::vector<double> g(grads[name].begin(), grads[name].end());
      referenceStep(c, ref, g, state[name], t, double(float(lr)));
      std::vector<float> after =
          test::readFloats(*stepPlan, *stepBe, stepPlan->findBuffer(name));
      double moved = 0;
      for (size_t i = 0; i < ref.size(); ++i) {
        moved = std::max(moved, std::abs(ref[i] - before[i]));
        EXPECT_NEAR(after[i], ref[i], 1e-6 + 1e-5 * std::abs(ref[i]))
            << name << "[" << i << "]";
      }
      // The update is large against the tolerance: a wrong rule shows.
      EXPECT_GT(moved, 1e-3) << name;

      // The persistent state matches too.
      std::vector<std::pair<std::string, const std::vector<double> *>> bufs;
      if (c.optimizer == "sgd" && c.momentum != 0)
        bufs.push_back({".momentum_buffer", &state[name].a});
      if (c.optimizer == "adamw") {
        bufs.push_back({".exp_avg", &state[name].a});
        bufs.push_back({".exp_avg_sq", &state[name].b});
      }
      for (auto &[suffix, expected] : bufs) {
        int32_t id = stepPlan->findBuffer(name + suffix);
        ASSERT_GE(id, 0) << name << suffix;
        EXPECT_EQ(stepPlan->buffers[id].kind, plan::BufferKind::OptState);
        std::vector<float> got = test::readFloats(*stepPlan, *stepBe, id);
        for (size_t i = 0; i < got.size(); ++i)
          EXPECT_NEAR(got[i], (*expected)[i],
                      1e-7 + 1e-5 * std::abs((*expected)[i]))
              << name << suffix << "[" << i << "]";
      }
    }
  }
  // Exactly the state the configuration needs.
  int stateBuffers = 0;
  for (const plan::Buffer &b : stepPlan->buffers)
    stateBuffers += b.kind == plan::BufferKind::OptState;
  int perParam = c.optimizer == "adamw" ? 2 : c.momentum != 0 ? 1 : 0;
  EXPECT_EQ(stateBuffers, perParam * int(stepPlan->params.size()));
}

std::vector<OptConfig> configs() {
  std::vector<OptConfig> v;
  OptConfig nesterov{"sgd_nesterov_wd", "sgd"};
  nesterov.momentum = 0.9;
  nesterov.weightDecay = 0.01;
  nesterov.nesterov = true;
  v.push_back(nesterov);
  OptConfig damped{"sgd_momentum_dampening_wd", "sgd"};
  damped.momentum = 0.8;
  damped.dampening = 0.3;
  damped.weightDecay = 0.05;
  v.push_back(damped);
  OptConfig plain{"sgd_plain_wd", "sgd"};
  plain.weightDecay = 0.02;
  v.push_back(plain);
  OptConfig adamw{"adamw_wd", "adamw"};
  adamw.weightDecay = 0.1;
  adamw.lr = 0.01;
  v.push_back(adamw);
  OptConfig adamwBetas{"adamw_betas_eps", "adamw"};
  adamwBetas.beta1 = 0.8;
  adamwBetas.beta2 = 0.99;
  adamwBetas.eps = 1e-6;
  adamwBetas.weightDecay = 0.01;
  adamwBetas.lr = 0.02;
  v.push_back(adamwBetas);
  return v;
}

INSTANTIATE_TEST_SUITE_P(Optimizers, OptimizerStepTest,
                         ::testing::ValuesIn(configs()),
                         [](const ::testing::TestParamInfo<OptConfig> &info) {
                           return info.param.name;
                         });

} // namespace
