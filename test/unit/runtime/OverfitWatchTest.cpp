//===- OverfitWatchTest.cpp - The overfitting signal ----------------------===//
// SPDX-License-Identifier: Apache-2.0
#include "OverfitWatch.h"

#include <gtest/gtest.h>

using ftc::rt::OverfitWatch;

namespace {
OverfitWatch::Point at(int64_t step, double evalLoss, double trainLoss) {
  return {step, evalLoss, trainLoss};
}
} // namespace

TEST(OverfitWatch, SignalsOnceAfterTheStreak) {
  OverfitWatch w(2);
  EXPECT_FALSE(w.observe(at(10, 1.0, 1.2)));
  EXPECT_FALSE(w.observe(at(20, 0.8, 0.9)));  // both fall: learning
  EXPECT_FALSE(w.observe(at(30, 0.9, 0.7)));  // one rise
  EXPECT_FALSE(w.observe(at(40, 0.85, 0.6))); // eval falls: streak over
  EXPECT_FALSE(w.observe(at(50, 0.9, 0.5)));
  auto s = w.observe(at(60, 1.0, 0.4));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->evals, 2);
  EXPECT_EQ(s->from.step, 40);
  EXPECT_DOUBLE_EQ(s->from.evalLoss, 0.85);
  EXPECT_EQ(s->to.step, 60);
  EXPECT_DOUBLE_EQ(s->to.trainLoss, 0.4);
  EXPECT_EQ(s->lowest.step, 20);
  EXPECT_DOUBLE_EQ(s->lowest.evalLoss, 0.8);
  EXPECT_TRUE(w.signalled());
  EXPECT_FALSE(w.observe(at(70, 1.1, 0.3))); // said once
}

TEST(OverfitWatch, RisingTrainingLossIsNotOverfitting) {
  OverfitWatch w(2);
  w.observe(at(1, 1.0, 1.0));
  EXPECT_FALSE(w.observe(at(2, 1.1, 1.1))); // diverging, not overfitting
  EXPECT_FALSE(w.observe(at(3, 1.2, 1.2)));
  EXPECT_FALSE(w.observe(at(4, 1.3, 1.1)));
  EXPECT_FALSE(w.signalled());
}

TEST(OverfitWatch, OffNeverSignals) {
  OverfitWatch w(0);
  for (int i = 0; i < 10; ++i)
    EXPECT_FALSE(w.observe(at(i, 1.0 + i, 1.0 - 0.05 * i)));
}

TEST(OverfitWatch, ResumesMidStreak) {
  OverfitWatch a(3), b(3);
  a.observe(at(1, 1.0, 1.0));
  a.observe(at(2, 1.1, 0.9));
  a.observe(at(3, 1.2, 0.8));
  b.fromJson(a.toJson());
  auto sa = a.observe(at(4, 1.3, 0.7));
  auto sb = b.observe(at(4, 1.3, 0.7));
  ASSERT_TRUE(sa && sb);
  EXPECT_EQ(sb->from.step, 1);
  EXPECT_EQ(sb->lowest.step, sa->lowest.step);
  EXPECT_EQ(a.toJson(), b.toJson());
}
