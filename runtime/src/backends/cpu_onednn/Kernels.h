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

/// The plain row-major descriptor of a dense tensor (f32 unless `dt`).
dnnl::memory::desc
plainMd(const dnnl::memory::dims &dims,
        dnnl::memory::data_type dt = dnnl::memory::data_type::f32);

/// The factory for `kernel`, or nullptr when this backend lacks it.
KernelFactory findKernel(const std::string &kernel);

// Primitive-backed kernels (DnnlKernels.cpp).
std::unique_ptr<Kernel> makeLinear(const KernelContext &ctx);
std::unique_ptr<Kernel> makeLinearBwdData(const KernelContext &ctx);
std::unique_ptr<Kernel> makeLinearBwdWeights(const KernelContext &ctx);
std::unique_ptr<Kernel> makeRelu(const KernelContext &ctx);
std::unique_ptr<Kernel> makeGelu(const KernelContext &ctx);
std::unique_ptr<Kernel> makeReluBwd(const KernelContext &ctx);
std::unique_ptr<Kernel> makeGeluBwd(const KernelContext &ctx);
std::unique_ptr<Kernel> makeAdd(const KernelContext &ctx);
std::unique_ptr<Kernel> makeSub(const KernelContext &ctx);
std::unique_ptr<Kernel> makeMul(const KernelContext &ctx);
std::unique_ptr<Kernel> makeReduceSum(const KernelContext &ctx);
std::unique_ptr<Kernel> makeTanh(const KernelContext &ctx);
std::unique_ptr<Kernel> makeTanhBwd(const KernelContext &ctx);
std::unique_ptr<Kernel> makeTranspose(const KernelContext &ctx);
std::unique_ptr<Kernel> makeBatchMatmul(const KernelContext &ctx);
// Hand-written kernels.
std::unique_ptr<Kernel> makeSoftmaxCrossEntropy(const KernelContext &ctx);
std::unique_ptr<Kernel> makeSoftmaxCrossEntropyBwd(const KernelContext &ctx);
std::unique_ptr<Kernel> makeSgdUpdate(const KernelContext &ctx);
std::unique_ptr<Kernel> makeAdamwUpdate(const KernelContext &ctx);
std::unique_ptr<Kernel> makeSgdGroup(const KernelContext &ctx);
std::unique_ptr<Kernel> makeAdamwGroup(const KernelContext &ctx);
std::unique_ptr<Kernel> makeGradNormScale(const KernelContext &ctx);
std::unique_ptr<Kernel> makeAccumulateGrad(const KernelContext &ctx);
std::unique_ptr<Kernel> makeBroadcast(const KernelContext &ctx);
std::unique_ptr<Kernel> makeCopy(const KernelContext &ctx);
std::unique_ptr<Kernel> makeFill(const KernelContext &ctx);
std::unique_ptr<Kernel> makeScale(const KernelContext &ctx);
// BERT's kernels (EmbeddingKernels.cpp, NormKernels.cpp,
// AttentionKernels.cpp, RandomKernels.cpp).
std::unique_ptr<Kernel> makeEmbedding(const KernelContext &ctx);
std::unique_ptr<Kernel> makeEmbeddingBwd(const KernelContext &ctx);
std::unique_ptr<Kernel> makeIota(const KernelContext &ctx);
std::unique_ptr<Kernel> makeSelect(const KernelContext &ctx);
std::unique_ptr<Kernel> makeSelectBwd(const KernelContext &ctx);
std::unique_ptr<Kernel> makeLayerNorm(const KernelContext &ctx);
std::unique_ptr<Kernel> makeAddLayerNorm(const KernelContext &ctx);
std::unique_ptr<Kernel> makeLayerNormBwd(const KernelContext &ctx);
std::unique_ptr<Kernel> makeMaskedSoftmax(const KernelContext &ctx);
std::unique_ptr<Kernel> makeSoftmaxBwd(const KernelContext &ctx);
std::unique_ptr<Kernel> makeDropout(const KernelContext &ctx);
std::unique_ptr<Kernel> makeDropoutBwd(const KernelContext &ctx);

} // namespace ftc::rt::cpu

#endif // FTC_BACKENDS_CPU_ONEDNN_KERNELS_H
