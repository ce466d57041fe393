//===- FtcFusedOps.td - the fused ops ----------------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Formed by ftc-fuse from sequences of forward and backward ops.
//===----------------------------------------------------------------------===//
#ifndef FTC_FUSED_OPS
#define FTC_FUSED_OPS

include "ftc/Dialect/Ftc/IR/FtcOpBase.td"

def Ftc_LinearGeluOp : Ftc_Op<"linear_gelu", [Pure, Ftc_Bf16Product]> {
  let summary = "gelu(linear(input, weight, bias)) as one kernel";
  let description = [{
    What `ftc.gelu` of an `ftc.linear` computes, formed by `ftc-fuse` where
    nothing else reads the pre-activation (evaluation, prediction, frozen
    layers): the runtime applies the GELU as a post-op of the matrix
    product, so the pre-activation is never written to memory. Training's
    own layers keep the two ops, as `ftc.gelu_grad` needs the
    pre-activation.

    ```mlir
    %h = ftc.linear_gelu %x, %w, %b : (tensor<32x256xf32>, tensor<1024x256xf32>,
                                       tensor<1024xf32>) -> tensor<32x1024xf32>
    ```
  }];
  let arguments = (ins Ftc_ProductTensor:$input, Ftc_ProductTensor:$weight,
                   Optional<Ftc_F32Tensor>:$bias);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Ftc_LinearGradWeightBiasOp : Ftc_Op<"linear_grad_weight_bias", [Pure, Ftc_Bf16Product]> {
  let summary = "Weight and bias gradients of a linear layer in one pass";
  let description = [{
    `weight_grad = gradᵀ · input` (`[O, I]`) and `bias_grad = Σ_rows grad`
    (`[O]`): what `ftc.linear_grad_weight` and `ftc.reduce_sum` over axis 0
    compute separately. `ftc-fuse` forms it so that the runtime reads `grad`
    once (oneDNN's inner-product backward-weights with a bias).

    ```mlir
    %dw, %db = ftc.linear_grad_weight_bias %x, %dy : (tensor<32x256xf32>, tensor<32x10xf32>) -> (tensor<10x256xf32>, tensor<10xf32>)
    ```
  }];
  let arguments = (ins Ftc_ProductTensor:$input, Ftc_ProductTensor:$grad);
  let results = (outs Ftc_F32Tensor:$weight_grad, Ftc_F32Tensor:$bias_grad);
  let assemblyFormat = "$input `,` $grad attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Ftc_AddLayerNormOp : Ftc_Op<"add_layer_norm", [Pure, AllTypesMatch<["lhs", "rhs", "result", "sum"]>, Ftc_Vjp, DeclareOpInterfaceMethods<Ftc_NormalizationOpInterface>]> {
  let summary = "Residual addition followed by layer normalisation, in one pass";
  let description = [{
    `sum = lhs + rhs` and `result = layer_norm(sum, gamma, beta)`: what an
    `ftc.add` feeding an `ftc.layer_norm` computes, formed by `ftc-fuse`.
    Each row is added, normalised and written while it is in cache. `sum`
    is what `ftc.layer_norm_grad` reads in training.

    ```mlir
    %y, %s = ftc.add_layer_norm %a, %b, %g, %beta {eps = 1.0e-12 : f64}
        : (tensor<8x768xf32>, tensor<8x768xf32>, tensor<768xf32>, tensor<768xf32>) -> (tensor<8x768xf32>, tensor<8x768xf32>)
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$lhs, Ftc_F32Tensor:$rhs,
                   Ftc_F32Tensor:$gamma, Ftc_F32Tensor:$beta, F64Attr:$eps);
  let results = (outs Ftc_F32Tensor:$result, Ftc_F32Tensor:$sum);
  let assemblyFormat = "$lhs `,` $rhs `,` $gamma `,` $beta attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Ftc_StridedBatchMatmulOp : Ftc_Op<"strided_batch_matmul", [Pure, Ftc_Bf16Product]> {
  let summary = "Batched matrix product reading and writing permuted views";
  let description = [{
    `result = transpose(batch_matmul(transpose(lhs, lhs_perm),
    transpose(rhs, rhs_perm)), result_perm)`, with `ftc.transpose`'s
    convention (`y.shape[k] = x.shape[perm[k]]`); the operands as viewed are
    `[..., M, K]` and `[..., K, N]`. Formed by `ftc-fuse` from an
    `ftc.batch_matmul` and the transposes around it (attention's head
    splits and merges): the runtime passes the permutations to oneDNN as
    strides, so no transposed copy is made.

    ```mlir
    %s = ftc.strided_batch_matmul %q, %k {lhs_perm = array<i64: 0, 2, 1, 3>,
        rhs_perm = array<i64: 0, 2, 3, 1>, result_perm = array<i64: 0, 1, 2, 3>}
        : (tensor<8x128x12x64xf32>, tensor<8x128x12x64xf32>) -> tensor<8x12x128x128xf32>
    ```
  }];
  let arguments = (ins Ftc_ProductTensor:$lhs, Ftc_ProductTensor:$rhs,
                   DenseI64ArrayAttr:$lhs_perm, DenseI64ArrayAttr:$rhs_perm,
                   DenseI64ArrayAttr:$result_perm);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // FTC_FUSED_OPS
