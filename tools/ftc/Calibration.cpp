//===- Calibration.cpp - This machine's measured kernel rates -------------===//
// SPDX-License-Identifier: Apache-2.0
#include "Calibration.h"

#include "ftc/runtime/AtomicFile.h"
#include "ftc/runtime/Backend.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace ftc;
namespace fs = std::filesystem;

namespace {

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  return "unknown CPU";
}

fs::path cacheFile() {
  if (const char *f = std::getenv("FTC_CALIBRATION_FILE"); f && *f)
    return f;
  if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return fs::path(x) / "ftc" / "calibration.json";
  if (const char *h = std::getenv("HOME"); h && *h)
    return fs::path(h) / ".cache" / "ftc" / "calibration.json";
  return {};
}

/// Two programs on shapes like a BERT layer's: "products" runs the three
/// linear kernels of a layer's forward and backward and an attention-sized
/// batched product; "elementwise" an add, a GELU and a dropout over buffers
/// larger than the caches. The estimator's own step costs turn their
/// timings into rates, so the two agree on what is counted.
plan::Plan calibrationPlan() {
  constexpr int64_t kRows = 2048, kK = 512, kN = 1024, kElems = 4 << 20;
  plan::Plan p;
  p.compilerVersion = "calibration";
  p.batchSize = 1;
  p.programs.resize(3);
  p.programs[0].name = "products";
  p.programs[1].name = "elementwise";
  p.programs[2].name = "bf16_products";
  auto buffer = [&](const char *name, std::vector<int64_t> shape,
                    int32_t program = -1,
                    plan::DType dtype = plan::DType::F32) {
    plan::Buffer b;
    b.name = name;
    b.kind = program < 0 ? plan::BufferKind::Input : plan::BufferKind::Temp;
    b.dtype = dtype;
    b.shape = std::move(shape);
    if (program >= 0) {
      plan::Program &prog = p.programs[size_t(program)];
      b.program = program;
      b.offset = prog.arenaBytes;
      prog.arenaBytes += (b.bytes() + 63) / 64 * 64;
    }
    p.buffers.push_back(b);
    return int32_t(p.buffers.size() - 1);
  };
  auto step = [&](int program, const char *kernel, std::vector<int32_t> args,
                  int32_t numInputs) -> plan::Step & {
    p.programs[size_t(program)].steps.push_back(
        {kernel, std::move(args), numInputs, {}});
    return p.programs[size_t(program)].steps.back();
  };
  int32_t x = buffer("x", {kRows, kK}), w = buffer("w", {kN, kK}),
          b = buffer("b", {kN}), y = buffer("y", {kRows, kN}, 0),
          dx = buffer("dx", {kRows, kK}, 0), dw = buffer("dw", {kN, kK}, 0),
          db = buffer("db", {kN}, 0);
  step(0, "linear", {x, w, b, y}, 3);
  step(0, "linear_bwd_data", {y, w, dx}, 2);
  step(0, "linear_bwd_weights", {x, y, dw, db}, 2);
  int32_t q = buffer("q", {48, 128, 64}), k = buffer("k", {48, 128, 64}),
          scores = buffer("scores", {48, 128, 128}, 0);
  step(0, "batch_matmul", {q, k, scores}, 2).attrs["transpose_b"] =
      plan::Attr{plan::Attr::Int, 1, 0, {}, ""};
  int32_t e = buffer("e", {kElems}), f = buffer("f", {kElems}),
          rng = buffer("rng", {2}, -1, plan::DType::I32),
          sum = buffer("sum", {kElems}, 1), act = buffer("act", {kElems}, 1),
          drop = buffer("drop", {kElems}, 1);
  // The products again on bf16 operands (mixed precision). Their values do
  // not change the time: the temps stay as the backend zeroed them.
  constexpr auto kBf16 = plan::DType::BF16;
  int32_t xb = buffer("xb", {kRows, kK}, 2, kBf16),
          wb = buffer("wb", {kN, kK}, 2, kBf16),
          yb = buffer("yb", {kRows, kN}, 2, kBf16),
          y2 = buffer("y2", {kRows, kN}, 2),
          dx2 = buffer("dx2", {kRows, kK}, 2), dw2 = buffer("dw2", {kN, kK}, 2),
          db2 = buffer("db2", {kN}, 2);
  step(2, "linear", {xb, wb, b, y2}, 3);
  step(2, "linear_bwd_data", {yb, wb, dx2}, 2);
  step(2, "linear_bwd_weights", {xb, yb, dw2, db2}, 2);
  int32_t qb = buffer("qb", {48, 128, 64}, 2, kBf16),
          kb = buffer("kb", {48, 128, 64}, 2, kBf16),
          scores2 = buffer("scores2", {48, 128, 128}, 2);
  step(2, "batch_matmul", {qb, kb, scores2}, 2).attrs["transpose_b"] =
      plan::Attr{plan::Attr::Int, 1, 0, {}, ""};
  step(1, "add", {e, f, sum}, 2);
  step(1, "gelu", {sum, act}, 1);
  plan::Step &d = step(1, "dropout", {act, rng, drop}, 2);
  d.attrs["p"] = plan::Attr{plan::Attr::Float, 0, 0.1, {}, ""};
  d.attrs["stream"] = plan::Attr{plan::Attr::Int, 1, 0, {}, ""};
  return p;
}

