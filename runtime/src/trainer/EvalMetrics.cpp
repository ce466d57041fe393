//===- EvalMetrics.cpp - Evaluation metrics, one row at a time ------------===//
// SPDX-License-Identifier: Apache-2.0
#include "EvalMetrics.h"

#include <algorithm>
#include <cmath>

using namespace ftc::rt;

EvalMetrics::EvalMetrics(int64_t classes, int64_t maxConfusionClasses)
    : classes_(classes), truePos_(size_t(classes), 0),
      predicted_(size_t(classes), 0), actual_(size_t(classes), 0),
      confusion_(classes <= maxConfusionClasses ? size_t(classes * classes) : 0,
                 0) {}

void EvalMetrics::add(const float *row, int32_t label) {
  int64_t best = std::max_element(row, row + classes_) - row;
  // A stable log-sum-exp in double.
  double mx = row[best], sum = 0;
  for (int64_t c = 0; c < classes_; ++c)
    sum += std::exp(double(row[c]) - mx);
  lossSum_ += mx + std::log(sum) - double(row[label]);
  correct_ += best == label;
  ++count_;
  truePos_[size_t(label)] += best == label;
  ++predicted_[size_t(best)];
  ++actual_[size_t(label)];
  if (!confusion_.empty())
    ++confusion_[size_t(label * classes_ + best)];
}

double EvalMetrics::loss() const {
  return count_ ? lossSum_ / double(count_) : 0.0;
}

std::map<std::string, double>
EvalMetrics::finish(const std::vector<std::string> &names) const {
  auto ratio = [](int64_t a, int64_t b) {
    return b ? double(a) / double(b) : 0.0;
  };
  auto f1Of = [](double p, double r) {
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
  };
  double precision = 0, recall = 0, f1 = 0;
  if (classes_ == 2) {
    precision = ratio(truePos_[1], predicted_[1]);
    recall = ratio(truePos_[1], actual_[1]);
    f1 = f1Of(precision, recall);
  } else {
    int64_t present = 0;
    for (size_t c = 0; c < size_t(classes_); ++c) {
      if (!predicted_[c] && !actual_[c])
        continue;
      double p = ratio(truePos_[c], predicted_[c]),
             r = ratio(truePos_[c], actual_[c]);
      precision += p;
      recall += r;
      f1 += f1Of(p, r);
      ++present;
    }
    if (present) {
      precision /= double(present);
      recall /= double(present);
      f1 /= double(present);
    }
  }
  std::map<std::string, double> metrics;
  for (const std::string &m : names) {
    if (m == "loss")
      metrics["loss"] = loss();
    else if (m == "accuracy")
      metrics["accuracy"] = ratio(correct_, count_);
    else if (m == "perplexity")
      metrics["perplexity"] = std::exp(loss());
    else if (m == "precision")
      metrics["precision"] = precision;
    else if (m == "recall")
      metrics["recall"] = recall;
    else if (m == "f1")
      metrics["f1"] = f1;
  }
  return metrics;
}
