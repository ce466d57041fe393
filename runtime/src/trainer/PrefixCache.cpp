//===- PrefixCache.cpp - Frozen-prefix outputs stored per example ---------===//
// SPDX-License-Identifier: Apache-2.0
#include "PrefixCache.h"

#include "ftc/runtime/Error.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

namespace fs = std::filesystem;

namespace ftc::rt {
namespace {

std::string mib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", double(bytes) / (1 << 20));
  return text;
}

} // namespace

bool PrefixCache::planHas(const plan::Plan &plan, const Programs &programs) {
  return plan.findProgram(programs.prefix) && plan.findProgram(programs.cached);
}

PrefixCache::~PrefixCache() {
  if (fd_ >= 0) {
    ::close(fd_);
    std::error_code ec;
    fs::remove(path_, ec);
  }
}

bool PrefixCache::bind(const plan::Plan &plan, const Programs &programs,
                       int64_t numExamples, const Budget &budget,
                       std::string &note) {
  programs_ = programs;
  const plan::Program *prefix = plan.findProgram(programs.prefix);
  if (!prefix || !plan.findProgram(programs.cached))
    throw Error(std::string("the plan has no ") + programs.prefix + " and " +
                programs.cached + " to cache");
  slots_.clear();
  recordBytes_ = 0;
  for (auto &[name, output] : prefix->outputs) {
    Slot slot;
    slot.output = output;
    for (size_t id = 0; id < plan.buffers.size(); ++id)
      if (plan.buffers[id].kind == plan::BufferKind::Input &&
          plan.buffers[id].name == name)
        slot.input = int32_t(id);
    if (slot.input < 0)
      throw Error(std::string("the plan's ") + programs.prefix + " outputs '" +
                  name + "', which no input receives");
    int64_t bytes = plan.buffers[size_t(output)].bytes();
    if (bytes != plan.buffers[size_t(slot.input)].bytes() ||
        bytes % plan.batchSize != 0)
      throw Error("the plan's cached value '" + name +
                  "' has mismatched sizes");
    slot.bytes = bytes / plan.batchSize;
    slot.offset = recordBytes_;
    recordBytes_ += slot.bytes;
    slots_.push_back(slot);
  }
  numExamples_ = numExamples;
  int64_t total = recordBytes_ * numExamples;
  std::string size =
      mib(total) + " (" + std::to_string(recordBytes_) + " bytes per example)";
  std::string what =
      std::string("the frozen prefix's outputs for ") + programs.split;
  present_.assign(size_t(numExamples), 0);
  cachedCount_ = 0;
  if (total <= budget.memoryBytes) {
    // Uninitialised: pages are committed as examples are stored.
    memory_.reset(new char[size_t(total)]);
    note = "caches " + what + " in memory: " + size;
    return true;
  }
  if (total <= budget.diskBytes) {
    path_ = (fs::path(budget.dir) / programs.file).string();
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0 || ::ftruncate(fd_, off_t(total)) != 0) {
      note = "does not cache " + what + ": cannot create " + path_ + ": " +
             std::strerror(errno);
      return false;
    }
    note = "caches " + what + " on disk in " + path_ + ": " + size +
           ", more than train.cache_memory (" + mib(budget.memoryBytes) + ")";
    return true;
  }
  note = "does not cache " + what + ": it needs " + size +
         ", more than train.cache_memory (" + mib(budget.memoryBytes) +
         ") and train.cache_disk (" + mib(budget.diskBytes) + ")";
  return false;
}

void PrefixCache::store(int64_t example, const Slot &slot, const char *src) {
  int64_t at = example * recordBytes_ + slot.offset;
  if (memory_) {
    std::memcpy(memory_.get() + at, src, size_t(slot.bytes));
    return;
  }
  if (::pwrite(fd_, src, size_t(slot.bytes), off_t(at)) != slot.bytes)
    throw Error("cannot write the frozen-prefix cache " + path_ + ": " +
                std::strerror(errno));
}

void PrefixCache::load(int64_t example, const Slot &slot, char *dst) const {
  int64_t at = example * recordBytes_ + slot.offset;
  if (memory_) {
    std::memcpy(dst, memory_.get() + at, size_t(slot.bytes));
    return;
  }
  if (::pread(fd_, dst, size_t(slot.bytes), off_t(at)) != slot.bytes)
    throw Error("cannot read the frozen-prefix cache " + path_ + ": " +
                std::strerror(errno));
}

void PrefixCache::run(Backend &backend, const std::vector<int64_t> &indices) {
  for (int64_t i : indices)
    if (i < 0 || i >= numExamples_)
      throw Error("example " + std::to_string(i) +
                  " is outside the frozen-prefix cache");
  bool stored = std::all_of(indices.begin(), indices.end(),
                            [&](int64_t i) { return present_[size_t(i)]; });
  staging_.resize(slots_.size());
  if (!stored)
    backend.run(programs_.prefix);
  ++(stored ? cacheReads_ : prefixRuns_);
  for (size_t s = 0; s < slots_.size(); ++s) {
    const Slot &slot = slots_[s];
    char *batch = static_cast<char *>(backend.hostPointer(slot.input));
    if (!batch) {
      staging_[s].resize(size_t(slot.bytes) * indices.size());
      batch = staging_[s].data();
    }
    if (stored) {
      for (size_t i = 0; i < indices.size(); ++i)
        load(indices[i], slot, batch + int64_t(i) * slot.bytes);
    } else {
      backend.read(slot.output, batch);
      for (size_t i = 0; i < indices.size(); ++i)
        store(indices[i], slot, batch + int64_t(i) * slot.bytes);
    }
    if (batch != static_cast<char *>(backend.hostPointer(slot.input)))
      backend.write(slot.input, batch);
  }
  if (!stored)
    for (int64_t i : indices)
      if (!present_[size_t(i)]) {
        present_[size_t(i)] = 1;
        ++cachedCount_;
      }
  backend.run(programs_.cached);
}

} // namespace ftc::rt
