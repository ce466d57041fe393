//===- PlanDump.cpp - Plan format: the readable listing ---------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// dump(): what `ftc compile --emit=plan` and ftc-export-plan print.
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
// Human-readable listing
//===----------------------------------------------------------------------===//

namespace {

std::string attrStr(const Attr &a) {
  switch (a.kind) {
  case Attr::Int:
    return std::to_string(a.i);
  case Attr::Float:
    return fmtDouble(a.f);
  case Attr::Ints: {
    std::string s = "[";
    for (size_t i = 0; i < a.ints.size(); ++i)
      s += (i ? ", " : "") + std::to_string(a.ints[i]);
    return s + "]";
  }
  case Attr::String:
    return quoted(a.s);
  }
  return "?";
}

std::string argStr(const Plan &plan, int32_t id) {
  std::string s = "%" + std::to_string(id);
  if (id >= 0 && size_t(id) < plan.buffers.size() &&
      !plan.buffers[id].name.empty())
    s += " " + quoted(plan.buffers[id].name);
  return s;
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width)
    s.append(width - s.size(), ' ');
  return s;
}

} // namespace

std::string dump(const Plan &plan) {
  std::ostringstream os;
  os << "ftc plan v" << plan.version << "  compiler "
     << quoted(plan.compilerVersion) << "  batch " << plan.batchSize
     << "  optimizer " << quoted(plan.optimizer) << "\n";

  os << "buffers (" << plan.buffers.size() << "):\n";
  os << "  " << pad("id", 6) << pad("kind", 10) << pad("dtype", 6)
     << pad("shape", 18) << pad("bytes", 12) << pad("arena", 22) << "name\n";
  for (size_t i = 0; i < plan.buffers.size(); ++i) {
    const Buffer &b = plan.buffers[i];
    std::string arena = "-";
    if (b.kind == BufferKind::Temp) {
      std::string prog =
          b.program >= 0 && size_t(b.program) < plan.programs.size()
              ? plan.programs[b.program].name
              : "program " + std::to_string(b.program);
      arena = prog + " @" + std::to_string(b.offset);
    }
    os << "  " << pad("%" + std::to_string(i), 6) << pad(toString(b.kind), 10)
       << pad(toString(b.dtype), 6) << pad(shapeStr(b.shape), 18)
       << pad(std::to_string(b.bytes()), 12) << pad(arena, 22) << quoted(b.name)
       << (b.layout == Layout::Plain ? ""
                                     : std::string("  ") + toString(b.layout))
       << "\n";
  }

  os << "params (" << plan.params.size() << "):\n";
  for (const ParamInfo &p : plan.params) {
    os << "  " << argStr(plan, p.buffer) << "  "
       << (p.runningStat ? "running-stat"
           : p.trainable ? "trainable"
                         : "frozen")
       << (p.head ? " head" : "") << "  init " << toString(p.init);
    if (p.init == InitKind::Normal || p.init == InitKind::Uniform)
      os << "(" << fmtDouble(p.initA) << ", " << fmtDouble(p.initB) << ")";
    os << "\n";
  }

  if (!plan.featureInputs.empty()) {
    os << "features:\n";
    for (auto &[name, id] : plan.featureInputs)
      os << "  " << quoted(name) << " -> " << argStr(plan, id) << "\n";
  }

  for (const Program &p : plan.programs) {
    os << "program " << p.name << " (" << p.steps.size() << " steps, arena "
       << p.arenaBytes << " bytes):\n";
    for (size_t s = 0; s < p.steps.size(); ++s) {
      const Step &st = p.steps[s];
      os << "  " << s << ": " << st.kernel << "(";
      for (size_t a = 0; a < st.args.size(); ++a) {
        if (int32_t(a) == st.numInputs)
          os << ") -> (";
        else if (a)
          os << ", ";
        os << argStr(plan, st.args[a]);
      }
      if (st.numInputs >= int32_t(st.args.size()))
        os << ") -> (";
      os << ")";
      if (!st.attrs.empty()) {
        os << " {";
        bool first = true;
        for (auto &[k, a] : st.attrs) {
          os << (first ? "" : ", ") << k << " = " << attrStr(a);
          first = false;
        }
        os << "}";
      }
      os << "\n";
    }
    if (!p.outputs.empty()) {
      os << "  outputs:";
      for (auto &[k, id] : p.outputs)
        os << " " << k << " = " << argStr(plan, id) << ";";
      os << "\n";
    }
  }
  return os.str();
}

} // namespace ftc::plan
