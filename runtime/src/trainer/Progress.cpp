//===- Progress.cpp - Training progress on the terminal ------------------===//
// SPDX-License-Identifier: Apache-2.0
#include "Progress.h"

#include <cstdio>

using namespace ftc::rt;
using Clock = std::chrono::steady_clock;

namespace {
std::string duration(double seconds) {
  int64_t s = int64_t(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(s / 3600),
                  (long long)(s / 60 % 60), (long long)(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", (long long)(s / 60),
                  (long long)(s % 60));
  return buf;
}
} // namespace

Progress::Progress(bool bar, int64_t totalSteps, int64_t startStep)
    : bar_(bar), total_(totalSteps), startStep_(startStep),
      start_(Clock::now()), lastDraw_(Clock::time_point()) {}

void Progress::update(int64_t epoch, int64_t step, float loss, float lr) {
  smoothLoss_ = smoothLoss_ < 0 ? loss : 0.9 * smoothLoss_ + 0.1 * loss;
  if (!bar_)
    return;
  auto now = Clock::now();
  if (step != total_ && now - lastDraw_ < std::chrono::milliseconds(100))
    return;
  lastDraw_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double frac = double(step) / double(total_);
  int64_t done = step - startStep_;
  double eta = done > 0 ? elapsed / double(done) * double(total_ - step) : 0;
  constexpr int width = 30;
  int filled = int(frac * width);
  std::string barText(size_t(filled), '#');
  barText.append(size_t(width - filled), '.');
  std::fprintf(stderr,
               "\r\033[Kepoch %lld [%s] %lld/%lld loss %.4f lr %.2e %s<%s",
               (long long)epoch, barText.c_str(), (long long)step,
               (long long)total_, smoothLoss_, double(lr),
               duration(elapsed).c_str(), duration(eta).c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::log(int64_t epoch, int64_t step, double loss, double lr,
                   double rate) {
  if (bar_)
    return;
  std::fprintf(
      stderr, "epoch %lld step %lld/%lld loss %.4f lr %.3e %.0f examples/s\n",
      (long long)epoch, (long long)step, (long long)total_, loss, lr, rate);
}

void Progress::note(const std::string &what, int64_t epoch, int64_t step,
                    const std::map<std::string, double> &metrics) {
  if (drawn_)
    std::fprintf(stderr, "\n");
  drawn_ = false;
  std::fprintf(stderr, "%s epoch %lld step %lld:", what.c_str(),
               (long long)epoch, (long long)step);
  for (auto &[k, v] : metrics)
    std::fprintf(stderr, " %s %.4f", k.c_str(), v);
  std::fprintf(stderr, "\n");
}

void Progress::finish() {
  if (drawn_)
    std::fprintf(stderr, "\n");
  drawn_ = false;
}
