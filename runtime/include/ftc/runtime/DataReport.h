//===- DataReport.h - What the data says before training --------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The data report of `ftc check` and report.html: per split the examples,
// the label distribution, the input lengths and truncation, unknown tokens
// and duplicates; across splits the majority-class baseline, train/eval
// overlap (leakage) and eval labels the train split lacks. Built from
// hashes and counts only (no model), so every check can afford it.
//===----------------------------------------------------------------------===//
#ifndef FTC_RUNTIME_DATAREPORT_H
#define FTC_RUNTIME_DATAREPORT_H

#include "ftc/runtime/Dataset.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ftc::rt {

struct DataReport {
  /// Duplicate groups: the records (lines) of each group's copies.
  struct Duplicates {
    int64_t groups = 0;
    int64_t extraCopies = 0;       // examples that repeat an earlier one
    int64_t conflictingLabels = 0; // groups whose copies disagree on the label
    std::vector<std::vector<int64_t>> firstGroups; // at most kShown
  };
  struct Split {
    std::string name; // "train", "eval"
    std::string source, recordUnit;
    int64_t examples = 0;
    std::vector<int64_t> labelCounts; // per class; empty without labels
    // Input lengths, where the plugin gives them.
    std::string lengthUnit;
    int64_t maxLength = 0;
    int64_t p50 = 0, p90 = 0, p95 = 0, p99 = 0, longest = 0;
    int64_t truncated = 0; // examples longer than maxLength
    int64_t tokens = 0, unknownTokens = 0;
    bool hasUnknown = false;
    Duplicates exact, normalized; // normalized: beyond the exact ones
    bool normalizes = false; // the facts have a normalised hash of their own
  };
  /// Eval examples whose input also occurs in train.
  struct Overlap {
    int64_t examples = 0;
    std::vector<std::pair<int64_t, int64_t>> first; // (eval, train) records
  };

  Split train;
  bool hasEval = false;
  Split eval;
  std::vector<std::string> classNames;
  int64_t majorityClass = -1;
  /// The accuracy of always predicting the train split's majority class, on
  /// the eval split (train where there is none).
  double majorityAccuracy = 0;
  Overlap leakage, normalizedLeakage; // normalized: beyond the exact ones
  /// Classes that occur in eval but not in train.
  std::vector<int64_t> unseenLabels;

  static constexpr size_t kShown = 5;
};

/// Builds the report; `eval` may be null. `classNames` names the classes
/// (the label counts cover max(class + 1, classNames.size()) classes).
DataReport buildDataReport(const SplitFacts &train, const SplitFacts *eval,
                           std::vector<std::string> classNames);

/// The report as text for people (ftc check, report.html).
std::string formatDataReport(const DataReport &report);

} // namespace ftc::rt

#endif // FTC_RUNTIME_DATAREPORT_H
