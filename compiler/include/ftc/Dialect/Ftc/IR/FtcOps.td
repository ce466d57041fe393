//===- FtcOps.td - ftc dialect operations ------------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_OPS
#define FTC_OPS

include "ftc/Dialect/Ftc/IR/FtcDialect.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributes.td"

// Ops on a path from a trainable parameter to the loss carry their VJP
// (FtcVjp.cpp).
defvar Ftc_Vjp = DeclareOpInterfaceMethods<Ftc_DifferentiableOpInterface>;
// Forward ops that may sit in a cached frozen prefix: row-wise unless they
// say otherwise (FtcPrefix.cpp).
defvar Ftc_Cacheable = Ftc_PrefixCacheableOpInterface;
class Ftc_CacheableWith<list<string> overrides>
    : DeclareOpInterfaceMethods<Ftc_PrefixCacheableOpInterface, overrides>;

def Ftc_F32Tensor : RankedTensorOf<[F32]>;
def Ftc_LabelTensor : RankedTensorOf<[I32]>;
def Ftc_DataTensor : RankedTensorOf<[F32, I32]>;
def Ftc_ScalarF32 : 0DTensorOf<[F32]> {
  let builderCall = "::mlir::RankedTensorType::get({}, $_builder.getF32Type())";
}

//===----------------------------------------------------------------------===//
// Graph boundary
//===----------------------------------------------------------------------===//

