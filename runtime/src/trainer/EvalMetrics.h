//===- EvalMetrics.h - Evaluation metrics, one row at a time ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The streaming accumulator behind Trainer::evaluate: each counted row's
// logits and label go in, the metrics come out. Pure arithmetic, no backend,
// so the metric definitions are tested on their own (EvalMetricsTest).
//===----------------------------------------------------------------------===//
#ifndef FTC_RUNTIME_TRAINER_EVALMETRICS_H
#define FTC_RUNTIME_TRAINER_EVALMETRICS_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ftc::rt {

class EvalMetrics {
public:
  /// The confusion matrix is kept only up to `maxConfusionClasses` classes
  /// (a masked-LM head has a vocabulary's worth).
  EvalMetrics(int64_t classes, int64_t maxConfusionClasses);

  /// One counted row: its logits (`classes` of them) and its true class in
  /// [0, classes) (the caller checks the range and skips ignored rows).
  void add(const float *logits, int32_t label);

  int64_t count() const { return count_; }
  /// Mean cross-entropy over the rows (0 without rows).
  double loss() const;
  /// The metrics asked for: loss, accuracy, perplexity, precision, recall
  /// and f1 (binary: of class 1; else the unweighted mean over the classes
  /// that occur as a label or a prediction; a zero denominator counts 0, as
  /// scikit-learn's zero_division=0). Unknown names are left out.
  std::map<std::string, double>
  finish(const std::vector<std::string> &names) const;
  /// Row-major [true][predicted]; empty above maxConfusionClasses.
  const std::vector<int64_t> &confusion() const { return confusion_; }

private:
  int64_t classes_;
  double lossSum_ = 0;
  int64_t correct_ = 0, count_ = 0;
  std::vector<int64_t> truePos_, predicted_, actual_, confusion_;
};

} // namespace ftc::rt

#endif // FTC_RUNTIME_TRAINER_EVALMETRICS_H
