//===- FtcForwardOps.td - the forward ops ------------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The graph boundary (param, input, output) and the forward compute ops that
// model plugins build (Ftc_PluginBuildable).
//===----------------------------------------------------------------------===//
#ifndef FTC_FORWARD_OPS
#define FTC_FORWARD_OPS

include "ftc/Dialect/Ftc/IR/FtcOpBase.td"

def Ftc_ParamOp : Ftc_Op<"param", [Pure]> {
  let summary = "A named, persistent model parameter";
  let description = [{
    Reads the parameter `name` (its checkpoint name, kept end to end). `init`
    says how a parameter missing from the checkpoint is initialised:
    `zeros`, `ones`, `normal` (mean `init_a`, std `init_b`) or `uniform`
    (`[init_a, init_b)`). `head` marks the task head. `layer`, set by the
    model builder from the family plugin's `layer_of`, is the block the
    parameter belongs to (-1: before every block, the embeddings; absent:
    none), which `freeze_below` and layer-wise lr decay read.
    `ftc-apply-freeze` sets `trainable`.

    ```mlir
    %w = ftc.param "layers.0.weight" {init = "uniform", init_a = -0.03 : f64,
                                      init_b = 0.03 : f64} : tensor<256x784xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, DefaultValuedStrAttr<StrAttr, "zeros">:$init,
                   DefaultValuedAttr<F64Attr, "0.0">:$init_a,
                   DefaultValuedAttr<F64Attr, "0.0">:$init_b,
                   UnitAttr:$head, OptionalAttr<BoolAttr>:$trainable,
                   OptionalAttr<I64Attr>:$layer);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The block the parameter is in, signed (-1: before every block), or
    /// none. (The generated getLayer() reads the i64 as unsigned.)
    std::optional<int64_t> getBlockIndex() {
      if (::mlir::IntegerAttr layer = getLayerAttr())
        return layer.getInt();
      return std::nullopt;
    }
  }];
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

def Ftc_LinearOp : Ftc_Op<"linear", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable, Ftc_Bf16Product]> {
  let summary = "Fully connected layer: input · weightᵀ + bias";
  let description = [{
    `input` is `[B, I]`, `weight` is `[O, I]` (the PyTorch/Hugging Face
    layout), the optional `bias` is `[O]`; the result is `[B, O]`.

    ```mlir
    %y = ftc.linear %x, %w, %b : (tensor<32x784xf32>, tensor<256x784xf32>,
                                  tensor<256xf32>) -> tensor<32x256xf32>
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

def Ftc_ReluOp : Ftc_UnaryOp<"relu", [Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable]> {
  let summary = "Rectified linear unit, max(x, 0)";
  let description = [{
    ```mlir
    %y = ftc.relu %x : tensor<32x256xf32>
    ```
  }];
}

def Ftc_GeluOp : Ftc_UnaryOp<"gelu", [Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable]> {
  let summary = "Gaussian error linear unit, exact (erf) or tanh form";
  let description = [{
    `approximate = "none"` (the default): `0.5 · x · (1 + erf(x / √2))`, as
    PyTorch's default `gelu` (BERT). `approximate = "tanh"`:
    `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))`, as
    `gelu(x, approximate="tanh")` and Hugging Face's `gelu_new` (GPT-2).

    ```mlir
    %y = ftc.gelu %x : tensor<32x256xf32>
    %z = ftc.gelu %x {approximate = "tanh"} : tensor<32x256xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input,
                   DefaultValuedStrAttr<StrAttr, "none">:$approximate);
  let hasVerifier = 1;
}

def Ftc_AddOp : Ftc_BinaryOp<"add", [Commutative, Ftc_Vjp, Ftc_CacheableWith<["keepsExamplesContiguous"]>, Ftc_PluginBuildable]> {
  let summary = "Elementwise addition, with broadcasting";
  let description = [{
    ```mlir
    %c = ftc.add %a, %b : tensor<4x8xf32>
    %d = ftc.add %a, %row : (tensor<4x8xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
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
  let summary = "A tensor (f32, or i32 for an integral value) with every element equal to `value`";
  let description = [{
    ```mlir
    %one = ftc.fill {value = 1.0 : f64} : tensor<f32>
    ```
  }];
  let arguments = (ins F64Attr:$value);
  let results = (outs Ftc_DataTensor:$result);
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

def Ftc_LayerNormOp : Ftc_Op<"layer_norm", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable, DeclareOpInterfaceMethods<Ftc_NormalizationOpInterface>]> {
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

def Ftc_BatchMatmulOp : Ftc_Op<"batch_matmul", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable, Ftc_Bf16Product]> {
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
  let arguments = (ins Ftc_ProductTensor:$lhs, Ftc_ProductTensor:$rhs,
                   DefaultValuedAttr<I64Attr, "0">:$transpose_lhs,
                   DefaultValuedAttr<I64Attr, "0">:$transpose_rhs);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Ftc_MaskedSoftmaxOp : Ftc_Op<"masked_softmax", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable]> {
  let summary = "Scaled softmax over the last axis with optional key and causal masks";
  let description = [{
    `softmax(scale · input + m)` where `m` is 0 where `mask` ≠ 0 and the
    lowest f32 where `mask` = 0. `input` is `[B, ..., S]`, `mask` i32
    `[B, S]`, broadcast over the middle axes (attention scores and an
    attention mask). With `causal = 1`, `input` is `[..., Q, K]` (K ≥ Q)
    and query `q` sees only the keys `k ≤ q + K − Q`: the others are
    replaced by the lowest f32 before the key mask is added, as Hugging
    Face's GPT-2 does. A general additive mask (a bias per query and key:
    ALiBi, T5's relative positions) is a broadcasting `ftc.add` of it to
    the scaled scores before this op (with `scale = 1.0`).

    ```mlir
    %p = ftc.masked_softmax %scores, %mask {scale = 0.125 : f64} : (tensor<8x12x128x128xf32>, tensor<8x128xi32>) -> tensor<8x12x128x128xf32>
    %c = ftc.masked_softmax %scores {scale = 0.125 : f64, causal = 1} : (tensor<8x12x128x128xf32>) -> tensor<8x12x128x128xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, Optional<Ftc_LabelTensor>:$mask,
                   F64Attr:$scale, DefaultValuedAttr<I64Attr, "0">:$causal);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input (`,` $mask^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Ftc_TanhOp : Ftc_UnaryOp<"tanh", [Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable]> {
  let summary = "Hyperbolic tangent";
  let description = [{
    ```mlir
    %y = ftc.tanh %x : tensor<8x768xf32>
    ```
  }];
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

//===----------------------------------------------------------------------===//
// Selection: compare, where, slice, concat (FtcSelectionOps.cpp)
//===----------------------------------------------------------------------===//

def Ftc_CompareOp : Ftc_Op<"compare", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_CacheableWith<["keepsExamplesContiguous"]>, Ftc_PluginBuildable]> {
  let summary = "Element-wise comparison with broadcasting: 1 where it holds, else 0";
  let description = [{
    `predicate` is one of `eq`, `ne`, `lt`, `le`, `gt`, `ge`. The operands
    have one element type (f32 or i32) and one rank, and broadcast as
    `ftc.add`'s do; the result is i32. Its gradient is zero (a step
    function), so a comparison on a trainable path passes none.

    ```mlir
    %pad = ftc.compare %ids, %eos {predicate = "eq"} : (tensor<8x128xi32>, tensor<1x1xi32>) -> tensor<8x128xi32>
    ```
  }];
  let arguments = (ins Ftc_DataTensor:$lhs, Ftc_DataTensor:$rhs,
                   StrAttr:$predicate);
  let results = (outs Ftc_LabelTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Ftc_WhereOp : Ftc_Op<"where", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_CacheableWith<["keepsExamplesContiguous"]>, Ftc_PluginBuildable]> {
  let summary = "Picks from two tensors by a condition, with broadcasting";
  let description = [{
    `result = condition ≠ 0 ? on_true : on_false` element-wise, as
    `torch.where`; the three operands have one rank and broadcast as
    `ftc.add`'s do. The gradient goes to the operand that was picked.
    With an f32 `on_true` of ones and `on_false` of zeros it converts a
    mask to f32.

    ```mlir
    %y = ftc.where %keep, %x, %zero : (tensor<8x128xi32>, tensor<8x128xf32>, tensor<1x1xf32>) -> tensor<8x128xf32>
    ```
  }];
  let arguments = (ins Ftc_LabelTensor:$condition, Ftc_F32Tensor:$on_true,
                   Ftc_F32Tensor:$on_false);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$condition `,` $on_true `,` $on_false attr-dict `:` functional-type(operands, results)";
}

def Ftc_SliceOp : Ftc_Op<"slice", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_CacheableWith<["keepsExamplesContiguous"]>, Ftc_PluginBuildable]> {
  let summary = "A contiguous range along one axis";
  let description = [{
    Elements `[start, start + size)` of axis `axis`; the other axes are
    kept whole (GPT-2's fused query/key/value projection split in three).

    ```mlir
    %q = ftc.slice %qkv {axis = 1 : i64, start = 0 : i64, size = 768 : i64} : tensor<1024x2304xf32> -> tensor<1024x768xf32>
    ```
  }];
  let arguments = (ins Ftc_DataTensor:$input, I64Attr:$axis, I64Attr:$start,
                   I64Attr:$size);
  let results = (outs Ftc_DataTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Ftc_ConcatOp : Ftc_Op<"concat", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_CacheableWith<["keepsExamplesContiguous"]>, Ftc_PluginBuildable]> {
  let summary = "Joins tensors along one axis";
  let description = [{
    The operands have one element type and agree on every axis but `axis`.

    ```mlir
    %c = ftc.concat %a, %b {axis = 1 : i64} : (tensor<8x127xf32>, tensor<8x1xf32>) -> tensor<8x128xf32>
    ```
  }];
  let arguments = (ins Variadic<Ftc_DataTensor>:$inputs, I64Attr:$axis);
  let results = (outs Ftc_DataTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
}


//===----------------------------------------------------------------------===//
// Convolutional networks: convolution, pooling, batch normalisation
//===----------------------------------------------------------------------===//


def Ftc_Conv2dOp : Ftc_Op<"conv2d", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable, Ftc_Product]> {
  let summary = "2-D convolution (cross-correlation) over NCHW, with groups";
  let description = [{
    As `torch.nn.functional.conv2d`: `input` [N, C, H, W], `weight`
    [O, C / groups, kh, kw], optional `bias` [O]; the result is
    [N, O, Ho, Wo] with Ho = (H + pad_top + pad_bottom − dilation·(kh − 1)
    − 1) / stride + 1 (rounded down). `groups` = C = O is a depthwise
    convolution. The tensors are NCHW in the IR; the CPU kernels run in
    oneDNN's blocked layouts.

    ```mlir
    %y = ftc.conv2d %x, %w {stride = array<i64: 2, 2>, padding = array<i64: 3, 3>}
        : (tensor<8x3x224x224xf32>, tensor<64x3x7x7xf32>) -> tensor<8x64x112x112xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, Ftc_F32Tensor:$weight,
                   Optional<Ftc_F32Tensor>:$bias, Ftc_WindowStride:$stride,
                   Ftc_WindowPadding:$padding, Ftc_WindowStride:$dilation,
                   DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

class Ftc_Pool2dOp<string mnemonic, string what, list<Trait> traits = []>
    : Ftc_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable])> {
  let summary = what # " pooling over 2-D windows of NCHW";
  let arguments = (ins Ftc_F32Tensor:$input, DenseI64ArrayAttr:$kernel,
                   Ftc_WindowStride:$stride, Ftc_WindowPadding:$padding,
                   DefaultValuedAttr<I64Attr, "1">:$count_include_pad);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Ftc_MaxPool2dOp : Ftc_Pool2dOp<"max_pool2d", "Max"> {
  let description = [{
    As `torch.nn.functional.max_pool2d` (floor mode): padding counts as
    −∞; the gradient goes to the first maximum of each window, in row-major
    window order, as PyTorch's CPU kernel. `count_include_pad` is unused.

    ```mlir
    %y = ftc.max_pool2d %x {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>,
        padding = array<i64: 1, 1>} : tensor<8x64x112x112xf32> -> tensor<8x64x56x56xf32>
    ```
  }];
}

def Ftc_AvgPool2dOp : Ftc_Pool2dOp<"avg_pool2d", "Average"> {
  let description = [{
    As `torch.nn.functional.avg_pool2d` (floor mode): with
    `count_include_pad = 1` (the default) the divisor is the whole window, padding included,
    else the number of input elements in it. (Global average pooling is
    `ftc.reduce_mean` over axes 2 and 3.)

    ```mlir
    %y = ftc.avg_pool2d %x {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>}
        : tensor<8x64x56x56xf32> -> tensor<8x64x28x28xf32>
    ```
  }];
}

def Ftc_Relu6Op : Ftc_UnaryOp<"relu6", [Ftc_Vjp, Ftc_Cacheable, Ftc_PluginBuildable]> {
  let summary = "ReLU capped at 6, min(max(x, 0), 6)";
  let description = [{
    As `torch.nn.ReLU6` (MobileNet, EfficientNet-Lite); the gradient is 1
    strictly between 0 and 6, else 0.

    ```mlir
    %y = ftc.relu6 %x : tensor<8x32x112x112xf32>
    ```
  }];
}

def Ftc_RunningStatOp : Ftc_Op<"running_stat", [Pure, Ftc_PluginBuildable]> {
  let summary = "A named, persistent running statistic (batch norm's mean and variance)";
  let description = [{
    Model state that is not learned: saved in the checkpoint and loaded
    from a pretrained one like a parameter, but never trainable, never given
    a gradient, optimizer state or weight decay. `ftc.batch_norm` updates
    it in place in training; evaluation reads it. `init` is `zeros` or
    `ones` (PyTorch's running mean and variance start there).

    ```mlir
    %rm = ftc.running_stat "bn1.running_mean" {init = "zeros"} : tensor<64xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, DefaultValuedStrAttr<StrAttr, "zeros">:$init);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Ftc_BatchNormOp : Ftc_Op<"batch_norm", [InferTypeOpAdaptor, Ftc_Vjp, Ftc_PluginBuildable,
    DeclareOpInterfaceMethods<Ftc_TrainOnlyOpInterface, ["evalWhenFrozen"]>,
    DeclareOpInterfaceMethods<Ftc_NormalizationOpInterface>]> {
  let summary = "Batch normalisation in training: batch statistics, running statistics updated";
  let description = [{
    As `torch.nn.BatchNorm2d` (or `1d`) in training mode over `input`
    [N, C, ...] (channel axis 1): normalises with the batch's mean and
    biased variance per channel, scales by `gamma` [C] and shifts by `beta`
    [C], and updates the running statistics in place (which must be
    `ftc.running_stat`s): `r = (1 − momentum)·r + momentum·batch`, the
    variance unbiased (·n/(n−1)). Not pure: it writes its statistics.
    Evaluation programs use `ftc.batch_norm_inference`, as does training
    for a frozen one under `freeze.batch_norm = "eval"` (the default).

    ```mlir
    %y = ftc.batch_norm %x, %g, %b, %rm, %rv {eps = 1.0e-05 : f64, momentum = 0.1 : f64}
        : (tensor<8x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<8x64x56x56xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, Ftc_F32Tensor:$gamma,
                   Ftc_F32Tensor:$beta, Ftc_F32Tensor:$running_mean,
                   Ftc_F32Tensor:$running_var,
                   DefaultValuedAttr<F64Attr, "1.0e-5">:$eps,
                   DefaultValuedAttr<F64Attr, "0.1">:$momentum);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input `,` $gamma `,` $beta `,` $running_mean `,` $running_var attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Ftc_BatchNormInferenceOp : Ftc_Op<"batch_norm_inference", [Pure, InferTypeOpAdaptor, Ftc_Vjp, Ftc_Cacheable,
    Ftc_PluginBuildable, DeclareOpInterfaceMethods<Ftc_NormalizationOpInterface>]> {
  let summary = "Batch normalisation with the running statistics (evaluation, frozen layers)";
  let description = [{
    `(input − mean) / sqrt(var + eps) · gamma + beta` per channel (axis 1),
    as `torch.nn.BatchNorm2d` in eval mode. Differentiable in `input`,
    `gamma` and `beta` (a frozen layer between trainable ones passes the
    gradient through); the statistics get none.

    ```mlir
    %y = ftc.batch_norm_inference %x, %g, %b, %rm, %rv {eps = 1.0e-05 : f64}
        : (tensor<8x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<8x64x56x56xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, Ftc_F32Tensor:$gamma,
                   Ftc_F32Tensor:$beta, Ftc_F32Tensor:$running_mean,
                   Ftc_F32Tensor:$running_var,
                   DefaultValuedAttr<F64Attr, "1.0e-5">:$eps);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input `,` $gamma `,` $beta `,` $running_mean `,` $running_var attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // FTC_FORWARD_OPS
