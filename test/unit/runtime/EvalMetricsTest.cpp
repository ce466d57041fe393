//===- EvalMetricsTest.cpp - The metric definitions, without a backend ----===//
// SPDX-License-Identifier: Apache-2.0
#include "EvalMetrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using ftc::rt::EvalMetrics;

namespace {
/// Logits that predict class `c` of `k`.
std::vector<float> predicting(int c, int k) {
  std::vector<float> row(size_t(k), 0.f);
  row[size_t(c)] = 2.f;
  return row;
}
} // namespace

TEST(EvalMetrics, MacroAveragesOverPresentClasses) {
  // 3 classes (a fourth never occurs); (true, predicted):
  // (0,0) (0,1) (1,1) (2,1) (2,2) (2,2)
  EvalMetrics m(4, 100);
  int pairs[][2] = {{0, 0}, {0, 1}, {1, 1}, {2, 1}, {2, 2}, {2, 2}};
  for (auto [t, p] : pairs)
    m.add(predicting(p, 4).data(), t);
  auto r = m.finish({"accuracy", "precision", "recall", "f1", "bogus"});
  EXPECT_DOUBLE_EQ(r.at("accuracy"), 4.0 / 6);
  // Per class: P = 1, 1/3, 1; R = 1/2, 1, 2/3 (class 3 absent: left out).
  EXPECT_NEAR(r.at("precision"), (1 + 1.0 / 3 + 1) / 3, 1e-12);
  EXPECT_NEAR(r.at("recall"), (0.5 + 1 + 2.0 / 3) / 3, 1e-12);
  double f1 =
      (2 * 0.5 / 1.5 + 2 * (1.0 / 3) / (4.0 / 3) + 2 * (2.0 / 3) / (5.0 / 3)) /
      3;
  EXPECT_NEAR(r.at("f1"), f1, 1e-12);
  EXPECT_EQ(r.count("bogus"), 0u);
  EXPECT_EQ(m.confusion(), (std::vector<int64_t>{1, 1, 0, 0, 0, 1, 0, 0, 0, 1,
                                                 2, 0, 0, 0, 0, 0}));
}

TEST(EvalMetrics, BinaryIsOfClassOneAndZeroDivisionIsZero) {
  EvalMetrics m(2, 100);
  // Never predicts class 1: precision 0/0 counts as 0.
  m.add(predicting(0, 2).data(), 1);
  m.add(predicting(0, 2).data(), 0);
  auto r = m.finish({"precision", "recall", "f1", "accuracy"});
  EXPECT_EQ(r.at("precision"), 0.0);
  EXPECT_EQ(r.at("recall"), 0.0);
  EXPECT_EQ(r.at("f1"), 0.0);
  EXPECT_DOUBLE_EQ(r.at("accuracy"), 0.5);
}

TEST(EvalMetrics, LossIsMeanCrossEntropyAndPerplexityItsExp) {
  EvalMetrics m(3, 100);
  float a[] = {1.f, 2.f, 3.f}, b[] = {1000.f, 0.f, -1000.f};
  m.add(a, 0);
  m.add(b, 0); // stable: no overflow
  double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  double want = ((lse - 1.0) + 0.0) / 2;
  auto r = m.finish({"loss", "perplexity"});
  EXPECT_NEAR(r.at("loss"), want, 1e-12);
  EXPECT_NEAR(r.at("perplexity"), std::exp(want), 1e-9);
  EXPECT_EQ(m.count(), 2);
}

TEST(EvalMetrics, NoConfusionMatrixForManyClasses) {
  EvalMetrics m(1000, 100);
  std::vector<float> row = predicting(7, 1000);
  m.add(row.data(), 7);
  EXPECT_TRUE(m.confusion().empty());
  EXPECT_DOUBLE_EQ(m.finish({"accuracy"}).at("accuracy"), 1.0);
}
