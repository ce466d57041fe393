//===- OutputLock.h - One ftc run per output directory ----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_TOOLS_FTC_OUTPUTLOCK_H
#define FTC_TOOLS_FTC_OUTPUTLOCK_H

#include <string>

namespace ftc::tool {

/// An exclusive flock(2) on `<dir>/.ftc.lock`, holding the owner's pid.
/// The kernel releases it when the process ends in any way (kill -9
/// included), so a stale lock cannot outlive its run.
class OutputLock {
public:
  /// Creates `dir` if needed and locks it; on failure returns false and
  /// sets `error` (naming the holder's pid when another run holds it).
  bool acquire(const std::string &dir, std::string &error);
  ~OutputLock();

private:
  int fd_ = -1;
};

} // namespace ftc::tool

#endif // FTC_TOOLS_FTC_OUTPUTLOCK_H
