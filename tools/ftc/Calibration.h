//===- Calibration.h - This machine's measured kernel rates -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_TOOLS_FTC_CALIBRATION_H
#define FTC_TOOLS_FTC_CALIBRATION_H

#include "ftc/plan/Cost.h"

#include <string>

namespace ftc::tool {

/// The CPU backend's matmul and memory rates at `threads` (0 = all cores)
/// on this machine: measured once (about a second) and cached in
/// $XDG_CACHE_HOME/ftc/calibration.json (~/.cache without it; the file
/// $FTC_CALIBRATION_FILE where set), keyed by CPU model, thread count and
/// ftc version. `note` says which, for the report.
plan::MachineRates machineRates(int threads, std::string &note);

} // namespace ftc::tool

#endif // FTC_TOOLS_FTC_CALIBRATION_H
