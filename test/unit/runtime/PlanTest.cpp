//===- PlanTest.cpp - Plan serialisation, verification and dump -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0

#include "PlanBuilder.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>

using namespace ftc;
using ftc::test::PlanBuilder;

namespace {

// Every field of the format set to a non-default value.
plan::Plan samplePlan() {
  PlanBuilder pb("train_step");
  plan::Plan &p = pb.plan;
  p.compilerVersion = "ftc 0.1.0 (test)";
  p.batchSize = 4;
  p.optimizer = "sgd";
  p.resolvedSpec = "[pipeline]\nname = \"x\"\n";
  int32_t x = pb.input("image", {4, 3});
  int32_t labels = pb.input("label", {4}, plan::DType::I32);
  int32_t lr = pb.input("lr", {}), step = pb.input("step", {});
  int32_t w = pb.param("layers.0.weight", {2, 3});
  int32_t b = pb.param("layers.0.bias", {2});
  int32_t mom = pb.state("layers.0.weight.momentum", {2, 3});
  p.params[0].init = plan::InitKind::Normal;
  p.params[0].initA = 0;
  p.params[0].initB = 0.02;
  p.params[1].trainable = false;
  p.params[1].head = true;
  p.params[1].init = plan::InitKind::Uniform;
  p.params[1].initA = -std::numeric_limits<double>::infinity();
  p.params[1].initB = 0.1;
  int32_t y = pb.temp("logits", {4, 2}), loss = pb.temp("loss", {});
  int32_t one = pb.temp("one", {}), dy = pb.temp("dlogits", {4, 2});
  int32_t dw = pb.temp("layers.0.weight.grad", {2, 3});
  pb.step("linear", {x, w, b}, {y});
  pb.step("softmax_cross_entropy", {y, labels}, {loss});
  pb.step("fill", {}, {one}).attrs["value"] = test::floatAttr(1);
  pb.step("softmax_cross_entropy_bwd", {y, labels, one}, {dy});
  pb.step("linear_bwd_weights", {x, dy}, {dw});
  plan::Step &s = pb.step("sgd_update", {dw, lr, step}, {w, mom});
  s.attrs["momentum"] = test::floatAttr(0.9);
  s.attrs["nesterov"] = test::intAttr(0);
  s.attrs["weight_decay"] = test::floatAttr(1e-4);
  plan::Attr str;
  str.kind = plan::Attr::String;
  str.s = "note \"quoted\"\n";
  s.attrs["comment"] = str;
  s.attrs["nan"] = test::floatAttr(std::numeric_limits<double>::quiet_NaN());
  s.attrs["axes"] = test::intsAttr({0, -3, int64_t(1) << 40});
  p.programs[0].outputs["loss"] = loss;
  p.programs[0].outputs["logits"] = y;
  p.featureInputs["image"] = x;
  p.featureInputs["label"] = labels;
  // A second program with its own arena.
  plan::Program eval;
  eval.name = "eval_step";
  eval.arenaBytes = 64;
  p.programs.push_back(eval);
  plan::Buffer t;
  t.name = "eval.logits";
  t.shape = {4, 2};
  t.program = 1;
  t.offset = 0;
  p.buffers.push_back(t);
  plan::Step es;
  es.kernel = "linear";
  es.args = {x, w, b, int32_t(p.buffers.size() - 1)};
  es.numInputs = 3;
  p.programs[1].steps.push_back(es);
  p.programs[1].outputs["logits"] = int32_t(p.buffers.size() - 1);
  return p;
}

TEST(PlanTest, SamplePlanIsValid) { EXPECT_EQ(plan::verify(samplePlan()), ""); }

TEST(PlanTest, RoundTripPreservesEverything) {
  plan::Plan p = samplePlan();
  std::string text = plan::serialize(p);
  EXPECT_EQ(text.find("{\n \"format\": \"ftc-plan\",\n \"version\": 1,"), 0u)
      << text.substr(0, 80);
  plan::Plan q;
  std::string err;
  ASSERT_TRUE(plan::deserialize(text, q, err)) << err;
  EXPECT_EQ(plan::serialize(q), text);

  EXPECT_EQ(q.version, p.version);
  EXPECT_EQ(q.compilerVersion, p.compilerVersion);
  EXPECT_EQ(q.batchSize, p.batchSize);
  EXPECT_EQ(q.optimizer, p.optimizer);
  EXPECT_EQ(q.resolvedSpec, p.resolvedSpec);
  EXPECT_EQ(q.featureInputs, p.featureInputs);
  ASSERT_EQ(q.buffers.size(), p.buffers.size());
  for (size_t i = 0; i < p.buffers.size(); ++i) {
    EXPECT_EQ(q.buffers[i].name, p.buffers[i].name);
    EXPECT_EQ(q.buffers[i].kind, p.buffers[i].kind);
    EXPECT_EQ(q.buffers[i].dtype, p.buffers[i].dtype);
    EXPECT_EQ(q.buffers[i].shape, p.buffers[i].shape);
    EXPECT_EQ(q.buffers[i].program, p.buffers[i].program);
    EXPECT_EQ(q.buffers[i].offset, p.buffers[i].offset);
  }
  ASSERT_EQ(q.params.size(), p.params.size());
  for (size_t i = 0; i < p.params.size(); ++i) {
    EXPECT_EQ(q.params[i].buffer, p.params[i].buffer);
    EXPECT_EQ(q.params[i].trainable, p.params[i].trainable);
    EXPECT_EQ(q.params[i].head, p.params[i].head);
    EXPECT_EQ(q.params[i].init, p.params[i].init);
    EXPECT_EQ(q.params[i].initA, p.params[i].initA);
    EXPECT_EQ(q.params[i].initB, p.params[i].initB);
  }
  ASSERT_EQ(q.programs.size(), p.programs.size());
  for (size_t i = 0; i < p.programs.size(); ++i) {
    const plan::Program &a = p.programs[i], &b = q.programs[i];
    EXPECT_EQ(b.name, a.name);
    EXPECT_EQ(b.arenaBytes, a.arenaBytes);
    EXPECT_EQ(b.outputs, a.outputs);
    ASSERT_EQ(b.steps.size(), a.steps.size());
    for (size_t s = 0; s < a.steps.size(); ++s) {
      EXPECT_EQ(b.steps[s].kernel, a.steps[s].kernel);
      EXPECT_EQ(b.steps[s].args, a.steps[s].args);
      EXPECT_EQ(b.steps[s].numInputs, a.steps[s].numInputs);
      ASSERT_EQ(b.steps[s].attrs.size(), a.steps[s].attrs.size());
      for (auto &[k, attr] : a.steps[s].attrs) {
        const plan::Attr &got = b.steps[s].attrs.at(k);
        EXPECT_EQ(got.kind, attr.kind) << k;
        EXPECT_EQ(got.i, attr.i) << k;
        if (std::isnan(attr.f))
          EXPECT_TRUE(std::isnan(got.f)) << k;
        else
          EXPECT_EQ(got.f, attr.f) << k;
        EXPECT_EQ(got.ints, attr.ints) << k;
        EXPECT_EQ(got.s, attr.s) << k;
      }
    }
  }
  // Float attributes that happen to be integral stay floats.
  EXPECT_EQ(q.programs[0].steps[2].attrs.at("value").kind, plan::Attr::Float);
}

bool rejects(const std::string &text, const std::string &expected = "") {
  plan::Plan p;
  std::string err;
  bool ok = plan::deserialize(text, p, err);
  EXPECT_FALSE(ok) << "accepted: " << text.substr(0, 200);
  EXPECT_FALSE(err.empty());
  if (!expected.empty()) {
    EXPECT_NE(err.find(expected), std::string::npos) << err;
  }
  return !ok;
}

TEST(PlanTest, DeserializeRejectsGarbage) {
  rejects("", "not valid JSON");
  rejects("garbage", "not valid JSON");
  rejects(std::string("\x00\xff\xfe", 3), "not valid JSON");
  rejects("null", "not an ftc plan");
  rejects("[1,2,3]", "not an ftc plan");
  rejects("{}", "not an ftc plan");
  rejects("{\"format\":\"onnx\",\"version\":1}", "not an ftc plan");
  rejects(std::string(100000, '['), "");
  rejects("{\"format\":\"ftc-plan\",\"version\":1}", "missing field");
}

TEST(PlanTest, DeserializeRejectsWrongVersion) {
  std::string text = plan::serialize(samplePlan());
  std::string v2 = text;
  v2.replace(v2.find("\"version\": 1"), 12, "\"version\": 2");
  rejects(v2, "version 2 is not supported");
  std::string vs = text;
  vs.replace(vs.find("\"version\": 1"), 12, "\"version\": \"1\"");
  rejects(vs, "version: expected an integer");
}

TEST(PlanTest, DeserializeRejectsEveryTruncation) {
  std::string text = plan::serialize(samplePlan());
  // Every proper prefix except those that only drop trailing whitespace.
  size_t end = text.find_last_not_of(" \n") + 1;
  for (size_t len = 0; len < end; len += 7) {
    plan::Plan p;
    std::string err;
    EXPECT_FALSE(plan::deserialize(text.substr(0, len), p, err))
        << "prefix of " << len << " bytes accepted";
  }
}

// Replaces the first `from` after `anchor` with `to`.
std::string mutate(std::string text, const std::string &anchor,
                   const std::string &from, const std::string &to) {
  size_t a = text.find(anchor);
  EXPECT_NE(a, std::string::npos) << anchor;
  size_t f = text.find(from, a);
  EXPECT_NE(f, std::string::npos) << from;
  return text.replace(f, from.size(), to);
}

TEST(PlanTest, DeserializeRejectsHostileFields) {
  std::string text = plan::serialize(samplePlan());
  // Shapes: negative, huge, overflowing, non-integers.
  rejects(mutate(text, "\"image\"", "4,\n", "-4,\n"), "dimension");
  rejects(mutate(text, "\"image\"", "4,\n", "1099511627777,\n"), "dimension");
  rejects(mutate(mutate(text, "\"image\"", "4,\n", "100000000000,\n"),
                 "\"image\"", "3\n", "100000\n"),
          "too large");
  rejects(mutate(text, "\"image\"", "4,\n", "18446744073709551615,\n"),
          "out of range");
  rejects(mutate(text, "\"image\"", "4,\n", "4.5,\n"), "expected an integer");
  // Ids.
  rejects(mutate(text, "\"args\"", "4,", "999,"), "does not exist");
  rejects(mutate(text, "\"args\"", "4,", "-1,"), "does not exist");
  rejects(mutate(text, "\"args\"", "4,", "4294967296,"), "out of range");
  rejects(mutate(text, "\"params\"", "\"buffer\": 4", "\"buffer\": 77"),
          "does not exist");
  rejects(mutate(text, "\"feature_inputs\"", "\"image\": 0", "\"image\": 4"),
          "not an input buffer");
  rejects(mutate(text, "\"outputs\"", "\"loss\": 8", "\"loss\": 1000"),
          "does not exist");
  // Enumerations and types.
  rejects(mutate(text, "\"image\"", "\"input\"", "\"weird\""),
          "unknown value 'weird'");
  rejects(mutate(text, "\"image\"", "\"f32\"", "\"f64\""), "unknown value");
  rejects(mutate(text, "\"params\"", "true", "1"), "expected true or false");
  rejects(mutate(text, "\"programs\"", "\"steps\": [", "\"steps\": {"),
          "not valid JSON");
  rejects(
      mutate(text, "\"programs\"", "\"num_inputs\": 3", "\"num_inputs\": 9"),
      "numInputs 9");
  rejects(mutate(text, "\"programs\"", "\"kernel\": \"linear\"",
                 "\"kernel\": \"linear_v2\""),
          "unknown kernel 'linear_v2'");
  // Arena slices.
  rejects(mutate(text, "\"logits\"", "\"offset\": 0", "\"offset\": 100000"),
          "outside program 'train_step' arena");
  rejects(mutate(text, "\"logits\"", "\"offset\": 0", "\"offset\": 2"),
          "misaligned");
  rejects(mutate(text, "\"logits\"", "\"program\": 0", "\"program\": 5"),
          "names program 5");
}

// Random single-byte edits (digits mostly, which move ids, shapes and
// offsets): whatever deserialize accepts must be a valid plan.
TEST(PlanTest, DeserializeSurvivesRandomEdits) {
  std::string text = plan::serialize(samplePlan());
  std::mt19937 rng(7);
  const std::string alphabet = "0123456789-9e.,[]{}\"x";
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string t = text;
    size_t pos = rng() % t.size();
    t[pos] = alphabet[rng() % alphabet.size()];
    plan::Plan p;
    std::string err;
    if (plan::deserialize(t, p, err)) {
      ++accepted;
      ASSERT_EQ(plan::verify(p), "") << t;
      plan::Plan q;
      ASSERT_TRUE(plan::deserialize(plan::serialize(p), q, err)) << err;
    } else {
      ASSERT_FALSE(err.empty());
    }
  }
  EXPECT_GT(accepted, 0); // edits inside strings, for example, are harmless
}

