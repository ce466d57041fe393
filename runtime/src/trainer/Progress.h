//===- Progress.h - Training progress on the terminal -----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_RUNTIME_TRAINER_PROGRESS_H
#define FTC_RUNTIME_TRAINER_PROGRESS_H

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace ftc::rt {

/// On a TTY: one bar redrawn in place on stderr. Otherwise: a plain line
/// per log interval, so logs and CI output stay readable.
class Progress {
public:
  /// `startStep`: the step a resumed run starts after (for the ETA).
  Progress(bool bar, int64_t totalSteps, int64_t startStep = 0);
  void update(int64_t epoch, int64_t step, float loss, float lr);
  void log(int64_t epoch, int64_t step, double loss, double lr, double rate);
  void note(const std::string &what, int64_t epoch, int64_t step,
            const std::map<std::string, double> &metrics);
  void finish();

private:
  bool bar_;
  int64_t total_, startStep_;
  double smoothLoss_ = -1;
  std::chrono::steady_clock::time_point start_, lastDraw_;
  bool drawn_ = false;
};

} // namespace ftc::rt

#endif // FTC_RUNTIME_TRAINER_PROGRESS_H
