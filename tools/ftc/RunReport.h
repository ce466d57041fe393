//===- RunReport.h - report.html at the end of a run ------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_TOOLS_FTC_RUNREPORT_H
#define FTC_TOOLS_FTC_RUNREPORT_H

#include "ftc/plan/Plan.h"

#include <string>
#include <vector>

namespace ftc::tool {

/// Writes `<outDir>/report.html` (atomically): loss and metric curves as
/// inline SVG from metrics.jsonl, throughput, the trainable-set summary and
/// the memory plan from `plan`, the data report, and the resolved spec.
/// Self-contained: no scripts, no external files, so it opens anywhere.
/// `classNames` label the confusion matrix (class ids where empty).
void writeRunReport(const std::string &outDir, const plan::Plan &plan,
                    const std::string &memoryPlanText,
                    const std::string &dataReportText,
                    const std::vector<std::string> &classNames = {});

} // namespace ftc::tool

#endif // FTC_TOOLS_FTC_RUNREPORT_H
