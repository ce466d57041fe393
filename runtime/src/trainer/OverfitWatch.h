//===- OverfitWatch.h - Notices overfitting as it happens -------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Fed one (eval loss, train loss) pair per evaluation, it signals once when
// eval loss has risen for N evaluations in a row while training loss fell:
// the model is learning its training examples rather than the task. Pure
// state, no backend, saved in trainer_state.json for exact resume.
//===----------------------------------------------------------------------===//
#ifndef FTC_RUNTIME_TRAINER_OVERFITWATCH_H
#define FTC_RUNTIME_TRAINER_OVERFITWATCH_H

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>

namespace ftc::rt {

class OverfitWatch {
public:
  struct Point {
    int64_t step = -1;
    double evalLoss = 0, trainLoss = 0;
  };
  struct Signal {
    int64_t evals;  // rising evaluations in a row
    Point from, to; // the evaluation before the streak, and the last
    Point lowest;   // the lowest eval loss so far
  };

  /// `evals` = 0 turns the watch off.
  explicit OverfitWatch(int64_t evals = 0) : evals_(evals) {}

  /// Records one evaluation; returns the signal the first time (only) the
  /// streak reaches `evals`.
  std::optional<Signal> observe(const Point &p);
  bool signalled() const { return signalled_; }

  nlohmann::json toJson() const;
  /// Restores what toJson wrote; throws nlohmann::json::exception.
  void fromJson(const nlohmann::json &j);

private:
  int64_t evals_;
  int64_t streak_ = 0;
  bool signalled_ = false;
  Point prev_, streakStart_, lowest_;
};

} // namespace ftc::rt

#endif // FTC_RUNTIME_TRAINER_OVERFITWATCH_H
