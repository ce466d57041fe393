//===- FtcGradientOps.td - the backward ops ----------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The ops of the backward pass, emitted by the forward ops' VJPs
// (the family's Ftc*Ops.cpp).
//===----------------------------------------------------------------------===//
#ifndef FTC_GRADIENT_OPS
#define FTC_GRADIENT_OPS

include "ftc/Dialect/Ftc/IR/FtcOpBase.td"

def Ftc_LinearGradDataOp : Ftc_Op<"linear_grad_data", [Pure, InferTypeOpAdaptor, Ftc_Bf16Product]> {
  let summary = "Gradient of a linear layer with respect to its input";
  let description = [{
    `result = grad · weight`: `grad` is `[B, O]`, `weight` `[O, I]`,
    the result `[B, I]`.

    ```mlir
    %dx = ftc.linear_grad_data %dy, %w : (tensor<32x10xf32>, tensor<10x256xf32>) -> tensor<32x256xf32>
    ```
  }];
  let arguments = (ins Ftc_ProductTensor:$grad, Ftc_ProductTensor:$weight);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $weight attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Ftc_LinearGradWeightOp : Ftc_Op<"linear_grad_weight", [Pure, InferTypeOpAdaptor, Ftc_Bf16Product]> {
  let summary = "Gradient of a linear layer with respect to its weight";
  let description = [{
    `result = gradᵀ · input`: `input` is `[B, I]`, `grad` `[B, O]`, the
    result `[O, I]`.

    ```mlir
    %dw = ftc.linear_grad_weight %x, %dy : (tensor<32x256xf32>, tensor<32x10xf32>) -> tensor<10x256xf32>
    ```
  }];
  let arguments = (ins Ftc_ProductTensor:$input, Ftc_ProductTensor:$grad);
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


def Ftc_Conv2dGradInputOp : Ftc_Op<"conv2d_grad_input", [Pure, Ftc_Product]> {
  let summary = "Gradient of a 2-D convolution with respect to its input";
  let description = [{
    The transposed convolution of `grad` [N, O, Ho, Wo] with `weight`; the
    result type is the input's (the geometry attributes are the forward's).

    ```mlir
    %dx = ftc.conv2d_grad_input %dy, %w {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>}
        : (tensor<8x128x28x28xf32>, tensor<128x64x3x3xf32>) -> tensor<8x64x56x56xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$grad, Ftc_F32Tensor:$weight,
                   Ftc_WindowStride:$stride, Ftc_WindowPadding:$padding,
                   Ftc_WindowStride:$dilation, DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $weight attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Ftc_Conv2dGradWeightOp : Ftc_Op<"conv2d_grad_weight", [Pure, Ftc_Product]> {
  let summary = "Gradient of a 2-D convolution with respect to its weight";
  let description = [{
    Correlates `input` [N, C, H, W] with `grad` [N, O, Ho, Wo]; the result
    type is the weight's. (The bias gradient is `ftc.reduce_sum` of `grad`
    over axes 0, 2 and 3.)

    ```mlir
    %dw = ftc.conv2d_grad_weight %x, %dy {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>}
        : (tensor<8x64x56x56xf32>, tensor<8x128x28x28xf32>) -> tensor<128x64x3x3xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, Ftc_F32Tensor:$grad,
                   Ftc_WindowStride:$stride, Ftc_WindowPadding:$padding,
                   Ftc_WindowStride:$dilation, DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input `,` $grad attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Ftc_MaxPool2dGradOp : Ftc_Op<"max_pool2d_grad", [Pure]> {
  let summary = "Gradient of max_pool2d: each output gradient to its window's first maximum";
  let description = [{
    Recomputes the maxima from `input` instead of storing indices.

    ```mlir
    %dx = ftc.max_pool2d_grad %x, %dy {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>,
        padding = array<i64: 1, 1>} : (tensor<8x64x112x112xf32>, tensor<8x64x56x56xf32>) -> tensor<8x64x112x112xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, Ftc_F32Tensor:$grad,
                   DenseI64ArrayAttr:$kernel, Ftc_WindowStride:$stride,
                   Ftc_WindowPadding:$padding);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input `,` $grad attr-dict `:` functional-type(operands, results)";
}

def Ftc_AvgPool2dGradOp : Ftc_Op<"avg_pool2d_grad", [Pure]> {
  let summary = "Gradient of avg_pool2d: each output gradient spread over its window";
  let description = [{
    ```mlir
    %dx = ftc.avg_pool2d_grad %dy {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>}
        : tensor<8x64x28x28xf32> -> tensor<8x64x56x56xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$grad, DenseI64ArrayAttr:$kernel,
                   Ftc_WindowStride:$stride, Ftc_WindowPadding:$padding,
                   DefaultValuedAttr<I64Attr, "1">:$count_include_pad);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$grad attr-dict `:` type($grad) `->` type($result)";
}

def Ftc_Relu6GradOp : Ftc_ActivationGradOp<"relu6_grad", "relu6">;

def Ftc_BatchNormGradOp : Ftc_Op<"batch_norm_grad", [Pure]> {
  let summary = "Gradients of batch_norm (training mode) for its input, scale and shift";
  let description = [{
    Recomputes the batch statistics from `input`.

    ```mlir
    %dx, %dg, %db = ftc.batch_norm_grad %x, %g, %dy {eps = 1.0e-05 : f64}
        : (tensor<8x64x56x56xf32>, tensor<64xf32>, tensor<8x64x56x56xf32>) -> (tensor<8x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, Ftc_F32Tensor:$gamma,
                   Ftc_F32Tensor:$grad, F64Attr:$eps);
  let results = (outs Ftc_F32Tensor:$input_grad, Ftc_F32Tensor:$gamma_grad,
                 Ftc_F32Tensor:$beta_grad);
  let assemblyFormat = "$input `,` $gamma `,` $grad attr-dict `:` functional-type(operands, results)";
}

def Ftc_BatchNormInferenceGradOp : Ftc_Op<"batch_norm_inference_grad", [Pure]> {
  let summary = "Gradients of batch_norm_inference for its input, scale and shift";
  let description = [{
    With the running statistics fixed: `dx = dy·gamma/sqrt(var + eps)`,
    `dgamma = Σ dy·x̂`, `dbeta = Σ dy` (sums over every axis but 1).

    ```mlir
    %dx, %dg, %db = ftc.batch_norm_inference_grad %x, %g, %rm, %rv, %dy {eps = 1.0e-05 : f64}
        : (tensor<8x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<8x64x56x56xf32>)
        -> (tensor<8x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, Ftc_F32Tensor:$gamma,
                   Ftc_F32Tensor:$running_mean, Ftc_F32Tensor:$running_var,
                   Ftc_F32Tensor:$grad, F64Attr:$eps);
  let results = (outs Ftc_F32Tensor:$input_grad, Ftc_F32Tensor:$gamma_grad,
                 Ftc_F32Tensor:$beta_grad);
  let assemblyFormat = "$input `,` $gamma `,` $running_mean `,` $running_var `,` $grad attr-dict `:` functional-type(operands, results)";
}

#endif // FTC_GRADIENT_OPS
