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
    {"sgd_group", makeSgdGroup},
    {"adamw_group", makeAdamwGroup},
    {"grad_norm_scale", makeGradNormScale},
    {"accumulate_grad", makeAccumulateGrad},
    {"broadcast", makeBroadcast},
    {"copy", makeCopy},
    {"fill", makeFill},
    {"scale", makeScale},
    {"embedding", makeEmbedding},
    {"embedding_bwd", makeEmbeddingBwd},
    {"iota", makeIota},
    {"layer_norm", makeLayerNorm},
    {"add_layer_norm", makeAddLayerNorm},
    {"layer_norm_bwd", makeLayerNormBwd},
    {"transpose", makeTranspose},
    {"batch_matmul", makeBatchMatmul},
    {"masked_softmax", makeMaskedSoftmax},
    {"softmax_bwd", makeSoftmaxBwd},
    {"tanh", makeTanh},
    {"tanh_bwd", makeTanhBwd},
    {"dropout", makeDropout},
    {"dropout_bwd", makeDropoutBwd},
    {"select", makeSelect},
    {"select_bwd", makeSelectBwd},
};
} // namespace

KernelFactory findKernel(const std::string &kernel) {
  for (const Entry &e : kKernels)
    if (kernel == e.name)
      return e.factory;
  return nullptr;
}

} // namespace ftc::rt::cpu
