//===- DiagnosticsTest.cpp - Diagnostics and did-you-mean -------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

#include "ftc/Spec/Spec.h"

#include <gtest/gtest.h>

using namespace ftc::spec;

namespace {

Diagnostic makeDiag(const std::string &file, int line, int column,
                    const std::string &message,
                    std::vector<std::string> notes = {}) {
  Diagnostic d;
  d.loc.file = file;
  d.loc.line = line;
  d.loc.column = column;
  d.message = message;
  d.notes = std::move(notes);
  return d;
}

} // namespace

TEST(Diagnostic, PrintsLikeACompiler) {
  Diagnostic d = makeDiag("job.toml", 7, 1, "unknown key 'epocs' in [train]",
                          {"did you mean 'epochs'?"});
  EXPECT_EQ(d.str(), "job.toml:7:1: error: unknown key 'epocs' in [train]\n"
                     "job.toml:7:1: note: did you mean 'epochs'?");
}

TEST(Diagnostic, UnknownLineOmitsLineAndColumn) {
  Diagnostic d =
      makeDiag("missing.toml", 0, 0, "cannot open spec: No such file");
  EXPECT_EQ(d.str(), "missing.toml: error: cannot open spec: No such file");
}

TEST(Diagnostic, EveryNoteIsLocatedLikeTheError) {
  Diagnostic d = makeDiag("<--set>", 2, 14, "bad", {"one", "two"});
  EXPECT_EQ(d.str(), "<--set>:2:14: error: bad\n<--set>:2:14: note: one\n"
                     "<--set>:2:14: note: two");
}

TEST(DiagnosticEngine, CollectsAllAndEndsEachWithNewline) {
  DiagnosticEngine diags;
  EXPECT_FALSE(diags.hasErrors());
  EXPECT_EQ(diags.str(), "");
  diags.error({"a.toml", 1, 2}, "first");
  diags.error({"a.toml", 3, 4}, "second", {"hint"});
  ASSERT_TRUE(diags.hasErrors());
  ASSERT_EQ(diags.diagnostics().size(), 2u);
  EXPECT_EQ(diags.diagnostics()[1].notes.at(0), "hint");
  EXPECT_EQ(diags.str(), "a.toml:1:2: error: first\n"
                         "a.toml:3:4: error: second\n"
                         "a.toml:3:4: note: hint\n");
}

TEST(ClosestMatch, FindsTypos) {
  std::vector<std::string> keys = {"epochs", "batch_size", "device",
                                   "precision"};
  EXPECT_EQ(closestMatch("epocs", keys), "epochs");
  EXPECT_EQ(closestMatch("batchsize", keys), "batch_size");
  EXPECT_EQ(closestMatch("devic", keys), "device");
  EXPECT_EQ(closestMatch("precison", keys), "precision");
}

TEST(ClosestMatch, RejectsDistantWords) {
  std::vector<std::string> keys = {"epochs", "batch_size"};
  EXPECT_EQ(closestMatch("learning_rate", keys), std::nullopt);
  EXPECT_EQ(closestMatch("xyz", keys), std::nullopt);
  EXPECT_EQ(closestMatch("epochs", {}), std::nullopt);
}

TEST(ClosestMatch, ThresholdIsAThirdOfTheLengthButAtLeastOne) {
  // "lr" (len 2): one edit allowed.
  EXPECT_EQ(closestMatch("lx", {"lr"}), "lr");
  EXPECT_EQ(closestMatch("xy", {"lr"}), std::nullopt);
  // "abcdef" (len 6): two edits allowed, three are not.
  EXPECT_EQ(closestMatch("abcdef", {"abcdxy"}), "abcdxy");
  EXPECT_EQ(closestMatch("abcdef", {"abcxyz"}), std::nullopt);
}

TEST(ClosestMatch, PrefersTheNearestThenTheFirst) {
  EXPECT_EQ(closestMatch("adamx", {"adam_w", "adamw"}), "adamw");
  EXPECT_EQ(closestMatch("sgx", {"sga", "sgb"}), "sga");
  EXPECT_EQ(closestMatch("epochs", {"epochs", "epoch"}), "epochs");
}
