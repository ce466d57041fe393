//===- GlobTest.cpp - Glob patterns over parameter names --------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

#include "ftc/Support/Glob.h"

#include <gtest/gtest.h>

using ftc::GlobPattern;

namespace {

GlobPattern compileOk(const std::string &pattern) {
  std::string error;
  std::optional<GlobPattern> g = GlobPattern::compile(pattern, error);
  EXPECT_TRUE(g.has_value()) << pattern << ": " << error;
  EXPECT_TRUE(error.empty()) << error;
  if (!g) {
    std::string unused;
    return *GlobPattern::compile("", unused);
  }
  return *g;
}

bool matches(const std::string &pattern, const std::string &name) {
  return compileOk(pattern).match(name);
}

std::string compileError(const std::string &pattern) {
  std::string error;
  EXPECT_FALSE(GlobPattern::compile(pattern, error).has_value()) << pattern;
  return error;
}

const char *kQuery = "bert.encoder.layer.3.attention.self.query.weight";

} // namespace

TEST(Glob, LiteralMatchesItselfOnly) {
  EXPECT_TRUE(matches("fc1.weight", "fc1.weight"));
  EXPECT_FALSE(matches("fc1.weight", "fc1.weights"));
  EXPECT_FALSE(matches("fc1.weight", "fc1.weigh"));
  EXPECT_FALSE(matches("fc1.weight", "xfc1.weight"));
  EXPECT_TRUE(matches("", ""));
  EXPECT_FALSE(matches("", "a"));
  EXPECT_EQ(compileOk("a.*").pattern(), "a.*");
}

TEST(Glob, StarStopsAtDots) {
  EXPECT_TRUE(matches("fc1.*", "fc1.weight"));
  EXPECT_TRUE(matches("*.bias", "fc2.bias"));
  EXPECT_FALSE(matches("*.bias", "layer.0.bias"));
  EXPECT_TRUE(matches("fc*.weight", "fc12.weight"));
  EXPECT_TRUE(matches("fc*.weight", "fc.weight")); // empty run
  EXPECT_FALSE(matches("fc1.*", "fc1.weight.extra"));
  EXPECT_TRUE(matches("*", "weight"));
  EXPECT_FALSE(matches("*", "a.b"));
}

TEST(Glob, DoubleStarCrossesDots) {
  EXPECT_TRUE(matches("bert.encoder.**", kQuery));
  EXPECT_TRUE(matches("**.weight", kQuery));
  EXPECT_TRUE(matches("**", kQuery));
  EXPECT_TRUE(matches("**.bias", "layer.0.bias"));
  EXPECT_FALSE(matches("**.bias", "layer.0.bias_extra"));
  EXPECT_TRUE(matches("bert.**.query.*", kQuery));
  EXPECT_FALSE(matches("bert.**.key.*", kQuery));
  EXPECT_FALSE(matches("bert.embeddings.**", kQuery));
}

TEST(Glob, QuestionIsOneNonDotCharacter) {
  EXPECT_TRUE(matches("fc?.weight", "fc1.weight"));
  EXPECT_FALSE(matches("fc?.weight", "fc12.weight"));
  EXPECT_FALSE(matches("fc?.weight", "fc.weight"));
  EXPECT_FALSE(matches("a?b", "a.b"));
}

TEST(Glob, Alternatives) {
  EXPECT_TRUE(matches("fc{1,2}.weight", "fc1.weight"));
  EXPECT_TRUE(matches("fc{1,2}.weight", "fc2.weight"));
  EXPECT_FALSE(matches("fc{1,2}.weight", "fc3.weight"));
  EXPECT_TRUE(matches("**.{weight,bias}", "a.b.bias"));
  EXPECT_TRUE(matches("x{,y}", "x")); // an empty alternative
  EXPECT_TRUE(matches("x{,y}", "xy"));
}

