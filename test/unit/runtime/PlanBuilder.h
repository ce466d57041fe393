//===- PlanBuilder.h - Builds small plans by hand for tests -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_TEST_UNIT_RUNTIME_PLANBUILDER_H
#define FTC_TEST_UNIT_RUNTIME_PLANBUILDER_H

#include "ftc/plan/Plan.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace ftc::test {

/// A plan with one program ("p" unless named) whose temps are packed at
/// 64-byte-aligned offsets of its arena.
class PlanBuilder {
public:
  explicit PlanBuilder(const std::string &program = "p") {
    plan.compilerVersion = "test";
    plan.batchSize = 1;
    plan.programs.push_back({});
    plan.programs[0].name = program;
  }

  int32_t add(const std::string &name, plan::BufferKind kind,
              std::vector<int64_t> shape,
              plan::DType dtype = plan::DType::F32) {
    plan::Buffer b;
    b.name = name;
    b.kind = kind;
    b.dtype = dtype;
    b.shape = std::move(shape);
    if (kind == plan::BufferKind::Temp) {
      b.program = 0;
      b.offset = plan.programs[0].arenaBytes;
      plan.programs[0].arenaBytes += (b.bytes() + 63) / 64 * 64;
    }
    plan.buffers.push_back(b);
    return int32_t(plan.buffers.size() - 1);
  }
  int32_t input(const std::string &name, std::vector<int64_t> shape,
                plan::DType dtype = plan::DType::F32) {
    return add(name, plan::BufferKind::Input, std::move(shape), dtype);
  }
  int32_t param(const std::string &name, std::vector<int64_t> shape) {
    int32_t id = add(name, plan::BufferKind::Param, std::move(shape));
    plan::ParamInfo info;
    info.buffer = id;
    plan.params.push_back(info);
    return id;
  }
  int32_t state(const std::string &name, std::vector<int64_t> shape) {
    return add(name, plan::BufferKind::OptState, std::move(shape));
  }
  int32_t temp(const std::string &name, std::vector<int64_t> shape,
               plan::DType dtype = plan::DType::F32) {
    return add(name, plan::BufferKind::Temp, std::move(shape), dtype);
  }

  plan::Step &step(const std::string &kernel, std::vector<int32_t> ins,
                   std::vector<int32_t> outs) {
    plan::Step s;
    s.kernel = kernel;
    s.numInputs = int32_t(ins.size());
    s.args = ins;
    s.args.insert(s.args.end(), outs.begin(), outs.end());
    plan.programs[0].steps.push_back(s);
    return plan.programs[0].steps.back();
  }

  plan::Plan plan;
};

inline plan::Attr floatAttr(double v) {
  plan::Attr a;
  a.kind = plan::Attr::Float;
  a.f = v;
  return a;
}
inline plan::Attr stringAttr(std::string v) {
  plan::Attr a;
  a.kind = plan::Attr::String;
  a.s = std::move(v);
  return a;
}

inline plan::Attr intAttr(int64_t v) {
  plan::Attr a;
  a.kind = plan::Attr::Int;
  a.i = v;
  return a;
}
inline plan::Attr intsAttr(std::vector<int64_t> v) {
  plan::Attr a;
  a.kind = plan::Attr::Ints;
  a.ints = std::move(v);
  return a;
}

inline std::vector<float> randomVector(size_t n, uint32_t seed, float lo = -2.f,
                                       float hi = 2.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

/// |a - b| within `rel` of max(1, |b|).
inline bool closeTo(double a, double b, double rel = 1e-5) {
  return std::fabs(a - b) <= rel * std::max(1.0, std::fabs(b));
}

} // namespace ftc::test

#endif // FTC_TEST_UNIT_RUNTIME_PLANBUILDER_H
