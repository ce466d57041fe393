//===- MemoryReport.h - The memory plan as ftc plan prints it ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_TOOLS_FTC_MEMORYREPORT_H
#define FTC_TOOLS_FTC_MEMORYREPORT_H

#include "ftc/plan/Plan.h"
#include "ftc/runtime/Dataset.h"

#include <cstdint>
#include <string>

namespace ftc::tool {

/// A byte count for people: B, KiB, MiB or GiB.
std::string mib(int64_t bytes);
/// The memory plan, as `ftc plan` prints it (with the frozen-prefix caches
/// for the given split sizes).
std::string memoryReport(const plan::Plan &p, int64_t trainExamples = 0,
                         int64_t evalExamples = 0);
/// Examples of an open split (0 for none).
int64_t examples(const rt::DatasetSplit *split);
int64_t examples(const rt::DatasetSplit &split);

} // namespace ftc::tool

#endif // FTC_TOOLS_FTC_MEMORYREPORT_H
