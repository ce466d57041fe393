//===- fusion_bench.cpp - Each ftc-fuse pattern against its unfused form -===//
// SPDX-License-Identifier: Apache-2.0
//
// Usage: ftc-fusion-bench THREADS [REPEATS]
//
// Runs the CPU backend's kernels for each fusion on bert-mini's shapes
// (batch 32 x 128 tokens, hidden 256, FFN 1024, its 41 trainable tensors),
// fused and unfused alternately on the same inputs, and prints the median
// time of each. A benchmark, not a test: test/e2e/fuse.test and the unit
// tests check that the two forms compute the same thing.
//===----------------------------------------------------------------------===//

#include "../test/unit/runtime/PlanBuilder.h"

#include "ftc/runtime/Backend.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using namespace ftc;
using test::PlanBuilder;

namespace {

constexpr int64_t kRows = 32 * 128, kHidden = 256, kInter = 1024;

/// A loaded plan whose persistent inputs hold random values.
struct Loaded {
  PlanBuilder pb;
  std::unique_ptr<rt::Backend> be;
  void load(int threads) {
    std::string problem = plan::verify(pb.plan);
    if (!problem.empty()) {
      std::fprintf(stderr, "fusion-bench: invalid plan: %s\n", problem.c_str());
      std::exit(1);
    }
    be = rt::createCpuBackend(threads);
    be->load(pb.plan);
    for (size_t i = 0; i < pb.plan.buffers.size(); ++i) {
      const plan::Buffer &b = pb.plan.buffers[i];
      if (b.kind == plan::BufferKind::Temp)
        continue;
      std::vector<float> v = test::randomVector(b.numElements(), int(i));
      be->write(int32_t(i), v.data());
    }
    float one = 1.f, lr = 1e-4f;
    for (const char *name : {"step", "clip"})
      if (int32_t id = pb.plan.findBuffer(name); id >= 0)
        be->write(id, &one);
    if (int32_t id = pb.plan.findBuffer("lr"); id >= 0)
      be->write(id, &lr);
  }
  double seconds() {
    auto t0 = std::chrono::steady_clock::now();
    be->run("p");
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
        .count();
  }
};

void linearGelu(PlanBuilder &pb, bool fused) {
  int32_t x = pb.input("x", {kRows, kHidden});
  int32_t w = pb.param("w", {kInter, kHidden}), b = pb.param("b", {kInter});
  int32_t y = pb.temp("y", {kRows, kInter});
  if (fused) {
    pb.step("linear", {x, w, b}, {y}).attrs["activation"].kind =
        plan::Attr::String;
    pb.plan.programs[0].steps.back().attrs["activation"].s = "gelu";
    return;
  }
  int32_t pre = pb.temp("pre", {kRows, kInter});
  pb.step("linear", {x, w, b}, {pre});
  pb.step("gelu", {pre}, {y});
}

void addLayerNorm(PlanBuilder &pb, bool fused) {
  int32_t a = pb.input("a", {kRows, kHidden}),
          r = pb.input("r", {kRows, kHidden});
  int32_t g = pb.param("g", {kHidden}), beta = pb.param("beta", {kHidden});
  int32_t sum = pb.temp("sum", {kRows, kHidden}),
          y = pb.temp("y", {kRows, kHidden});
  plan::Step &s = fused ? pb.step("add_layer_norm", {a, r, g, beta}, {y, sum})
                        : (pb.step("add", {a, r}, {sum}),
                           pb.step("layer_norm", {sum, g, beta}, {y}));
  s.attrs["eps"] = test::floatAttr(1e-12);
}

/// bert-mini's trainable tensors (4 layers; 30522-token vocabulary): the
/// decayed weights, then the no_decay biases and LayerNorm weights.
std::pair<std::vector<std::vector<int64_t>>, std::vector<std::vector<int64_t>>>
bertMiniTensors() {
  std::vector<std::vector<int64_t>> decay = {
      {30522, kHidden}, {512, kHidden}, {2, kHidden}};
  std::vector<std::vector<int64_t>> noDecay = {{kHidden}, {kHidden}};
  for (int l = 0; l < 4; ++l) {
    for (int i = 0; i < 4; ++i) {
      decay.push_back({kHidden, kHidden});
      noDecay.push_back({kHidden});
    }
    decay.push_back({kInter, kHidden});
    noDecay.push_back({kInter});
    decay.push_back({kHidden, kInter});
    noDecay.push_back({kHidden});
    for (int i = 0; i < 4; ++i) // two LayerNorms: weight and bias
      noDecay.push_back({kHidden});
  }
  decay.push_back({kHidden, kHidden}); // pooler
  noDecay.push_back({kHidden});
  decay.push_back({2, kHidden}); // classifier
  noDecay.push_back({2});
  return {decay, noDecay};
}

void adamw(PlanBuilder &pb, bool fused) {
  int32_t lr = pb.input("lr", {}), step = pb.input("step", {}),
          clip = pb.input("clip", {});
  auto [decay, noDecay] = bertMiniTensors();
  int n = 0;
  for (auto *group : {&decay, &noDecay}) {
    std::vector<int32_t> grads, params, m, v;
    for (const std::vector<int64_t> &shape : *group) {
      std::string name = "t" + std::to_string(n++);
      grads.push_back(pb.temp(name + ".grad", shape));
      params.push_back(pb.param(name, shape));
      m.push_back(pb.state(name + ".exp_avg", shape));
      v.push_back(pb.state(name + ".exp_avg_sq", shape));
    }
    std::vector<plan::Step *> steps;
    if (fused) {
      std::vector<int32_t> ins = grads, outs = params;
      ins.insert(ins.end(), {lr, step, clip});
      outs.insert(outs.end(), m.begin(), m.end());
      outs.insert(outs.end(), v.begin(), v.end());
      plan::Step &s = pb.step("adamw_group", ins, outs);
      s.attrs["tensors"] = test::intAttr(int64_t(params.size()));
    } else {
      for (size_t i = 0; i < params.size(); ++i)
        pb.step("adamw_update", {grads[i], lr, step, clip},
                {params[i], m[i], v[i]});
    }
    double wd = group == &decay ? 0.01 : 0.0;
    for (plan::Step &s : pb.plan.programs[0].steps)
      if (!s.attrs.count("weight_decay"))
        s.attrs["weight_decay"] = test::floatAttr(wd);
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ftc-fusion-bench THREADS [REPEATS]\n");
    return 2;
  }
  int threads = std::atoi(argv[1]);
  int repeats = argc > 2 ? std::atoi(argv[2]) : 20;
  const std::pair<const char *, std::function<void(PlanBuilder &, bool)>>
      cases[] = {{"linear + gelu [4096x256] -> [4096x1024]", linearGelu},
                 {"add + layer_norm [4096x256]", addLayerNorm},
                 {"adamw, bert-mini: 73 tensors, 2 groups", adamw}};
  std::printf("%-42s %12s %12s %7s   (%d threads, median of %d)\n", "fusion",
              "unfused ms", "fused ms", "ratio", threads, repeats);
  for (auto &[name, build] : cases) {
    Loaded unfused, fused;
    build(unfused.pb, false);
    build(fused.pb, true);
    unfused.load(threads);
    fused.load(threads);
    std::vector<double> u, f;
    for (int r = 0; r < repeats + 2; ++r) {
      double tu = unfused.seconds(), tf = fused.seconds();
      if (r >= 2) { // warm-up
        u.push_back(tu);
        f.push_back(tf);
      }
    }
    double mu = median(u) * 1e3, mf = median(f) * 1e3;
    std::printf("%-42s %12.3f %12.3f %7.2f\n", name, mu, mf, mf / mu);
  }
  return 0;
}
