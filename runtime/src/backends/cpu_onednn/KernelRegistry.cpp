//===- KernelRegistry.cpp - CPU backend kernel table ------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// An explicit table rather than self-registering statics: the backend is a
// static library, and the linker drops objects nothing refers to.
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <cstring>

namespace ftc::rt::cpu {

namespace {
struct Entry {
  const char *name;
  KernelFactory factory;
};

const Entry kKernels[] = {
    {"linear", makeLinear},
    {"linear_bwd_data", makeLinearBwdData},
    {"linear_bwd_weights", makeLinearBwdWeights},
    {"relu", makeRelu},
    {"gelu", makeGelu},
    {"relu_bwd", makeReluBwd},
    {"gelu_bwd", makeGeluBwd},
    {"add", makeAdd},
    {"sub", makeSub},
    {"mul", makeMul},
    {"reduce_sum", makeReduceSum},
    {"softmax_cross_entropy", makeSoftmaxCrossEntropy},
    {"softmax_cross_entropy_bwd", makeSoftmaxCrossEntropyBwd},
    {"sgd_update", makeSgdUpdate},
    {"adamw_update", makeAdamwUpdate},
    {"broadcast", makeBroadcast},
    {"copy", makeCopy},
    {"fill", makeFill},
    {"scale", makeScale},
};
} // namespace

KernelFactory findKernel(const std::string &kernel) {
  for (const Entry &e : kKernels)
    if (kernel == e.name)
      return e.factory;
  return nullptr;
}

} // namespace ftc::rt::cpu