TEST(PlanTest, VerifyCatchesOutOfArenaTemp) {
  plan::Plan p = samplePlan();
  int32_t id = p.findBuffer("loss");
  p.buffers[id].offset = p.programs[0].arenaBytes - 2;
  std::string err = plan::verify(p);
  EXPECT_NE(err.find("\"loss\""), std::string::npos) << err;
  EXPECT_NE(err.find("outside program 'train_step' arena"), std::string::npos)
      << err;
  p.buffers[id].offset = -4;
  EXPECT_NE(plan::verify(p), "");
}

TEST(PlanTest, VerifyCatchesWrongArity) {
  plan::Plan p = samplePlan();
  p.programs[0].steps[1].numInputs = 1; // softmax_cross_entropy: 2 -> 1
  std::string err = plan::verify(p);
  EXPECT_NE(err.find("step 1 (softmax_cross_entropy): takes 2 inputs and 1 "
                     "outputs, got 1 and 2"),
            std::string::npos)
      << err;
  p = samplePlan();
  p.programs[0].steps[0].args.pop_back(); // linear with no output
  p.programs[0].steps[0].numInputs = 3;
  EXPECT_NE(plan::verify(p).find("got 3 and 0"), std::string::npos);
}

TEST(PlanTest, VerifyCatchesShapeAndKindErrors) {
  plan::Plan p = samplePlan();
  p.buffers[p.findBuffer("layers.0.bias")].shape = {3};
  std::string err = plan::verify(p);
  EXPECT_NE(err.find("input 'b'"), std::string::npos) << err;
  EXPECT_NE(err.find("expected [2]"), std::string::npos) << err;

  p = samplePlan();
  p.buffers[p.findBuffer("label")].dtype = plan::DType::F32;
  EXPECT_NE(plan::verify(p).find("expected i32"), std::string::npos);

  p = samplePlan(); // momentum buffer without momentum
  p.programs[0].steps[5].attrs.erase("momentum");
  EXPECT_NE(plan::verify(p).find("non-zero momentum"), std::string::npos);

  p = samplePlan(); // a step touching another program's temp
  p.programs[1].steps[0].args[3] = p.findBuffer("logits");
  EXPECT_NE(plan::verify(p).find("temp buffer of program 'train_step'"),
            std::string::npos);

  p = samplePlan();
  p.programs[0].steps[2].attrs.clear(); // fill without a value
  EXPECT_NE(plan::verify(p).find("missing attribute 'value'"),
            std::string::npos);

  p = samplePlan();
  p.params[0].buffer = p.findBuffer("lr");
  EXPECT_NE(plan::verify(p).find("is not a param buffer"), std::string::npos);
}

