//===- MemoryPlanTest.cpp - Arena slices are in bounds and never clash ---===//
// SPDX-License-Identifier: Apache-2.0
//
// Checks the memory plan the compiler hands the runtime: every Temp buffer
// lies inside its program's arena, is written before it is read, and no two
// Temp buffers whose live ranges (computed from the steps) overlap share a
// byte. Then, functionally: the same plan with every Temp buffer given its
// own space computes bit-identical results.
//===----------------------------------------------------------------------===//

#include "CompileHelpers.h"

#include "ftc/runtime/Trainer.h"

#include <gtest/gtest.h>

#include <climits>
#include <cstring>

using namespace ftc;
using mlir::ftc::Stage;
using mlir::ftc::TrainingPipelineOptions;

namespace {

/// A deeper model with a residual connection and a reduction, so that
/// several intermediates die while others are still live.
const char *kDeepIr = R"mlir(
func.func @forward() {
  %x = ftc.input "image" : tensor<8x6xf32>
  %labels = ftc.input "label" : tensor<8xi32>
  %w0 = ftc.param "l0.weight" {init = "uniform", init_a = -0.4 : f64, init_b = 0.4 : f64} : tensor<16x6xf32>
  %b0 = ftc.param "l0.bias" {init = "uniform", init_a = -0.1 : f64, init_b = 0.1 : f64} : tensor<16xf32>
  %w1 = ftc.param "l1.weight" {init = "uniform", init_a = -0.25 : f64, init_b = 0.25 : f64} : tensor<16x16xf32>
  %b1 = ftc.param "l1.bias" {init = "uniform", init_a = -0.1 : f64, init_b = 0.1 : f64} : tensor<16xf32>
  %w2 = ftc.param "head.weight" {head, init = "uniform", init_a = -0.25 : f64, init_b = 0.25 : f64} : tensor<4x16xf32>
  %h0 = ftc.linear %x, %w0, %b0 : (tensor<8x6xf32>, tensor<16x6xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %a0 = ftc.gelu %h0 : tensor<8x16xf32>
  %h1 = ftc.linear %a0, %w1, %b1 : (tensor<8x16xf32>, tensor<16x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %a1 = ftc.relu %h1 : tensor<8x16xf32>
  %res = ftc.add %a1, %a0 : tensor<8x16xf32>
  %mu = ftc.reduce_mean %res {axes = array<i64: 1>} : tensor<8x16xf32> -> tensor<8xf32>
  %mub = ftc.broadcast %mu {axes = array<i64: 1>} : tensor<8xf32> -> tensor<8x16xf32>
  %centered = ftc.sub %res, %mub : tensor<8x16xf32>
  %logits = ftc.linear %centered, %w2 : (tensor<8x16xf32>, tensor<4x16xf32>) -> tensor<8x4xf32>
  %loss = ftc.softmax_cross_entropy %logits, %labels : (tensor<8x4xf32>, tensor<8xi32>) -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  ftc.output "logits" %logits : tensor<8x4xf32>
  return
}
)mlir";

struct MemCase {
  std::string name;
  const char *ir;
  Stage stage;
};

std::ostream &operator<<(std::ostream &os, const MemCase &c) {
  return os << c.name;
}

class MemoryPlanTest : public ::testing::TestWithParam<MemCase> {
protected:
  void SetUp() override {
    std::string error;
    TrainingPipelineOptions options;
    options.optimizer.optimizer = "adamw";
    options.optimizer.weightDecay = 0.01;
    std::optional<plan::Plan> compiled =
        test::compileToPlan(GetParam().ir, options, GetParam().stage, error);
    ASSERT_TRUE(compiled) << error;
    p = std::move(*compiled);
    p.batchSize = test::kMlpBatch;
  }
  plan::Plan p;
};

struct LiveRange {
  int64_t def = -1, last = -1;
};

TEST_P(MemoryPlanTest, TempBuffersInsideArenaAndDisjointWhileLive) {
  ASSERT_EQ(plan::verify(p), "");
  // train_step, eval_step and predict_step (no gradient accumulation).
  ASSERT_EQ(p.programs.size(), 3u);
  for (size_t prog = 0; prog < p.programs.size(); ++prog) {
    const plan::Program &program = p.programs[prog];
    SCOPED_TRACE(program.name);
    std::map<int32_t, LiveRange> ranges;
    int64_t tempBytes = 0;
    for (size_t id = 0; id < p.buffers.size(); ++id) {
      const plan::Buffer &b = p.buffers[id];
      if (b.kind != plan::BufferKind::Temp || b.program != int32_t(prog))
        continue;
      EXPECT_GE(b.offset, 0) << b.name;
      EXPECT_LE(b.offset + b.bytes(), program.arenaBytes) << b.name;
      EXPECT_GT(b.bytes(), 0) << b.name;
      tempBytes += b.bytes();
      ranges[int32_t(id)];
    }
    ASSERT_FALSE(ranges.empty());
    for (size_t k = 0; k < program.steps.size(); ++k) {
      const plan::Step &s = program.steps[k];
      for (size_t a = 0; a < s.args.size(); ++a) {
        int32_t id = s.args[a];
        const plan::Buffer &b = p.buffers[id];
        if (b.kind != plan::BufferKind::Temp)
          continue;
        ASSERT_EQ(b.program, int32_t(prog))
            << s.kernel << " uses " << b.name << " of another program";
        LiveRange &r = ranges[id];
        bool isOutput = int32_t(a) >= s.numInputs;
        if (!isOutput) {
          EXPECT_GE(r.def, 0) << s.kernel << " (step " << k << ") reads "
                              << b.name << " before anything wrote it";
        }
        if (isOutput && r.def < 0)
          r.def = int64_t(k);
        r.last = int64_t(k);
      }
    }
    // Named results are read by the trainer after the run.
    for (const auto &[role, id] : program.outputs)
      if (p.buffers[id].kind == plan::BufferKind::Temp) {
        ASSERT_TRUE(ranges.count(id)) << role;
        ranges[id].last = INT64_MAX;
      }

    int checkedPairs = 0, sharedPairs = 0;
    for (auto i = ranges.begin(); i != ranges.end(); ++i) {
      EXPECT_GE(i->second.def, 0)
          << p.buffers[i->first].name << " is never written";
      for (auto j = std::next(i); j != ranges.end(); ++j) {
        const plan::Buffer &a = p.buffers[i->first], &b = p.buffers[j->first];
        bool bytesOverlap =
            a.offset < b.offset + b.bytes() && b.offset < a.offset + a.bytes();
        bool liveOverlap =
            i->second.def <= j->second.last && j->second.def <= i->second.last;
        ++checkedPairs;
        sharedPairs += bytesOverlap;
        EXPECT_FALSE(bytesOverlap && liveOverlap)
            << a.name << " [" << a.offset << ", " << a.offset + a.bytes()
            << ") live steps " << i->second.def << ".." << i->second.last
            << " and " << b.name << " [" << b.offset << ", "
            << b.offset + b.bytes() << ") live steps " << j->second.def << ".."
            << j->second.last;
      }
    }
    EXPECT_GT(checkedPairs, 0);
    // The planner reuses dead space in the training program of the deeper
    // model, so the disjointness check above is not vacuous there.
    if (GetParam().name == "deep_plan" && program.name == "train_step") {
      EXPECT_GT(sharedPairs, 0);
      EXPECT_LT(program.arenaBytes, tempBytes);
    }
  }
}

/// The plan with every Temp buffer in its own space (no reuse at all).
plan::Plan withoutReuse(const plan::Plan &p) {
  plan::Plan q = p;
  std::vector<int64_t> end(q.programs.size(), 0);
  for (plan::Buffer &b : q.buffers)
    if (b.kind == plan::BufferKind::Temp) {
      b.offset = end[b.program];
      end[b.program] += (b.bytes() + 63) / 64 * 64;
    }
  for (size_t i = 0; i < q.programs.size(); ++i)
    q.programs[i].arenaBytes = std::max<int64_t>(end[i], 1);
  return q;
}

TEST_P(MemoryPlanTest, SameResultsAsWithoutReuse) {
  plan::Plan spread = withoutReuse(p);
  ASSERT_EQ(plan::verify(spread), "");
  std::unique_ptr<rt::Backend> planned = rt::createCpuBackend(1);
  std::unique_ptr<rt::Backend> separate = rt::createCpuBackend(1);
  planned->load(p);
  separate->load(spread);
  rt::initializeParameters(p, *planned, 11);
  rt::initializeParameters(spread, *separate, 11);
  const plan::Program *train = p.findProgram("train_step");
  ASSERT_NE(train, nullptr);

  auto sameFloats = [&](int32_t id, const std::string &what) {
    std::vector<float> a = test::readFloats(p, *planned, id);
    std::vector<float> b = test::readFloats(spread, *separate, id);
    EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)))
        << what << " differs from the plan without reuse";
  };
  for (int t = 1; t <= 3; ++t) {
    SCOPED_TRACE("step " + std::to_string(t));
    for (auto [pl, be] :
         {std::pair{&p, planned.get()}, std::pair{&spread, separate.get()}}) {
      test::fillInputs(*pl, *be, 50 + t, test::kMlpClasses);
      if (pl->findBuffer("lr") >= 0) {
        test::writeScalar(*pl, *be, "lr", 0.02f);
        test::writeScalar(*pl, *be, "step", float(t));
      }
      be->run("train_step");
    }
    // Every named result of train_step (loss and, at the Train stage, the
    // gradients), then every parameter and optimizer state.
    for (const auto &[role, id] : train->outputs)
      sameFloats(id, role);
    for (size_t id = 0; id < p.buffers.size(); ++id)
      if (p.buffers[id].kind == plan::BufferKind::Param ||
          p.buffers[id].kind == plan::BufferKind::OptState)
        sameFloats(int32_t(id), p.buffers[id].name);
    planned->run("eval_step");
    separate->run("eval_step");
    for (const auto &[role, id] : p.findProgram("eval_step")->outputs)
      sameFloats(id, "eval " + role);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Models, MemoryPlanTest,
    ::testing::Values(MemCase{"mlp_plan", test::kMlpIr, Stage::Plan},
                      MemCase{"mlp_train", test::kMlpIr, Stage::Train},
                      MemCase{"deep_plan", kDeepIr, Stage::Plan},
                      MemCase{"deep_train", kDeepIr, Stage::Train}),
    [](const ::testing::TestParamInfo<MemCase> &info) {
      return info.param.name;
    });

} // namespace
