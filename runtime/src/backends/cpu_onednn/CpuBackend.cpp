//===- CpuBackend.cpp - The CPU backend: buffers, arenas, steps -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// load() does all allocation and primitive creation; run() only walks the
// prepared kernels. Persistent buffers share one 64-byte-aligned block; the
// programs share one arena (each laid out in it by the compiler's memory
// planner), as large as the largest program's.
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "ftc/runtime/Backend.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>

namespace ftc::rt {

namespace {

constexpr size_t kAlign = 64;

size_t alignUp(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

struct FreeDeleter {
  void operator()(void *p) const { std::free(p); }
};
using HostBlock = std::unique_ptr<char, FreeDeleter>;

// Zero-filled so that runs are reproducible even if a plan reads a buffer it
// never wrote.
HostBlock allocZeroed(size_t bytes, const std::string &what) {
  size_t size = alignUp(std::max<size_t>(bytes, 1));
  void *p = std::aligned_alloc(kAlign, size);
  if (!p)
    throw Error("cannot allocate " + std::to_string(bytes) + " bytes for " +
                what);
  std::memset(p, 0, size);
  return HostBlock(static_cast<char *>(p));
}

std::string describeStep(const plan::Plan &p, const plan::Program &prog,
                         size_t idx) {
  const plan::Step &step = prog.steps[idx];
  std::string s = "program '" + prog.name + "' step " + std::to_string(idx) +
                  " " + step.kernel + "(";
  for (size_t a = 0; a < step.args.size(); ++a) {
    if (int32_t(a) == step.numInputs)
      s += ") -> (";
    else if (a)
      s += ", ";
    int32_t id = step.args[a];
    s += "%" + std::to_string(id);
    if (id >= 0 && size_t(id) < p.buffers.size())
      s += " \"" + p.buffers[id].name + "\"";
  }
  if (step.numInputs >= int32_t(step.args.size()))
    s += ") -> (";
  return s + ")";
}

std::string dnnlMessage(const dnnl::error &e) {
  std::string msg = std::string("oneDNN: ") + e.what();
  if (e.status == dnnl_unimplemented)
    msg += " (no implementation for these shapes on this CPU)";
  else
    msg += " (status " + std::to_string(int(e.status)) + ")";
  return msg;
}

class CpuBackend final : public Backend {
public:
  explicit CpuBackend(int threads)
      : threads(threads), engine(dnnl::engine::kind::cpu, 0), stream(engine) {
    if (threads > 0)
      omp_set_num_threads(threads);
    if (const char *p = std::getenv("FTC_PROFILE"); p && *p && *p != '0') {
      profile = std::make_unique<Profile>();
      profile->byShape = std::string(p) == "shapes";
    }
  }

  std::string name() const override { return "cpu"; }

  void load(const plan::Plan &p) override {
    if (std::string err = plan::verify(p); !err.empty())
      throw Error("cannot load plan: " + err);
    // Reset first so that a failed load leaves no half-bound plan behind.
    bound = nullptr;
    programs.clear();
    arena.reset();
    ptrs.assign(p.buffers.size(), nullptr);

    size_t persistentBytes = 0;
    std::vector<size_t> offsets(p.buffers.size(), 0);
    for (size_t i = 0; i < p.buffers.size(); ++i)
      if (p.buffers[i].kind != plan::BufferKind::Temp) {
        offsets[i] = persistentBytes;
        persistentBytes += alignUp(size_t(p.buffers[i].bytes()));
      }
    persistent = allocZeroed(persistentBytes, "parameters and inputs");
    // Programs run one at a time and a Temp buffer lives only until the
    // next run (Backend.h), so every program's slices share one arena: the
    // largest program's, as the memory plan counts it.
    size_t arenaBytes = 0;
    for (const plan::Program &prog : p.programs)
      arenaBytes = std::max(arenaBytes, size_t(prog.arenaBytes));
    arena = allocZeroed(arenaBytes, "the arena");
    for (size_t i = 0; i < p.buffers.size(); ++i) {
      const plan::Buffer &b = p.buffers[i];
      ptrs[i] = b.kind == plan::BufferKind::Temp
                    ? arena.get() + b.offset
                    : persistent.get() + offsets[i];
    }

    try {
      for (const plan::Program &prog : p.programs) {
        Loaded loaded;
        loaded.prog = &prog;
        for (size_t s = 0; s < prog.steps.size(); ++s)
          loaded.kernels.push_back(makeKernel(p, prog, s));
        programs.emplace(prog.name, std::move(loaded));
      }
    } catch (...) {
      programs.clear();
      throw;
    }
    bound = &p;
  }

  void run(const std::string &program) override {
    auto it = programs.find(program);
    if (it == programs.end()) {
      std::string known;
      for (auto &[n, l] : programs)
        known += (known.empty() ? "" : ", ") + n;
      throw Error(
          "unknown program '" + program + "'" +
          (bound ? " (the plan has: " + known + ")" : " (no plan loaded)"));
    }
    // Per run, not only at construction: OpenMP's thread count is a
    // per-thread setting and run() may be called from another thread.
    if (threads > 0)
      omp_set_num_threads(threads);
    Loaded &l = it->second;
    size_t s = 0;
    try {
      if (!profile) {
        for (; s < l.kernels.size(); ++s)
          l.kernels[s]->run();
      } else {
        for (; s < l.kernels.size(); ++s) {
          auto start = std::chrono::steady_clock::now();
          l.kernels[s]->run();
          KernelTime &t = profile->times[profileKey(program, l.prog->steps[s])];
          t.seconds += std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start)
                           .count();
          ++t.calls;
        }
      }
    } catch (const dnnl::error &e) {
      throw Error(describeStep(*bound, *l.prog, s) + ": " + dnnlMessage(e));
    } catch (const Error &e) {
      throw Error(describeStep(*bound, *l.prog, s) + ": " + e.what());
    }
  }

  void read(int32_t id, void *dst) override {
    void *src = buffer(id); // validates id before it is used below
    std::memcpy(dst, src, size_t(bound->buffers[id].bytes()));
  }

  void write(int32_t id, const void *src) override {
    void *dst = buffer(id);
    std::memcpy(dst, src, size_t(bound->buffers[id].bytes()));
  }

  void *hostPointer(int32_t id) override { return buffer(id); }

private:
  struct Loaded {
    const plan::Program *prog = nullptr;
    std::vector<std::unique_ptr<cpu::Kernel>> kernels;
  };

  void *buffer(int32_t id) {
    if (!bound)
      throw Error("no plan loaded");
    if (id < 0 || size_t(id) >= bound->buffers.size())
      throw Error("buffer id " + std::to_string(id) + " is out of range (the " +
                  "plan has " + std::to_string(bound->buffers.size()) +
                  " buffers)");
    return ptrs[id];
  }

  std::unique_ptr<cpu::Kernel> makeKernel(const plan::Plan &p,
                                          const plan::Program &prog, size_t s) {
    const plan::Step &step = prog.steps[s];
    cpu::KernelFactory factory = cpu::findKernel(step.kernel);
    if (!factory)
      throw Error(describeStep(p, prog, s) +
                  ": the cpu backend has no kernel '" + step.kernel + "'");
    cpu::KernelContext ctx{step, {}, {}, engine, stream};
    for (size_t a = 0; a < step.args.size(); ++a) {
      int32_t id = step.args[a];
      cpu::Arg arg{&p.buffers[id], ptrs[id]};
      (int32_t(a) < step.numInputs ? ctx.ins : ctx.outs).push_back(arg);
    }
    try {
      return factory(ctx);
    } catch (const dnnl::error &e) {
      throw Error(describeStep(p, prog, s) + ": " + dnnlMessage(e));
    } catch (const Error &e) {
      throw Error(describeStep(p, prog, s) + ": " + e.what());
    }
  }

  /// The profile row of a step: its kernel, and with FTC_PROFILE=shapes
  /// also its operands' shapes.
  std::string profileKey(const std::string &program, const plan::Step &step) {
    std::string key = program + " " + step.kernel;
    if (!profile->byShape)
      return key;
    for (size_t a = 0; a < step.args.size(); ++a) {
      key += a == size_t(step.numInputs) ? " ->" : "";
      key += " [";
      for (int64_t d : bound->buffers[size_t(step.args[a])].shape)
        key += std::to_string(d) + "x";
      if (key.back() == 'x')
        key.pop_back();
      key += "]";
    }
    return key;
  }

  int threads;
  /// FTC_PROFILE=1: time per kernel, printed to stderr at the end (for
  /// performance work: which kernels a fusion must remove);
  /// FTC_PROFILE=shapes: per kernel and operand shapes.
  struct KernelTime {
    double seconds = 0;
    int64_t calls = 0;
  };
  struct Profile {
    bool byShape = false;
    std::map<std::string, KernelTime> times;
    ~Profile() {
      std::vector<std::pair<std::string, KernelTime>> rows(times.begin(),
                                                           times.end());
      std::sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) {
        return a.second.seconds > b.second.seconds;
      });
      double total = 0;
      for (auto &[name, t] : rows)
        total += t.seconds;
      std::fprintf(stderr, "ftc profile (FTC_PROFILE): %.3f s in kernels\n",
                   total);
      for (auto &[name, t] : rows)
        std::fprintf(stderr, "  %-40s %9.3f s %5.1f%% %8lld calls\n",
                     name.c_str(), t.seconds,
                     total > 0 ? 100 * t.seconds / total : 0.0,
                     (long long)t.calls);
    }
  };
  std::unique_ptr<Profile> profile;
  dnnl::engine engine;
  dnnl::stream stream;
  const plan::Plan *bound = nullptr;
  HostBlock persistent;
  HostBlock arena;
  std::vector<void *> ptrs;
  std::map<std::string, Loaded> programs;
};

} // namespace