TEST(PlanTest, DumpListsBuffersParamsAndSteps) {
  std::string d = plan::dump(samplePlan());
  EXPECT_NE(d.find("ftc plan v1"), std::string::npos) << d;
  EXPECT_NE(d.find("%4    param     f32   [2,3]             24"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("train_step @0"), std::string::npos) << d;
  EXPECT_NE(d.find("%4 \"layers.0.weight\"  trainable  init normal(0, 0.02)"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("frozen head"), std::string::npos) << d;
  EXPECT_NE(d.find("  4: linear_bwd_weights(%0 \"image\", %10 \"dlogits\") -> "
                   "(%11 \"layers.0.weight.grad\")\n"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("  2: fill() -> (%9 \"one\") {value = 1}"),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("program train_step (6 steps, arena"), std::string::npos)
      << d;
  EXPECT_NE(d.find("momentum = 0.9"), std::string::npos) << d;
}

TEST(PlanTest, LookupHelpers) {
  plan::Plan p = samplePlan();
  EXPECT_EQ(p.findBuffer("lr"), 2);
  EXPECT_EQ(p.findBuffer("nope"), -1);
  ASSERT_NE(p.findProgram("eval_step"), nullptr);
  EXPECT_EQ(p.findProgram("eval_step")->steps.size(), 1u);
  EXPECT_EQ(p.findProgram("nope"), nullptr);
  const plan::Step &s = p.programs[0].steps[5];
  EXPECT_EQ(s.getFloat("momentum", 0), 0.9);
  EXPECT_EQ(s.getFloat("nesterov", 5), 0.0); // ints read as floats
  EXPECT_EQ(s.getInt("momentum", 7), 7);     // but not the other way
  EXPECT_EQ(s.getInts("axes").size(), 3u);
  EXPECT_TRUE(s.getInts("momentum").empty());
  EXPECT_EQ(p.buffers[p.findBuffer("loss")].numElements(), 1);
  EXPECT_EQ(p.buffers[p.findBuffer("image")].bytes(), 48);
}

} // namespace
