//===- Schedule.cpp - Learning-rate schedules
//-------------------------------===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/runtime/Trainer.h"

#include <algorithm>
#include <cmath>

double ftc::rt::scheduledLr(const ScheduleOptions &s, double baseLr,
                            int64_t step, int64_t totalSteps) {
  int64_t warmup = s.warmupSteps;
  if (warmup == 0 && s.warmupRatio > 0)
    warmup = int64_t(std::ceil(s.warmupRatio * double(totalSteps)));
  int64_t done = step - 1; // completed steps before this one
  if (done < warmup)
    return baseLr * double(done + 1) / double(warmup);
  if (s.type == "constant")
    return baseLr;
  double span = double(std::max<int64_t>(1, totalSteps - warmup));
  double progress = std::clamp(double(done - warmup) / span, 0.0, 1.0);
  double decay = s.type == "cosine" ? 0.5 * (1.0 + std::cos(M_PI * progress))
                                    : 1.0 - progress;
  return baseLr * (s.minLrRatio + (1.0 - s.minLrRatio) * decay);
}