/// Runs `program` for at least `seconds` (and 3 times); runs per second.
double runsPerSecond(rt::Backend &backend, const std::string &program,
                     double seconds) {
  using Clock = std::chrono::steady_clock;
  backend.run(program); // warm-up: first touch, oneDNN primitive creation
  auto start = Clock::now();
  int runs = 0;
  double elapsed = 0;
  while (runs < 3 || elapsed < seconds) {
    backend.run(program);
    ++runs;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return runs / elapsed;
}

plan::MachineRates measure(int threads) {
  plan::Plan p = calibrationPlan();
  if (std::string error = plan::verify(p); !error.empty())
    throw std::logic_error("the calibration plan is invalid: " + error);
  std::unique_ptr<rt::Backend> backend = rt::createCpuBackend(threads);
  backend->load(p);
  for (int32_t id = 0; id < int32_t(p.buffers.size()); ++id) {
    const plan::Buffer &b = p.buffers[size_t(id)];
    if (b.kind != plan::BufferKind::Input)
      continue;
    std::vector<float> values(size_t(b.numElements()), 0.25f);
    if (b.dtype == plan::DType::I32)
      std::fill(reinterpret_cast<int32_t *>(values.data()),
                reinterpret_cast<int32_t *>(values.data()) + values.size(), 7);
    backend->write(id, values.data());
  }
  plan::Cost products = plan::programCost(p, p.programs[0]),
             elementwise = plan::programCost(p, p.programs[1]);
  plan::MachineRates r;
  r.productFlops =
      runsPerSecond(*backend, "products", 0.6) * products.productFlops;
  r.memoryBytes =
      runsPerSecond(*backend, "elementwise", 0.3) * elementwise.otherBytes;
  if (rt::cpuInfo().nativeBf16()) // elsewhere bf16 never runs on the CPU
    r.bf16ProductFlops = runsPerSecond(*backend, "bf16_products", 0.3) *
                         plan::programCost(p, p.programs[2]).bf16ProductFlops;
  return r;
}

} // namespace

plan::MachineRates tool::machineRates(int threads, std::string &note) {
  int resolved = threads > 0
                     ? threads
                     : int(std::max(1u, std::thread::hardware_concurrency()));
  std::string key = cpuModel() + " | " + std::to_string(resolved) +
                    " threads | ftc " + FTC_VERSION;
  fs::path file = cacheFile();
  nlohmann::json cache = nlohmann::json::object();
  std::error_code ec;
  if (!file.empty() && fs::exists(file, ec)) {
    cache = nlohmann::json::parse(std::ifstream(file), nullptr, false);
    if (!cache.is_object())
      cache = nlohmann::json::object(); // unreadable: measure again
  }
  if (cache.contains(key) && cache[key].is_object()) {
    const nlohmann::json &e = cache[key];
    plan::MachineRates r{e.value("product_gflops", 0.0) * 1e9,
                         e.value("memory_gbytes", 0.0) * 1e9,
                         e.value("bf16_product_gflops", 0.0) * 1e9};
    // An entry from before the bf16 rate was measured is measured again.
    bool bf16Known = r.bf16ProductFlops > 0 || !rt::cpuInfo().nativeBf16();
    if (r.productFlops > 0 && r.memoryBytes > 0 && bf16Known) {
      note = "calibrated " + e.value("measured", std::string("earlier")) +
             ", cached in " + file.string();
      return r;
    }
  }
  plan::MachineRates r = measure(resolved);
  char when[32] = "now";
  std::time_t t = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%d", std::gmtime(&t));
  cache[key] = {{"product_gflops", r.productFlops / 1e9},
                {"memory_gbytes", r.memoryBytes / 1e9},
                {"bf16_product_gflops", r.bf16ProductFlops / 1e9},
                {"measured", when}};
  note = "calibrated now";
  if (!file.empty()) {
    try {
      fs::create_directories(file.parent_path());
      rt::writeFileAtomic(file.string(), cache.dump(2) + "\n");
      note += ", cached in " + file.string();
    } catch (const std::exception &) {
      note += " (the cache " + file.string() + " is not writable)";
    }
  }
  return r;
}