def Ftc_ParamOp : Ftc_Op<"param", [Pure]> {
  let summary = "A named, persistent model parameter";
  let description = [{
    Reads the parameter `name` (its checkpoint name, kept end to end). `init`
    says how a parameter missing from the checkpoint is initialised:
    `zeros`, `ones`, `normal` (mean `init_a`, std `init_b`) or `uniform`
    (`[init_a, init_b)`). `head` marks the task head. `ftc-apply-freeze` sets
    `trainable`.

    ```mlir
    %w = ftc.param "layers.0.weight" {init = "uniform", init_a = -0.03 : f64,
                                      init_b = 0.03 : f64} : tensor<256x784xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, DefaultValuedStrAttr<StrAttr, "zeros">:$init,
                   DefaultValuedAttr<F64Attr, "0.0">:$init_a,
                   DefaultValuedAttr<F64Attr, "0.0">:$init_b,
                   UnitAttr:$head, OptionalAttr<BoolAttr>:$trainable);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Ftc_InputOp : Ftc_Op<"input", [Pure]> {
  let summary = "A value supplied by the trainer at every step";
  let description = [{
    A batched dataset feature (by feature name) or a runtime scalar: `lr`
    (the scheduled learning rate) and `step` (the 1-based optimizer step).
    Keeping both as inputs means a schedule never forces a recompile.

    ```mlir
    %x = ftc.input "image" : tensor<32x28x28xf32>
    %lr = ftc.input "lr" : tensor<f32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
}

def Ftc_OutputOp : Ftc_Op<"output", [MemoryEffects<[MemWrite]>]> {
  let summary = "Marks a named result of the enclosing step function";
  let description = [{
    Roles: `loss` (a scalar), `logits`, and after autodiff
    `grad.<param name>` for each trainable parameter.

    ```mlir
    ftc.output "loss" %loss : tensor<f32>
    ```
  }];
  let arguments = (ins StrAttr:$role, AnyRankedTensor:$value);
  let assemblyFormat = "$role $value attr-dict `:` type($value)";
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

class Ftc_UnaryOp<string mnemonic, list<Trait> traits = []>
    : Ftc_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptor])> {
  let arguments = (ins Ftc_F32Tensor:$input);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

class Ftc_BinaryOp<string mnemonic, list<Trait> traits = []>
    : Ftc_Op<mnemonic, !listconcat(traits, [Pure, AllTypesMatch<["lhs", "rhs"]>,
                                            InferTypeOpAdaptor])> {
  let arguments = (ins Ftc_F32Tensor:$lhs, Ftc_F32Tensor:$rhs);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs)";
}

def Ftc_LinearOp : Ftc_Op<"linear", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable]> {
  let summary = "Fully connected layer: input · weightᵀ + bias";
  let description = [{
    `input` is `[B, I]`, `weight` is `[O, I]` (the PyTorch/Hugging Face
    layout), the optional `bias` is `[O]`; the result is `[B, O]`.

    ```mlir
    %y = ftc.linear %x, %w, %b : (tensor<32x784xf32>, tensor<256x784xf32>,
                                  tensor<256xf32>) -> tensor<32x256xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, Ftc_F32Tensor:$weight,
                   Optional<Ftc_F32Tensor>:$bias);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Ftc_LinearGeluOp : Ftc_Op<"linear_gelu", [Pure]> {
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
  let arguments = (ins Ftc_F32Tensor:$input, Ftc_F32Tensor:$weight,
                   Optional<Ftc_F32Tensor>:$bias);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Ftc_LinearGradDataOp : Ftc_Op<"linear_grad_data", [Pure, InferTypeOpAdaptor]> {
  let summary = "Gradient of a linear layer with respect to its input";
  let description = [{
    `result = grad · weight`: `grad` is `[B, O]`, `weight` `[O, I]`,
    the result `[B, I]`.

    ```mlir
    %dx = ftc.linear_grad_data %dy, %w : (tensor<32x10xf32>, tensor<10x256xf32>) -> tensor<32x256xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$grad, Ftc_F32Tensor:$weight);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $weight attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Ftc_LinearGradWeightOp : Ftc_Op<"linear_grad_weight", [Pure, InferTypeOpAdaptor]> {
  let summary = "Gradient of a linear layer with respect to its weight";
  let description = [{
    `result = gradᵀ · input`: `input` is `[B, I]`, `grad` `[B, O]`, the
    result `[O, I]`.

    ```mlir
    %dw = ftc.linear_grad_weight %x, %dy : (tensor<32x256xf32>, tensor<32x10xf32>) -> tensor<10x256xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, Ftc_F32Tensor:$grad);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input `,` $grad attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Ftc_LinearGradWeightBiasOp : Ftc_Op<"linear_grad_weight_bias", [Pure]> {
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
  let arguments = (ins Ftc_F32Tensor:$input, Ftc_F32Tensor:$grad);
  let results = (outs Ftc_F32Tensor:$weight_grad, Ftc_F32Tensor:$bias_grad);
  let assemblyFormat = "$input `,` $grad attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Ftc_ReluOp : Ftc_UnaryOp<"relu", [Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable]> {
  let summary = "Rectified linear unit, max(x, 0)";
  let description = [{
    ```mlir
    %y = ftc.relu %x : tensor<32x256xf32>
    ```
  }];
}

def Ftc_GeluOp : Ftc_UnaryOp<"gelu", [Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable]> {
  let summary = "Gaussian error linear unit (exact erf form)";
  let description = [{
    `0.5 · x · (1 + erf(x / √2))`, as PyTorch's default `gelu`.

    ```mlir
    %y = ftc.gelu %x : tensor<32x256xf32>
    ```
  }];
}

class Ftc_ActivationGradOp<string mnemonic, string fn>
    : Ftc_Op<mnemonic, [Pure, AllTypesMatch<["input", "grad"]>, InferTypeOpAdaptor]> {
  let summary = "Gradient of " # fn # " given its input and the output gradient";
  let description = [{
    `result = grad · f'(input)`.

    ```mlir
    %dx = ftc.}] # mnemonic # [{ %x, %dy : tensor<32x256xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, Ftc_F32Tensor:$grad);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input `,` $grad attr-dict `:` type($input)";
}

def Ftc_ReluGradOp : Ftc_ActivationGradOp<"relu_grad", "relu">;
def Ftc_GeluGradOp : Ftc_ActivationGradOp<"gelu_grad", "gelu">;

def Ftc_AddOp : Ftc_BinaryOp<"add", [Commutative, Ftc_Vjp, Ftc_CacheableWith<["keepsExamplesContiguous"]>, Ftc_PluginBuildable]> {
  let summary = "Elementwise addition";
  let description = [{
    ```mlir
    %c = ftc.add %a, %b : tensor<4x8xf32>
    ```
  }];
}

def Ftc_SubOp : Ftc_BinaryOp<"sub", [Ftc_Vjp, Ftc_CacheableWith<["keepsExamplesContiguous"]>, Ftc_PluginBuildable]> {
  let summary = "Elementwise subtraction";
  let description = [{
    ```mlir
    %c = ftc.sub %a, %b : tensor<4x8xf32>
    ```
  }];
}

def Ftc_MulOp : Ftc_BinaryOp<"mul", [Commutative, Ftc_Vjp, Ftc_CacheableWith<["keepsExamplesContiguous"]>, Ftc_PluginBuildable]> {
  let summary = "Elementwise multiplication";
  let description = [{
    ```mlir
    %c = ftc.mul %a, %b : tensor<4x8xf32>
    ```
  }];
}

def Ftc_ScaleOp : Ftc_Op<"scale", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable]> {
  let summary = "Multiplication by a compile-time constant";
  let description = [{
    ```mlir
    %y = ftc.scale %x {factor = -1.0 : f64} : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, F64Attr:$factor);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Ftc_FillOp : Ftc_Op<"fill", [Pure, Ftc_Cacheable, Ftc_PluginBuildable]> {
  let summary = "A tensor with every element equal to `value`";
  let description = [{
    ```mlir
    %one = ftc.fill {value = 1.0 : f64} : tensor<f32>
    ```
  }];
  let arguments = (ins F64Attr:$value);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

class Ftc_ReduceOp<string mnemonic, string what>
    : Ftc_Op<mnemonic, [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_CacheableWith<["keepsExamplesContiguous"]>, Ftc_PluginBuildable]> {
  let summary = what # " over the listed axes, which are removed";
  let description = [{
    ```mlir
    %s = ftc.}] # mnemonic # [{ %x {axes = array<i64: 0>} : tensor<32x10xf32> -> tensor<10xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Ftc_ReduceSumOp : Ftc_ReduceOp<"reduce_sum", "Sum">;
def Ftc_ReduceMeanOp : Ftc_ReduceOp<"reduce_mean", "Mean">;

def Ftc_BroadcastOp : Ftc_Op<"broadcast", [Pure, Ftc_Vjp, Ftc_CacheableWith<["keepsExamplesContiguous"]>, Ftc_PluginBuildable]> {
  let summary = "Repeats the input along new axes (the inverse of a reduction)";
  let description = [{
    The result has the input's dimensions with extra ones inserted at
    `axes` (positions in the result).

    ```mlir
    %b = ftc.broadcast %x {axes = array<i64: 0>} : tensor<10xf32> -> tensor<32x10xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Ftc_ReshapeOp : Ftc_Op<"reshape", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_CacheableWith<["keepsExamplesContiguous"]>, Ftc_PluginBuildable]> {
  let summary = "Same elements, new static shape";
  let description = [{
    ```mlir
    %f = ftc.reshape %x {shape = array<i64: 32, 784>} : tensor<32x28x28xf32> -> tensor<32x784xf32>
    ```
  }];
  let arguments = (ins Ftc_DataTensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs Ftc_DataTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Ftc_SoftmaxCrossEntropyOp
    : Ftc_Op<"softmax_cross_entropy", [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>, Ftc_Vjp, Ftc_PluginBuildable]> {
  let summary = "Mean cross-entropy of softmax(logits) against class labels";
  let description = [{
    `logits` is `[B, C]`, `labels` `[B]` (i32 in `[0, C)`); the result is the
    scalar `mean_b(logsumexp(logits_b) - logits_b[labels_b])`. With
    `ignore_index`, rows with that label are left out of the mean (Hugging
    Face uses -100 for padding and unmasked tokens).

    ```mlir
    %loss = ftc.softmax_cross_entropy %logits, %labels : (tensor<32x10xf32>, tensor<32xi32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$logits, Ftc_LabelTensor:$labels,
                   OptionalAttr<I64Attr>:$ignore_index);
  let results = (outs Ftc_ScalarF32:$result);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Ftc_SoftmaxCrossEntropyGradOp
    : Ftc_Op<"softmax_cross_entropy_grad", [Pure, InferTypeOpAdaptor]> {
  let summary = "Gradient of softmax_cross_entropy with respect to the logits";
  let description = [{
    `(softmax(logits) - onehot(labels)) · grad / B`.

    ```mlir
    %dl = ftc.softmax_cross_entropy_grad %logits, %labels, %dloss
        : (tensor<32x10xf32>, tensor<32xi32>, tensor<f32>) -> tensor<32x10xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$logits, Ftc_LabelTensor:$labels,
                   Ftc_ScalarF32:$grad, OptionalAttr<I64Attr>:$ignore_index);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$logits `,` $labels `,` $grad attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Transformer building blocks
//===----------------------------------------------------------------------===//

def Ftc_EmbeddingOp : Ftc_Op<"embedding", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable]> {
  let summary = "Gathers rows of a table by index";
  let description = [{
    `table` is `[V, H]`, `ids` any i32 shape `S`; the result is `S × [H]`.
    An id outside `[0, V)` is a runtime error.

    ```mlir
    %e = ftc.embedding %table, %ids : (tensor<30522x768xf32>, tensor<8x128xi32>) -> tensor<8x128x768xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$table, Ftc_LabelTensor:$ids);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$table `,` $ids attr-dict `:` functional-type(operands, results)";
}

def Ftc_EmbeddingGradOp : Ftc_Op<"embedding_grad", [Pure]> {
  let summary = "Scatter-adds output gradients into a table-shaped gradient";
  let description = [{
    ```mlir
    %dt = ftc.embedding_grad %ids, %dy : (tensor<8x128xi32>, tensor<8x128x768xf32>) -> tensor<30522x768xf32>
    ```
  }];
  let arguments = (ins Ftc_LabelTensor:$ids, Ftc_F32Tensor:$grad);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$ids `,` $grad attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Ftc_IotaOp : Ftc_Op<"iota", [Pure, InferTypeOpAdaptor, Ftc_Cacheable, Ftc_PluginBuildable]> {
  let summary = "Indices along one axis (position ids)";
  let description = [{
    An i32 tensor of `shape` whose element at `[i0, ..., in]` is `i_axis`.

    ```mlir
    %pos = ftc.iota {shape = array<i64: 8, 128>, axis = 1 : i64} : tensor<8x128xi32>
    ```
  }];
  let arguments = (ins DenseI64ArrayAttr:$shape, I64Attr:$axis);
  let results = (outs Ftc_LabelTensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

def Ftc_LayerNormOp : Ftc_Op<"layer_norm", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable]> {
  let summary = "Layer normalisation over the last axis, with scale and shift";
  let description = [{
    As `torch.nn.LayerNorm(H, eps)`: biased variance, `gamma` and `beta` `[H]`.

    ```mlir
    %y = ftc.layer_norm %x, %g, %b {eps = 1.0e-12 : f64} : (tensor<8x128x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<8x128x768xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, Ftc_F32Tensor:$gamma,
                   Ftc_F32Tensor:$beta, F64Attr:$eps);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input `,` $gamma `,` $beta attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Ftc_AddLayerNormOp : Ftc_Op<"add_layer_norm", [Pure, AllTypesMatch<["lhs", "rhs", "result", "sum"]>, Ftc_Vjp]> {
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

def Ftc_LayerNormGradOp : Ftc_Op<"layer_norm_grad", [Pure]> {
  let summary = "Gradients of layer_norm for its input, scale and shift";
  let description = [{
    Recomputes the statistics from `input`.

    ```mlir
    %dx, %dg, %db = ftc.layer_norm_grad %x, %g, %dy {eps = 1.0e-12 : f64}
        : (tensor<8x768xf32>, tensor<768xf32>, tensor<8x768xf32>) -> (tensor<8x768xf32>, tensor<768xf32>, tensor<768xf32>)
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, Ftc_F32Tensor:$gamma,
                   Ftc_F32Tensor:$grad, F64Attr:$eps);
  let results = (outs Ftc_F32Tensor:$input_grad, Ftc_F32Tensor:$gamma_grad,
                 Ftc_F32Tensor:$beta_grad);
  let assemblyFormat = "$input `,` $gamma `,` $grad attr-dict `:` functional-type(operands, results)";
}

def Ftc_TransposeOp : Ftc_Op<"transpose", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_CacheableWith<["keepsExamplesContiguous"]>, Ftc_PluginBuildable]> {
  let summary = "Permutes the axes";
  let description = [{
    `result.shape[i] = input.shape[perm[i]]`.

    ```mlir
    %t = ftc.transpose %x {perm = array<i64: 0, 2, 1, 3>} : tensor<8x128x12x64xf32> -> tensor<8x12x128x64xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Ftc_BatchMatmulOp : Ftc_Op<"batch_matmul", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable]> {
  let summary = "Matrix products over identical leading batch axes";
  let description = [{
    `op(lhs)` is `[..., M, K]` and `op(rhs)` `[..., K, N]`, where `op`
    transposes the last two axes when `transpose_lhs` / `transpose_rhs` is
    set; the result is `[..., M, N]`.

    ```mlir
    %s = ftc.batch_matmul %q, %k {transpose_rhs = 1 : i64} : (tensor<8x12x128x64xf32>, tensor<8x12x128x64xf32>) -> tensor<8x12x128x128xf32>
    ```
  }];
  // i64 flags (0/1) rather than unit attributes: plugins pass attributes
  // through the C ABI, which has integers but no booleans.
  let arguments = (ins Ftc_F32Tensor:$lhs, Ftc_F32Tensor:$rhs,
                   DefaultValuedAttr<I64Attr, "0">:$transpose_lhs,
                   DefaultValuedAttr<I64Attr, "0">:$transpose_rhs);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Ftc_StridedBatchMatmulOp : Ftc_Op<"strided_batch_matmul", [Pure]> {
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
  let arguments = (ins Ftc_F32Tensor:$lhs, Ftc_F32Tensor:$rhs,
                   DenseI64ArrayAttr:$lhs_perm, DenseI64ArrayAttr:$rhs_perm,
                   DenseI64ArrayAttr:$result_perm);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Ftc_MaskedSoftmaxOp : Ftc_Op<"masked_softmax", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable]> {
  let summary = "Scaled softmax over the last axis with an optional key mask";
  let description = [{
    `softmax(scale · input + m)` where `m` is 0 where `mask` ≠ 0 and the
    lowest f32 where `mask` = 0. `input` is `[B, ..., S]`, `mask` i32
    `[B, S]`, broadcast over the middle axes (attention scores and an
    attention mask).

    ```mlir
    %p = ftc.masked_softmax %scores, %mask {scale = 0.125 : f64} : (tensor<8x12x128x128xf32>, tensor<8x128xi32>) -> tensor<8x12x128x128xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, Optional<Ftc_LabelTensor>:$mask,
                   F64Attr:$scale);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input (`,` $mask^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Ftc_SoftmaxGradOp : Ftc_Op<"softmax_grad", [Pure, AllTypesMatch<["output", "grad"]>,
                                               InferTypeOpAdaptor]> {
  let summary = "Gradient of a scaled softmax, from its output";
  let description = [{
    `scale · output · (grad − Σ_last(grad · output))`.

    ```mlir
    %dx = ftc.softmax_grad %p, %dp {scale = 0.125 : f64} : tensor<8x12x128x128xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$output, Ftc_F32Tensor:$grad, F64Attr:$scale);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$output `,` $grad attr-dict `:` type($output)";
}

def Ftc_TanhOp : Ftc_UnaryOp<"tanh", [Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable]> {
  let summary = "Hyperbolic tangent";
  let description = [{
    ```mlir
    %y = ftc.tanh %x : tensor<8x768xf32>
    ```
  }];
}

def Ftc_TanhGradOp : Ftc_Op<"tanh_grad", [Pure, AllTypesMatch<["output", "grad"]>,
                                         InferTypeOpAdaptor]> {
  let summary = "Gradient of tanh, from its output: grad · (1 − output²)";
  let description = [{
    ```mlir
    %dx = ftc.tanh_grad %y, %dy : tensor<8x768xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$output, Ftc_F32Tensor:$grad);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$output `,` $grad attr-dict `:` type($output)";
}

def Ftc_DropoutOp : Ftc_Op<"dropout", [InferTypeOpAdaptor, Ftc_Vjp, Ftc_CacheableWith<["isDeterministic"]>, DeclareOpInterfaceMethods<Ftc_TrainOnlyOpInterface>, Ftc_PluginBuildable]> {
  let summary = "Inverted dropout with a counter-based, reproducible mask";
  let description = [{
    Zeroes each element with probability `p` and scales the rest by
    `1/(1-p)`. The mask is a pure function of (run seed, step, `stream`,
    element index), so the backward pass regenerates it instead of storing
    it, and a resumed run draws the same masks. `@eval_step` drops it.
    Plugins leave `stream` out; the host numbers dropout ops.

    ```mlir
    %y = ftc.dropout %x {p = 1.0e-01 : f64, stream = 3 : i64} : tensor<8x128x768xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, F64Attr:$p, I64Attr:$stream);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Ftc_DropoutGradOp : Ftc_Op<"dropout_grad", [Pure, InferTypeOpAdaptor]> {
  let summary = "Gradient of dropout: the same mask applied to the gradient";
  let description = [{
    ```mlir
    %dx = ftc.dropout_grad %dy {p = 1.0e-01 : f64, stream = 3 : i64} : tensor<8x128x768xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$grad, F64Attr:$p, I64Attr:$stream);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad)";
}

def Ftc_SelectOp : Ftc_Op<"select", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_CacheableWith<["keepsExamplesContiguous"]>, Ftc_PluginBuildable]> {
  let summary = "One index along an axis, which is removed";
  let description = [{
    ```mlir
    %cls = ftc.select %h {axis = 1 : i64, index = 0 : i64} : tensor<8x128x768xf32> -> tensor<8x768xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, I64Attr:$axis, I64Attr:$index);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Ftc_SelectGradOp : Ftc_Op<"select_grad", [Pure]> {
  let summary = "Gradient of select: zeros with the gradient at the index";
  let description = [{
    ```mlir
    %dh = ftc.select_grad %dcls {axis = 1 : i64, index = 0 : i64} : tensor<8x768xf32> -> tensor<8x128x768xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$grad, I64Attr:$axis, I64Attr:$index);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Gradient accumulation (train.grad_accum > 1)
//===----------------------------------------------------------------------===//

def Ftc_GradAccumulatorOp : Ftc_Op<"grad_accumulator", [Pure]> {
  let summary = "The persistent gradient accumulator of a parameter";
  let description = [{
    Reads `<name>.grad_accum`, a persistent buffer shaped like the parameter
    `name` that sums its gradient over the micro-batches of one optimizer
    step. `@train_step` adds into it (`ftc.accumulate_grad`) and
    `@optimizer_step` reads it as the gradient.

    ```mlir
    %acc = ftc.grad_accumulator "fc.weight" : tensor<10x256xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
}

def Ftc_AccumulateGradOp : Ftc_Op<"accumulate_grad", [MemoryEffects<[MemWrite]>,
                                                     AllTypesMatch<["accumulator", "grad"]>]> {
  let summary = "In place: accumulator = keep ? accumulator + grad : grad";
  let description = [{
    `keep` is the runtime scalar `accum_keep`: 0 on the first micro-batch of
    an optimizer step (the accumulator is overwritten, so it never needs
    zeroing), 1 on the others.

    ```mlir
    ftc.accumulate_grad %acc, %g, %keep : tensor<10x256xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$accumulator, Ftc_F32Tensor:$grad,
                   Ftc_ScalarF32:$keep);
  let assemblyFormat = "$accumulator `,` $grad `,` $keep attr-dict `:` type($grad)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Optimizer updates (in place on the parameter and its state)
//===----------------------------------------------------------------------===//

def Ftc_SgdUpdateOp : Ftc_Op<"optim.sgd", [MemoryEffects<[MemWrite]>,
                                            AllTypesMatch<["param", "grad"]>]> {
  let summary = "In-place SGD step (momentum, dampening, Nesterov, weight decay)";
  let description = [{
    Updates the parameter read by `param` (an `ftc.param`) with `grad`, as
    `torch.optim.SGD`. The learning rate is `lr · lr_scale` (layer-wise
    decay); with `clip`, the gradient is first multiplied by that factor
    (global-norm clipping). With `momentum` > 0 the state `<name>.momentum_buffer`
    is kept. `lr` and `step` are runtime scalars. With `own_step`, the
    update counts its own steps in the state `<name>.step` (as PyTorch's
    per-parameter `state['step']`) instead of reading `step`: a parameter
    that starts training later (gradual unfreezing) starts at step 1.

    ```mlir
    ftc.optim.sgd %w, %g, %lr, %step {momentum = 0.9 : f64, dampening = 0.0 : f64,
        weight_decay = 0.0 : f64, nesterov = false} : tensor<10x256xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$param, Ftc_F32Tensor:$grad,
                   Ftc_ScalarF32:$lr, Ftc_ScalarF32:$step,
                   Optional<Ftc_ScalarF32>:$grad_scale, F64Attr:$momentum,
                   F64Attr:$dampening, F64Attr:$weight_decay, BoolAttr:$nesterov,
                   DefaultValuedAttr<F64Attr, "1.0">:$lr_scale,
                   DefaultValuedAttr<BoolAttr, "false">:$own_step);
  let assemblyFormat = [{
    $param `,` $grad `,` $lr `,` $step (`clip` $grad_scale^)? attr-dict `:` type($param)
  }];
  let hasVerifier = 1;
}

def Ftc_AdamWUpdateOp : Ftc_Op<"optim.adamw", [MemoryEffects<[MemWrite]>,
                                                AllTypesMatch<["param", "grad"]>]> {
  let summary = "In-place AdamW step with decoupled weight decay";
  let description = [{
    As `torch.optim.AdamW`; keeps `<name>.exp_avg` and `<name>.exp_avg_sq`
    (and with `own_step` its own step count `<name>.step`, see
    `ftc.optim.sgd`).

    ```mlir
    ftc.optim.adamw %w, %g, %lr, %step {beta1 = 0.9 : f64, beta2 = 0.999 : f64,
        eps = 1.0e-08 : f64, weight_decay = 0.01 : f64} : tensor<10x256xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$param, Ftc_F32Tensor:$grad,
                   Ftc_ScalarF32:$lr, Ftc_ScalarF32:$step,
                   Optional<Ftc_ScalarF32>:$grad_scale, F64Attr:$beta1,
                   F64Attr:$beta2, F64Attr:$eps, F64Attr:$weight_decay,
                   DefaultValuedAttr<F64Attr, "1.0">:$lr_scale,
                   DefaultValuedAttr<BoolAttr, "false">:$own_step);
  let assemblyFormat = [{
    $param `,` $grad `,` $lr `,` $step (`clip` $grad_scale^)? attr-dict `:` type($param)
  }];
  let hasVerifier = 1;
}

def Ftc_SgdGroupUpdateOp : Ftc_Op<"optim.sgd_group", [MemoryEffects<[MemWrite]>,
                                                      SameVariadicOperandSize]> {
  let summary = "One `ftc.optim.sgd` step over a group of parameters";
  let description = [{
    The updates of several parameters that share every hyperparameter (a
    parameter group, as in PyTorch's optimizers), formed by `ftc-fuse`: the
    runtime runs one vectorised, multi-threaded pass over all of them instead
    of one small kernel each. `params[i]` is updated with `grads[i]` exactly
    as `ftc.optim.sgd` would; `grad_scale` is the clipping factor (a constant
    1 without clipping).

    ```mlir
    ftc.optim.sgd_group (%w, %b), (%gw, %gb), %lr, %step, %clip {momentum = 0.9 : f64,
        dampening = 0.0 : f64, weight_decay = 0.0 : f64, nesterov = false}
        : (tensor<10x256xf32>, tensor<10xf32>), (tensor<10x256xf32>, tensor<10xf32>)
    ```
  }];
  let arguments = (ins Variadic<Ftc_F32Tensor>:$params,
                   Variadic<Ftc_F32Tensor>:$grads, Ftc_ScalarF32:$lr,
                   Ftc_ScalarF32:$step, Ftc_ScalarF32:$grad_scale,
                   F64Attr:$momentum, F64Attr:$dampening, F64Attr:$weight_decay,
                   BoolAttr:$nesterov, DefaultValuedAttr<F64Attr, "1.0">:$lr_scale);
  let assemblyFormat = [{
    `(` $params `)` `,` `(` $grads `)` `,` $lr `,` $step `,` $grad_scale
    attr-dict `:` `(` type($params) `)` `,` `(` type($grads) `)`
  }];
  let hasVerifier = 1;
}

def Ftc_AdamWGroupUpdateOp : Ftc_Op<"optim.adamw_group", [MemoryEffects<[MemWrite]>,
                                                          SameVariadicOperandSize]> {
  let summary = "One `ftc.optim.adamw` step over a group of parameters";
  let description = [{
    As `ftc.optim.sgd_group`, for AdamW (`torch.optim.AdamW`'s multi-tensor
    path: one pass over every tensor of a parameter group).

    ```mlir
    ftc.optim.adamw_group (%w, %b), (%gw, %gb), %lr, %step, %clip {beta1 = 0.9 : f64,
        beta2 = 0.999 : f64, eps = 1.0e-08 : f64, weight_decay = 0.01 : f64}
        : (tensor<10x256xf32>, tensor<10xf32>), (tensor<10x256xf32>, tensor<10xf32>)
    ```
  }];
  let arguments = (ins Variadic<Ftc_F32Tensor>:$params,
                   Variadic<Ftc_F32Tensor>:$grads, Ftc_ScalarF32:$lr,
                   Ftc_ScalarF32:$step, Ftc_ScalarF32:$grad_scale,
                   F64Attr:$beta1, F64Attr:$beta2, F64Attr:$eps,
                   F64Attr:$weight_decay, DefaultValuedAttr<F64Attr, "1.0">:$lr_scale);
  let assemblyFormat = [{
    `(` $params `)` `,` `(` $grads `)` `,` $lr `,` $step `,` $grad_scale
    attr-dict `:` `(` type($params) `)` `,` `(` type($grads) `)`
  }];
  let hasVerifier = 1;
}

def Ftc_GradNormScaleOp : Ftc_Op<"grad_norm_scale", [Pure]> {
  let summary = "Global-norm gradient clipping factor";
  let description = [{
    `min(1, max_norm / (‖(grads...)‖₂ + 1e-6))`, as
    `torch.nn.utils.clip_grad_norm_`; updates multiply their gradient by it.

    ```mlir
    %c = ftc.grad_norm_scale %g0, %g1 {max_norm = 1.0 : f64} : tensor<10x256xf32>, tensor<10xf32>
    ```
  }];
  let arguments = (ins Variadic<Ftc_F32Tensor>:$grads, F64Attr:$max_norm);
  let results = (outs Ftc_ScalarF32:$result);
  let assemblyFormat = "$grads attr-dict `:` type($grads)";
  let hasVerifier = 1;
}

#endif // FTC_OPS
