//===- MemoryReport.cpp - The memory plan as ftc plan prints it -----------===//
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//
#include "MemoryReport.h"
#include "CompileJob.h"

#include "ftc/runtime/AtomicFile.h"
#include "ftc/runtime/Checkpoint.h"
#include "ftc/runtime/Trainer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

using namespace ftc;
using namespace ftc::tool;
namespace fs = std::filesystem;

/// A byte count for people: B, KiB, MiB or GiB.
std::string tool::mib(int64_t bytes) {
  char buf[32];
  if (bytes < 1024)
    std::snprintf(buf, sizeof buf, "%lld B", (long long)bytes);
  else if (bytes < (1 << 20))
    std::snprintf(buf, sizeof buf, "%.2f KiB", double(bytes) / 1024);
  else if (bytes < (int64_t(1) << 30))
    std::snprintf(buf, sizeof buf, "%.2f MiB", double(bytes) / (1 << 20));
  else
    std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / (1 << 30));
  return buf;
}

/// The memory plan, as `ftc plan` prints it.
std::string tool::memoryReport(const plan::Plan &p, int64_t trainExamples,
                               int64_t evalExamples) {
  plan::MemorySummary m = plan::summarizeMemory(p);
  std::ostringstream os;
  auto row = [&](const std::string &what, int64_t bytes,
                 const std::string &note = "") {
    char line[256];
    std::snprintf(line, sizeof line, "  %-22s %14lld bytes  %12s%s\n",
                  what.c_str(), (long long)bytes, mib(bytes).c_str(),
                  note.c_str());
    os << line;
  };
  os << "memory plan (batch " << p.batchSize;
  if (p.gradAccum > 1)
    os << " x " << p.gradAccum << " accumulated";
  os << ", optimizer " << (p.optimizer.empty() ? "none" : p.optimizer) << ")\n";
  row("parameters", m.paramBytes,
      "  (" + mib(m.trainableParamBytes) + " trainable)");
  row("optimizer state", m.optimizerStateBytes);
  row("inputs", m.inputBytes);
  row("gradients", m.gradientBytes, "  (inside the train_step arena)");
  if (m.gradAccumBytes)
    row("gradient accumulators", m.gradAccumBytes);
  for (auto &[name, bytes] : m.arenaBytes)
    row(name + " arena", bytes, "  (activations, gradients, temporaries)");
  row("total", m.totalBytes, "  (persistent + the largest arena)");
  // The frozen-prefix caches fill as examples are seen, within their own
  // budgets (train.cache_memory, then train.cache_disk).
  for (auto [program, split, examples] :
       {std::tuple{plan::programs::kPrefix, "train", trainExamples},
        std::tuple{plan::programs::kEvalPrefix, "eval", evalExamples}}) {
    const plan::Program *prog = p.findProgram(program);
    if (!prog || examples <= 0)
      continue;
    int64_t perExample = 0;
    for (auto &[name, id] : prog->outputs)
      perExample += p.buffers[size_t(id)].bytes() / p.batchSize;
    row(std::string("prefix cache (") + split + ")", perExample * examples,
        "  (" + std::to_string(examples) + " examples x " +
            std::to_string(perExample) +
            " bytes; not in the total: train.cache_memory, then "
            "train.cache_disk)");
  }
  // Mixed precision: which buffers are bf16. Only the products' operand
  // copies are; everything persistent stays f32.
  int64_t bf16Buffers = 0, bf16Bytes = 0;
  for (const plan::Buffer &b : p.buffers)
    if (b.dtype == plan::DType::BF16 &&
        p.programs[size_t(b.program)].name.rfind(plan::programs::kTrain, 0) ==
            0) {
      ++bf16Buffers;
      bf16Bytes += b.bytes();
    }
  if (bf16Buffers == 0)
    os << "precision: fp32 (every buffer)\n";
  else
    os << "precision: bf16 products with f32 accumulation; parameters "
          "(master weights), gradients, optimizer state and every other "
          "activation f32; "
       << bf16Buffers << " bf16 operand copies in the train_step arena ("
       << mib(bf16Bytes) << " if none overlapped)\n";
  return os.str();
}

/// Examples of an open split (0 for none).
int64_t tool::examples(const rt::DatasetSplit *split) {
  return split && split->isOpen() ? split->size() : 0;
}

int64_t tool::examples(const rt::DatasetSplit &split) {
  return examples(&split);
}
