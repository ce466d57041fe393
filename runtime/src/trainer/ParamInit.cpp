//===- ParamInit.cpp - Deterministic parameter initialisation
//--------------===//
// SPDX-License-Identifier: Apache-2.0
//
// Each parameter draws from its own stream, seeded by the run seed and a hash
// of its name: values do not depend on declaration order or thread count.
//===----------------------------------------------------------------------===//
#include "ftc/runtime/Trainer.h"

#include <cmath>
#include <vector>

using namespace ftc;

namespace {

uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string &s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s)
    h = (h ^ c) * 0x100000001b3ull;
  return h;
}

/// Uniform in [0, 1) with 53 random bits.
double uniform01(uint64_t &state) {
  return double(splitmix64(state) >> 11) * 0x1.0p-53;
}

} // namespace

void rt::initializeParameters(const plan::Plan &plan, Backend &backend,
                              uint64_t seed) {
  for (const plan::ParamInfo &info : plan.params) {
    const plan::Buffer &buf = plan.buffers[info.buffer];
    std::vector<float> values(static_cast<size_t>(buf.numElements()));
    uint64_t state = seed ^ fnv1a(buf.name);
    switch (info.init) {
    case plan::InitKind::Zeros:
      break;
    case plan::InitKind::Ones:
      std::fill(values.begin(), values.end(), 1.0f);
      break;
    case plan::InitKind::Uniform:
      for (float &v : values)
        v = float(info.initA + (info.initB - info.initA) * uniform01(state));
      break;
    case plan::InitKind::Normal:
      // Box-Muller; 1 - u keeps the log argument in (0, 1].
      for (float &v : values) {
        double u1 = 1.0 - uniform01(state), u2 = uniform01(state);
        double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
        v = float(info.initA + info.initB * z);
      }
      break;
    }
    backend.write(info.buffer, values.data());
  }
}
