//===- Backend.h - Executes a plan's programs on a device -------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// A backend binds a Plan once (allocates persistent buffers and the arena
// its programs share, creates and caches library primitives) and then runs
// programs by name. Buffers are addressed by their plan id. Errors are
// ftc::rt::Error.
//===----------------------------------------------------------------------===//
#ifndef FTC_RUNTIME_BACKEND_H
#define FTC_RUNTIME_BACKEND_H

#include "ftc/plan/Plan.h"

#include "ftc/runtime/Error.h"

#include <memory>
#include <string>

namespace ftc::rt {

class Backend {
public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  /// Binds `plan`, which must outlive the backend. Persistent buffers
  /// (Param, OptState, Input) are zero-initialised.
  virtual void load(const plan::Plan &plan) = 0;
  /// Runs every step of the named program.
  virtual void run(const std::string &program) = 0;
  /// Copies buffer `id` in or out (size = the buffer's bytes). Temp buffers
  /// are readable after `run` until the next `run`.
  virtual void read(int32_t id, void *dst) = 0;
  virtual void write(int32_t id, const void *src) = 0;
  /// Direct host pointer to a buffer where the device shares host memory
  /// (the CPU backend), else nullptr.
  virtual void *hostPointer(int32_t id) = 0;
};

/// The CPU backend on oneDNN. `threads` = 0 uses every core.
std::unique_ptr<Backend> createCpuBackend(int threads);

/// What the CPU backend runs on: oneDNN's version and the instruction set it
/// dispatches to (the CPU's, or less under ONEDNN_MAX_CPU_ISA).
struct CpuInfo {
  std::string model;         // /proc/cpuinfo's "model name"
  std::string onednnVersion; // e.g. "2.6.3"
  std::string isa;           // oneDNN's effective ISA, e.g. "avx512_core_amx"
  bool avx512Bf16 = false;   // AVX512-BF16 dot products
  bool amx = false;          // AMX tiles (bf16 and int8)
  /// Native bf16 products (AVX512-BF16 or AMX): without them oneDNN
  /// emulates bf16 on AVX-512, slower than f32, or has no bf16 at all.
  bool nativeBf16() const { return avx512Bf16 || amx; }
};
CpuInfo cpuInfo();

/// True when this build has a CUDA backend and a usable device.
bool cudaAvailable(std::string *whyNot);

} // namespace ftc::rt

#endif // FTC_RUNTIME_BACKEND_H