TEST(Glob, AlternativesHoldGlobsAndNest) {
  EXPECT_TRUE(matches("{bert.embeddings.**,**.query.*}", kQuery));
  EXPECT_TRUE(matches("{a,b{c,d{e,f}}}.w", "bdf.w"));
  EXPECT_TRUE(matches("{a,b{c,d{e,f}}}.w", "bc.w"));
  EXPECT_FALSE(matches("{a,b{c,d{e,f}}}.w", "bd.w"));
  EXPECT_TRUE(matches("layer.{{0..2},fc*}.weight", "layer.fc9.weight"));
  EXPECT_TRUE(matches("layer.{{0..2},fc*}.weight", "layer.1.weight"));
  EXPECT_FALSE(matches("layer.{{0..2},fc*}.weight", "layer.3.weight"));
}

TEST(Glob, AlternativeBacktracksIntoTheRest) {
  // The first alternative matches a prefix but then the rest fails.
  EXPECT_TRUE(matches("{a,ab}c", "abc"));
  EXPECT_TRUE(matches("{*,*.*}.w", "x.y.w"));
}

TEST(Glob, IntegerRanges) {
  std::string p = "bert.encoder.layer.{0..11}.**";
  EXPECT_TRUE(matches(p, kQuery));
  EXPECT_TRUE(matches(p, "bert.encoder.layer.0.x"));
  EXPECT_TRUE(matches(p, "bert.encoder.layer.10.x"));
  EXPECT_TRUE(matches(p, "bert.encoder.layer.11.x"));
  EXPECT_FALSE(matches(p, "bert.encoder.layer.12.x"));
  EXPECT_FALSE(matches(p, "bert.encoder.layer.012.x"));
  EXPECT_FALSE(matches(p, "bert.encoder.layer.01.x"));
  EXPECT_FALSE(matches(p, "bert.encoder.layer.x.x"));
  EXPECT_TRUE(matches("l{5..5}", "l5"));
  EXPECT_FALSE(matches("l{5..5}", "l4"));
  EXPECT_TRUE(matches("l{8..12}", "l9"));
  EXPECT_FALSE(matches("l{8..12}", "l7"));
  EXPECT_FALSE(matches("l{8..12}", "l13"));
  // A range followed by a digit still tries shorter numbers.
  EXPECT_TRUE(matches("l{1..5}0", "l10"));
}

TEST(Glob, EscapesAreLiteral) {
  EXPECT_TRUE(matches("a\\*b", "a*b"));
  EXPECT_FALSE(matches("a\\*b", "axb"));
  EXPECT_TRUE(matches("\\{x\\}", "{x}"));
}

TEST(Glob, CompileErrors) {
  EXPECT_NE(compileError("layer.{0,1").find("unbalanced '{'"),
            std::string::npos);
  EXPECT_NE(compileError("layer.0}").find("unbalanced '}'"), std::string::npos);
  EXPECT_NE(compileError("a{b{c}").find("unbalanced '{'"), std::string::npos);
  EXPECT_NE(compileError("l{5..2}").find("bad range"), std::string::npos);
  EXPECT_NE(compileError("l{a..b}").find("bad range"), std::string::npos);
  EXPECT_NE(compileError("l{1..}").find("bad range"), std::string::npos);
  EXPECT_NE(compileError("l{-1..3}").find("bad range"), std::string::npos);
  EXPECT_NE(compileError("l{}").find("empty"), std::string::npos);
  EXPECT_NE(compileError("l.{0..2,fc}").find("'..' outside"),
            std::string::npos);
  EXPECT_NE(compileError("a..b").find("'..' outside"), std::string::npos);
  EXPECT_NE(compileError("a\\").find("trailing"), std::string::npos);
}

TEST(Glob, ManyStarsStayFast) {
  // Backtracking over several wildcards on a long name must terminate.
  std::string name(60, 'a');
  EXPECT_FALSE(matches("*a*a*a*b", name));
  EXPECT_TRUE(matches("**a**a**a**", name));
}
