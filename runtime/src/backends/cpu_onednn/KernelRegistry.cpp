//===- KernelRegistry.cpp - The CPU backend's kernels by name ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Collects what each kernel file registers (Kernels.h); the plan verifier's
// signature table is the contract they implement, and a unit test checks
// that the two name the same kernels.
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "ftc/runtime/Error.h"

namespace ftc::rt::cpu {

void KernelTable::add(const char *name, KernelFactory factory) {
  if (find(name))
    throw Error(std::string("CPU kernel '") + name + "' registered twice");
  entries_.emplace_back(name, factory);
}

KernelFactory KernelTable::find(const std::string &name) const {
  for (const auto &[n, f] : entries_)
    if (n == name)
      return f;
  return nullptr;
}

std::vector<std::string> KernelTable::names() const {
  std::vector<std::string> out;
  for (const auto &entry : entries_)
    out.push_back(entry.first);
  return out;
}

namespace {
const KernelTable &table() {
  static const KernelTable t = [] {
    KernelTable k;
    registerDnnlKernels(k);
    registerAttentionKernels(k);
    registerBatchNormKernels(k);
    registerConvKernels(k);
    registerElementwiseKernels(k);
    registerEmbeddingKernels(k);
    registerLossKernels(k);
    registerNormKernels(k);
    registerOptimizerKernels(k);
    registerPoolKernels(k);
    registerRandomKernels(k);
    registerSelectionKernels(k);
    registerShapeKernels(k);
    return k;
  }();
  return t;
}
} // namespace

KernelFactory findKernel(const std::string &kernel) {
  return table().find(kernel);
}

std::vector<std::string> kernelNames() { return table().names(); }

} // namespace ftc::rt::cpu
