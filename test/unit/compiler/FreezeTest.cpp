//===- FreezeTest.cpp - Frozen parameters never change, never get state --===//
// SPDX-License-Identifier: Apache-2.0
//
// An MLP with its first layer frozen by pattern, trained with AdamW and
// decoupled weight decay: the frozen tensors must stay bit-identical (decay
// must not touch them), get no optimizer state and no update step, and the
// backward pass must stop at the first trainable layer.
//===----------------------------------------------------------------------===//

#include "CompileHelpers.h"

#include "ftc/runtime/Trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

using namespace ftc;
using mlir::ftc::Stage;
using mlir::ftc::TrainingPipelineOptions;

namespace {

bool isFrozenName(const std::string &name) {
  return name.rfind("layers.0.", 0) == 0;
}

TrainingPipelineOptions frozenFirstLayer() {
  TrainingPipelineOptions options;
  options.freeze.policy = "patterns";
  options.freeze.frozen = {"layers.0.*"};
  options.optimizer.optimizer = "adamw";
  options.optimizer.weightDecay = 0.1;
  return options;
}

bool stepReads(const plan::Step &s, int32_t id) {
  return std::find(s.args.begin(), s.args.begin() + s.numInputs, id) !=
         s.args.begin() + s.numInputs;
}

bool stepWrites(const plan::Step &s, int32_t id) {
  return std::find(s.args.begin() + s.numInputs, s.args.end(), id) !=
         s.args.end();
}

TEST(FreezeTest, FrozenParamsAreBitIdenticalAfterAdamW) {
  std::string error;
  std::optional<plan::Plan> p =
      test::compileToPlan(test::kMlpIr, frozenFirstLayer(), Stage::Plan, error);
  ASSERT_TRUE(p) << error;
  p->batchSize = test::kMlpBatch;
  ASSERT_EQ(p->optimizer, "adamw");
  ASSERT_EQ(p->params.size(), 4u);

  std::unique_ptr<rt::Backend> be = rt::createCpuBackend(1);
  be->load(*p);
  rt::initializeParameters(*p, *be, 42);

  std::map<int32_t, std::vector<float>> before;
  for (const plan::ParamInfo &info : p->params) {
    const std::string &name = p->buffers[info.buffer].name;
    EXPECT_EQ(info.trainable, !isFrozenName(name)) << name;
    before[info.buffer] = test::readFloats(*p, *be, info.buffer);
    // initializeParameters gave every tensor non-zero values, so weight
    // decay would visibly change a frozen one.
    EXPECT_TRUE(std::any_of(before[info.buffer].begin(),
                            before[info.buffer].end(),
                            [](float v) { return v != 0; }))
        << name;
  }

  for (int t = 1; t <= 5; ++t) {
    test::fillInputs(*p, *be, 1000 + t, test::kMlpClasses);
    test::writeScalar(*p, *be, "lr", 0.05f);
    test::writeScalar(*p, *be, "step", float(t));
    float loss = test::runLoss(*p, *be, "train_step");
    EXPECT_TRUE(std::isfinite(loss)) << "step " << t;
  }

  for (const plan::ParamInfo &info : p->params) {
    const std::string &name = p->buffers[info.buffer].name;
    std::vector<float> after = test::readFloats(*p, *be, info.buffer);
    const std::vector<float> &old = before[info.buffer];
    bool same = std::memcmp(after.data(), old.data(),
                            after.size() * sizeof(float)) == 0;
    if (isFrozenName(name)) {
      EXPECT_TRUE(same) << "frozen " << name << " changed";
    } else {
      EXPECT_FALSE(same) << "trainable " << name << " did not change";
    }
  }
}

TEST(FreezeTest, FrozenParamsGetNoStateNoUpdateAndNoBackward) {
  std::string error;
  std::optional<plan::Plan> p =
      test::compileToPlan(test::kMlpIr, frozenFirstLayer(), Stage::Plan, error);
  ASSERT_TRUE(p) << error;

  // Optimizer state: exp_avg and exp_avg_sq for each trainable parameter,
  // nothing for the frozen ones.
  for (const plan::Buffer &b : p->buffers) {
    if (b.kind == plan::BufferKind::OptState) {
      EXPECT_FALSE(isFrozenName(b.name)) << "optimizer state " << b.name;
    }
  }
  for (const char *name : {"layers.1.weight", "layers.1.bias"})
    for (const char *suffix : {".exp_avg", ".exp_avg_sq"}) {
      int32_t id = p->findBuffer(std::string(name) + suffix);
      ASSERT_GE(id, 0) << name << suffix;
      EXPECT_EQ(p->buffers[id].kind, plan::BufferKind::OptState);
      EXPECT_EQ(p->buffers[id].shape, p->buffers[p->findBuffer(name)].shape);
    }

  int32_t w0 = p->findBuffer("layers.0.weight");
  int32_t b0 = p->findBuffer("layers.0.bias");
  int32_t image = p->findBuffer("image");
  ASSERT_GE(w0, 0);
  ASSERT_GE(b0, 0);
  ASSERT_GE(image, 0);
  const plan::Program *train = p->findProgram("train_step");
  ASSERT_NE(train, nullptr);
  // One update per trainable parameter in each step program (train_step,
  // and train_step_cached with the frozen prefix split off).
  for (const plan::Program &prog : p->programs) {
    int updates = 0;
    for (const plan::Step &s : prog.steps) {
      EXPECT_FALSE(stepWrites(s, w0) || stepWrites(s, b0))
          << prog.name << ": " << s.kernel << " writes a frozen parameter";
      if (s.kernel == "adamw_update")
        ++updates;
      else if (s.kernel == "adamw_group")
        updates += int(s.getInt("tensors", 0));
    }
    bool stepProgram =
        prog.name == "train_step" || prog.name == "train_step_cached";
    EXPECT_EQ(updates, stepProgram ? 2 : 0) << prog.name;
  }

  // Pruned backward: nothing below layer 1 is differentiated, so the first
  // layer's input and weight are read only by the forward linear, and there
  // is no gradient with respect to any layer's input.
  for (const plan::Step &s : train->steps) {
    EXPECT_NE(s.kernel, "linear_bwd_data");
    EXPECT_NE(s.kernel, "relu_bwd");
    if (stepReads(s, image) || stepReads(s, w0) || stepReads(s, b0)) {
      EXPECT_EQ(s.kernel, "linear") << "a backward step reads layer 0";
    }
  }
}

TEST(FreezeTest, GradientsOnlyForTrainableParams) {
  std::string error;
  std::optional<plan::Plan> p = test::compileToPlan(
      test::kMlpIr, frozenFirstLayer(), Stage::Train, error);
  ASSERT_TRUE(p) << error;
  const plan::Program *train = p->findProgram("train_step");
  ASSERT_NE(train, nullptr);
  std::vector<std::string> roles;
  for (const auto &[role, id] : train->outputs)
    roles.push_back(role);
  EXPECT_EQ(roles, (std::vector<std::string>{"grad.layers.1.bias",
                                             "grad.layers.1.weight", "loss"}));
}

// The checks above are meaningful: with nothing frozen, the same model does
// get state, updates and a backward pass through layer 0.
TEST(FreezeTest, WithoutFreezingLayerZeroTrains) {
  TrainingPipelineOptions options;
  options.optimizer.optimizer = "adamw";
  options.optimizer.weightDecay = 0.1;
  std::string error;
  std::optional<plan::Plan> p =
      test::compileToPlan(test::kMlpIr, options, Stage::Plan, error);
  ASSERT_TRUE(p) << error;
  EXPECT_GE(p->findBuffer("layers.0.weight.exp_avg"), 0);
  EXPECT_GE(p->findBuffer("layers.0.bias.exp_avg_sq"), 0);
  int32_t w0 = p->findBuffer("layers.0.weight");
  int32_t image = p->findBuffer("image");
  const plan::Program *train = p->findProgram("train_step");
  ASSERT_NE(train, nullptr);
  bool writesW0 = false, dataGrad = false, weightGradOfLayer0 = false;
  for (const plan::Step &s : train->steps) {
    writesW0 |= stepWrites(s, w0);
    dataGrad |= s.kernel == "linear_bwd_data";
    weightGradOfLayer0 |=
        s.kernel == "linear_bwd_weights" && stepReads(s, image);
  }
  EXPECT_TRUE(writesW0);
  EXPECT_TRUE(dataGrad);
  EXPECT_TRUE(weightGradOfLayer0);
}

} // namespace
