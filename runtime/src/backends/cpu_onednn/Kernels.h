//===- Kernels.h - CPU backend kernel interface -----------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// A kernel is built once per plan step at load time, with every pointer and
// every oneDNN primitive fixed, so that running a step does no allocation and
// no primitive creation. Factories may assume the plan passed plan::verify().
//===----------------------------------------------------------------------===//
#ifndef FTC_BACKENDS_CPU_ONEDNN_KERNELS_H
#define FTC_BACKENDS_CPU_ONEDNN_KERNELS_H

#include "ftc/plan/Plan.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace ftc::rt::cpu {

/// One step argument: the plan buffer and its fixed host address.
struct Arg {
  const plan::Buffer *buf = nullptr;
  void *ptr = nullptr;

  float *f32() const { return static_cast<float *>(ptr); }
  int32_t *i32() const { return static_cast<int32_t *>(ptr); }
  int64_t numel() const { return buf->numElements(); }
  const std::vector<int64_t> &shape() const { return buf->shape; }
};

struct KernelContext {
  const plan::Step &step;
  std::vector<Arg> ins, outs;
  const dnnl::engine &engine;
  const dnnl::stream &stream;
};

class Kernel {
public:
  virtual ~Kernel() = default;
  /// Throws rt::Error (bad data) or dnnl::error; the backend adds the step.
  virtual void run() = 0;
};

/// A kernel that is a closure over its fixed pointers.
class FnKernel final : public Kernel {
public:
  explicit FnKernel(std::function<void()> fn) : fn(std::move(fn)) {}
  void run() override { fn(); }

private:
  std::function<void()> fn;
};

/// A cached oneDNN primitive with its memory objects bound once.
class PrimitiveKernel final : public Kernel {
public:
  PrimitiveKernel(dnnl::primitive prim,
                  std::unordered_map<int, dnnl::memory> args,
                  const dnnl::stream &stream)
      : prim(std::move(prim)), args(std::move(args)), stream(stream) {}
  void run() override {
    prim.execute(stream, args);
    stream.wait();
  }

private:
  dnnl::primitive prim;
  std::unordered_map<int, dnnl::memory> args;
  dnnl::stream stream;
};

using KernelFactory = std::unique_ptr<Kernel> (*)(const KernelContext &);

/// oneDNN's name for a plan dtype.
inline dnnl::memory::data_type dnnlType(plan::DType dt) {
  switch (dt) {
  case plan::DType::I32:
    return dnnl::memory::data_type::s32;
  case plan::DType::BF16:
    return dnnl::memory::data_type::bf16;
  case plan::DType::F32:
    break;
  }
  return dnnl::memory::data_type::f32;
}

/// The plain row-major descriptor of a dense tensor (f32 unless `dt`).
dnnl::memory::desc
plainMd(const dnnl::memory::dims &dims,
        dnnl::memory::data_type dt = dnnl::memory::data_type::f32);

/// Elements (or bytes, for copies) below which a loop stays on one thread:
/// waking the others costs more.
constexpr int64_t kParallelMin = 1 << 15;

/// The product of shape[from, to).
inline int64_t shapeProduct(const std::vector<int64_t> &shape, size_t from,
                            size_t to) {
  int64_t p = 1;
  for (size_t d = from; d < to; ++d)
    p *= shape[d];
  return p;
}

/// One oneDNN matmul c = a · b (+ bias, with `attr`'s post-ops), each
/// operand as its descriptor views the buffer at its pointer (transposes and
/// permutations as strides; f32 or bf16 operands).
std::unique_ptr<Kernel>
matmulKernel(const KernelContext &ctx, const dnnl::memory::desc &a, void *aPtr,
             const dnnl::memory::desc &b, void *bPtr,
             const dnnl::memory::desc &c, void *cPtr,
             const dnnl::memory::desc *bias = nullptr, void *biasPtr = nullptr,
             const dnnl::primitive_attr &attr = dnnl::primitive_attr());

/// The linear kernels with bf16 operands (mixed precision,
/// MixedPrecisionKernels.cpp); the f32 forms dispatch to them.
std::unique_ptr<Kernel> makeLinearBf16(const KernelContext &ctx);
std::unique_ptr<Kernel> makeLinearBwdDataBf16(const KernelContext &ctx);
std::unique_ptr<Kernel> makeLinearBwdWeightsBf16(const KernelContext &ctx);

/// out[j] = sum over rows of toFloat(in[i, j]), for [rows, cols] row-major
/// (a bias gradient; f32 or bf16 elements). Each column is summed over rows
/// in order, so the result does not depend on the thread count.
template <typename T, typename ToFloat>
void columnSums(const T *in, int64_t rows, int64_t cols, float *out,
                ToFloat toFloat) {
  constexpr int64_t kBlock = 256;
#pragma omp parallel for if (rows * cols > (1 << 16))
  for (int64_t j0 = 0; j0 < cols; j0 += kBlock) {
    int64_t j1 = j0 + kBlock < cols ? j0 + kBlock : cols;
    for (int64_t j = j0; j < j1; ++j)
      out[j] = 0.f;
    for (int64_t i = 0; i < rows; ++i) {
      const T *row = in + i * cols;
#pragma omp simd
      for (int64_t j = j0; j < j1; ++j)
        out[j] += toFloat(row[j]);
    }
  }
}
inline void columnSums(const float *in, int64_t rows, int64_t cols,
                       float *out) {
  columnSums(in, rows, cols, out, [](float v) { return v; });
}

/// The factory for `kernel`, or nullptr when this backend lacks it.
KernelFactory findKernel(const std::string &kernel);
/// Every kernel this backend implements (for the contract's tests).
std::vector<std::string> kernelNames();

/// Where the kernel files register their kernels: each has one function,
/// below, that adds every kernel of the runtime contract it implements, so
/// a new kernel touches only its own file. (Functions rather than static
/// registrars: the backend is a static library, and the linker drops
/// objects nothing refers to.)
class KernelTable {
public:
  void add(const char *name, KernelFactory factory);
  KernelFactory find(const std::string &name) const;
  std::vector<std::string> names() const;

private:
  std::vector<std::pair<std::string, KernelFactory>> entries_;
};

void registerDnnlKernels(KernelTable &table);
void registerAttentionKernels(KernelTable &table);
void registerBatchNormKernels(KernelTable &table);
void registerConvKernels(KernelTable &table);
void registerElementwiseKernels(KernelTable &table);
void registerEmbeddingKernels(KernelTable &table);
void registerLossKernels(KernelTable &table);
void registerNormKernels(KernelTable &table);
void registerOptimizerKernels(KernelTable &table);
void registerPoolKernels(KernelTable &table);
void registerRandomKernels(KernelTable &table);
void registerSelectionKernels(KernelTable &table);
void registerShapeKernels(KernelTable &table);

} // namespace ftc::rt::cpu

#endif // FTC_BACKENDS_CPU_ONEDNN_KERNELS_H
