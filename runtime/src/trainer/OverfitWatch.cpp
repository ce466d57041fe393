//===- OverfitWatch.cpp - Notices overfitting as it happens ---------------===//
// SPDX-License-Identifier: Apache-2.0
#include "OverfitWatch.h"

using namespace ftc::rt;

std::optional<OverfitWatch::Signal> OverfitWatch::observe(const Point &p) {
  bool rising = prev_.step >= 0 && p.evalLoss > prev_.evalLoss &&
                p.trainLoss < prev_.trainLoss;
  if (rising && streak_ == 0)
    streakStart_ = prev_;
  streak_ = rising ? streak_ + 1 : 0;
  prev_ = p;
  if (lowest_.step < 0 || p.evalLoss < lowest_.evalLoss)
    lowest_ = p;
  if (evals_ <= 0 || signalled_ || streak_ < evals_)
    return std::nullopt;
  signalled_ = true;
  return Signal{streak_, streakStart_, p, lowest_};
}

namespace {
nlohmann::json pointJson(const OverfitWatch::Point &p) {
  return {
      {"step", p.step}, {"eval_loss", p.evalLoss}, {"train_loss", p.trainLoss}};
}
OverfitWatch::Point pointOf(const nlohmann::json &j) {
  return {j.at("step").get<int64_t>(), j.at("eval_loss").get<double>(),
          j.at("train_loss").get<double>()};
}
} // namespace

nlohmann::json OverfitWatch::toJson() const {
  return {{"streak", streak_},
          {"signalled", signalled_},
          {"previous", pointJson(prev_)},
          {"streak_start", pointJson(streakStart_)},
          {"lowest", pointJson(lowest_)}};
}

void OverfitWatch::fromJson(const nlohmann::json &j) {
  streak_ = j.at("streak").get<int64_t>();
  signalled_ = j.at("signalled").get<bool>();
  prev_ = pointOf(j.at("previous"));
  streakStart_ = pointOf(j.at("streak_start"));
  lowest_ = pointOf(j.at("lowest"));
}
