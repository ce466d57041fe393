//===- FtcGradientOps.td - the backward ops ----------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The ops of the backward pass, emitted by the forward ops' VJPs
// (the family's Ftc*Ops.cpp).
//===----------------------------------------------------------------------===//
#ifndef FTC_GRADIENT_OPS
#define FTC_GRADIENT_OPS

include "ftc/Dialect/Ftc/IR/FtcOpBase.td"

def Ftc_LinearGradDataOp : Ftc_Op<"linear_grad_data", [Pure, InferTypeOpAdaptor, Ftc_Product]> {
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

def Ftc_LinearGradWeightOp : Ftc_Op<"linear_grad_weight", [Pure, InferTypeOpAdaptor, Ftc_Product]> {
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

def Ftc_GeluGradOp : Ftc_ActivationGradOp<"gelu_grad", "gelu"> {
  // The form of the forward gelu (`none`: erf, or `tanh`).
  let arguments = (ins Ftc_F32Tensor:$input, Ftc_F32Tensor:$grad,
                   DefaultValuedStrAttr<StrAttr, "none">:$approximate);
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

def Ftc_SliceGradOp : Ftc_Op<"slice_grad", [Pure]> {
  let summary = "Gradient of slice: zeros with the gradient at its range";
  let description = [{
    ```mlir
    %dqkv = ftc.slice_grad %dq {axis = 1 : i64, start = 0 : i64} : tensor<1024x768xf32> -> tensor<1024x2304xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$grad, I64Attr:$axis, I64Attr:$start);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad) `->` type($result)";
  let hasVerifier = 1;
}

#endif // FTC_GRADIENT_OPS