std::unique_ptr<Backend> createCpuBackend(int threads) {
  try {
    return std::make_unique<CpuBackend>(threads);
  } catch (const dnnl::error &e) {
    throw Error("cannot start the cpu backend: " + dnnlMessage(e));
  }
}

CpuInfo cpuInfo() {
  CpuInfo info;
  const dnnl::version_t *v = dnnl::version();
  info.onednnVersion = std::to_string(v->major) + "." +
                       std::to_string(v->minor) + "." +
                       std::to_string(v->patch);
  using dnnl::cpu_isa;
  static const std::pair<cpu_isa, const char *> names[] = {
      {cpu_isa::sse41, "sse41"},
      {cpu_isa::avx, "avx"},
      {cpu_isa::avx2, "avx2"},
      {cpu_isa::avx2_vnni, "avx2_vnni"},
      {cpu_isa::avx512_mic, "avx512_mic"},
      {cpu_isa::avx512_mic_4ops, "avx512_mic_4ops"},
      {cpu_isa::avx512_core, "avx512_core"},
      {cpu_isa::avx512_core_vnni, "avx512_core_vnni"},
      {cpu_isa::avx512_core_bf16, "avx512_core_bf16"},
      {cpu_isa::avx512_core_amx, "avx512_core_amx"}};
  cpu_isa isa = dnnl::get_effective_cpu_isa();
  info.isa = "unknown";
  for (auto [value, name] : names)
    if (value == isa)
      info.isa = name;
  // The ISAs form a ladder on Intel's server cores: AMX implies AVX512-BF16.
  info.amx = isa == cpu_isa::avx512_core_amx;
  info.avx512Bf16 = info.amx || isa == cpu_isa::avx512_core_bf16;
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos)
        info.model = line.substr(line.find_first_not_of(' ', colon + 1));
      break;
    }
  return info;
}

bool cudaAvailable(std::string *whyNot) {
  if (whyNot)
    *whyNot = "this build has no CUDA backend";
  return false;
}

} // namespace ftc::rt
