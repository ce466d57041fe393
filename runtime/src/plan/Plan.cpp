//===- Plan.cpp - Plan format: basic accessors, memory summary --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The plan's types (Plan.h) and what every user needs of them. Its other
// parts: the verifier (PlanVerify.cpp), the JSON form (PlanJson.cpp) and the
// readable listing (PlanDump.cpp).
//===----------------------------------------------------------------------===//

#include "PlanInternal.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <sstream>

namespace ftc::plan {
using namespace detail;

//===----------------------------------------------------------------------===//
// Basic helpers
//===----------------------------------------------------------------------===//

const char *toString(BufferKind kind) {
  switch (kind) {
  case BufferKind::Param:
    return "param";
  case BufferKind::OptState:
    return "opt_state";
  case BufferKind::Input:
    return "input";
  case BufferKind::GradAccum:
    return "grad_accum";
  case BufferKind::Temp:
    return "temp";
  }
  return "?";
}

bool isTrainerScalar(const std::string &inputName) {
  return inputName == "lr" || inputName == "step" ||
         inputName == "loss_weight" || inputName == "accum_keep";
}

bool isCachedValueInput(const std::string &inputName) {
  return inputName.rfind(programs::kCacheInput, 0) == 0 ||
         inputName.rfind(programs::kEvalCacheInput, 0) == 0;
}

const char *toString(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::I32:
    return "i32";
  case DType::BF16:
    return "bf16";
  }
  return "?";
}

size_t elementSize(DType dtype) {
  switch (dtype) {
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::BF16:
    return 2;
  }
  return 0;
}

int64_t Buffer::numElements() const {
  // Unsigned so that an unverified, hostile shape wraps instead of being UB;
  // verify() rejects such shapes before anything relies on the value.
  uint64_t n = 1;
  for (int64_t d : shape)
    n *= uint64_t(d);
  return int64_t(n);
}

int64_t Step::getInt(const std::string &name, int64_t dflt) const {
  auto it = attrs.find(name);
  if (it == attrs.end() || it->second.kind != Attr::Int)
    return dflt;
  return it->second.i;
}

double Step::getFloat(const std::string &name, double dflt) const {
  auto it = attrs.find(name);
  if (it == attrs.end())
    return dflt;
  if (it->second.kind == Attr::Float)
    return it->second.f;
  if (it->second.kind == Attr::Int)
    return double(it->second.i);
  return dflt;
}

std::vector<int64_t> Step::getInts(const std::string &name) const {
  auto it = attrs.find(name);
  if (it == attrs.end() || it->second.kind != Attr::Ints)
    return {};
  return it->second.ints;
}

int32_t Plan::findBuffer(const std::string &name) const {
  for (size_t i = 0; i < buffers.size(); ++i)
    if (buffers[i].name == name)
      return int32_t(i);
  return -1;
}

const Program *Plan::findProgram(const std::string &name) const {
  for (const Program &p : programs)
    if (p.name == name)
      return &p;
  return nullptr;
}

MemorySummary summarizeMemory(const Plan &plan) {
  MemorySummary m;
  for (const Buffer &b : plan.buffers) {
    if (b.kind == BufferKind::Param)
      m.paramBytes += b.bytes();
    else if (b.kind == BufferKind::OptState)
      m.optimizerStateBytes += b.bytes();
    else if (b.kind == BufferKind::Input)
      m.inputBytes += b.bytes();
    else if (b.kind == BufferKind::GradAccum)
      m.gradAccumBytes += b.bytes();
  }
  for (const ParamInfo &p : plan.params)
    if (p.trainable)
      m.trainableParamBytes += plan.buffers[p.buffer].bytes();
  int64_t maxArena = 0;
  for (const Program &prog : plan.programs) {
    m.arenaBytes[prog.name] = prog.arenaBytes;
    maxArena = std::max(maxArena, prog.arenaBytes);
    // The gradients an update or an accumulation reads; with accumulation
    // the updates read the (persistent) accumulators instead.
    for (const Step &s : prog.steps) {
      bool group = s.kernel == "sgd_group" || s.kernel == "adamw_group";
      if (!group && s.kernel != "sgd_update" && s.kernel != "adamw_update" &&
          s.kernel != "accumulate_grad")
        continue;
      size_t grads = group ? groupSize(s) : 1;
      for (size_t i = 0; i < grads && i < s.args.size(); ++i)
        if (plan.buffers[size_t(s.args[i])].kind == BufferKind::Temp)
          m.gradientBytes += plan.buffers[size_t(s.args[i])].bytes();
    }
  }
  m.totalBytes = m.paramBytes + m.optimizerStateBytes + m.inputBytes +
                 m.gradAccumBytes + maxArena;
  return m;
}

} // namespace ftc::plan
