//===- FtcOps.td - ftc dialect operations ------------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_OPS
#define FTC_OPS

include "ftc/Dialect/Ftc/IR/FtcDialect.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributes.td"

def Ftc_F32Tensor : RankedTensorOf<[F32]>;
def Ftc_LabelTensor : RankedTensorOf<[I32]>;
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

def Ftc_LinearOp : Ftc_Op<"linear", [Pure, InferTypeOpAdaptor]> {
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

def Ftc_ReluOp : Ftc_UnaryOp<"relu"> {
  let summary = "Rectified linear unit, max(x, 0)";
  let description = [{
    ```mlir
    %y = ftc.relu %x : tensor<32x256xf32>
    ```
  }];
}

def Ftc_GeluOp : Ftc_UnaryOp<"gelu"> {
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

def Ftc_AddOp : Ftc_BinaryOp<"add", [Commutative]> {
  let summary = "Elementwise addition";
  let description = [{
    ```mlir
    %c = ftc.add %a, %b : tensor<4x8xf32>
    ```
  }];
}

def Ftc_SubOp : Ftc_BinaryOp<"sub"> {
  let summary = "Elementwise subtraction";
  let description = [{
    ```mlir
    %c = ftc.sub %a, %b : tensor<4x8xf32>
    ```
  }];
}

def Ftc_MulOp : Ftc_BinaryOp<"mul", [Commutative]> {
  let summary = "Elementwise multiplication";
  let description = [{
    ```mlir
    %c = ftc.mul %a, %b : tensor<4x8xf32>
    ```
  }];
}

def Ftc_ScaleOp : Ftc_Op<"scale", [Pure, InferTypeOpAdaptor]> {
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

def Ftc_FillOp : Ftc_Op<"fill", [Pure]> {
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
    : Ftc_Op<mnemonic, [Pure, InferTypeOpAdaptor]> {
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

def Ftc_BroadcastOp : Ftc_Op<"broadcast", [Pure]> {
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

def Ftc_ReshapeOp : Ftc_Op<"reshape", [Pure, InferTypeOpAdaptor]> {
  let summary = "Same elements, new static shape";
  let description = [{
    ```mlir
    %f = ftc.reshape %x {shape = array<i64: 32, 784>} : tensor<32x28x28xf32> -> tensor<32x784xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Ftc_SoftmaxCrossEntropyOp
    : Ftc_Op<"softmax_cross_entropy", [Pure, DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "Mean cross-entropy of softmax(logits) against class labels";
  let description = [{
    `logits` is `[B, C]`, `labels` `[B]` (i32 in `[0, C)`); the result is the
    scalar `mean_b(logsumexp(logits_b) - logits_b[labels_b])`.

    ```mlir
    %loss = ftc.softmax_cross_entropy %logits, %labels : (tensor<32x10xf32>, tensor<32xi32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$logits, Ftc_LabelTensor:$labels);
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
                   Ftc_ScalarF32:$grad);
  let results = (outs Ftc_F32Tensor:$result);
  let assemblyFormat = "$logits `,` $labels `,` $grad attr-dict `:` functional-type(operands, results)";
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
    `torch.optim.SGD`. With `momentum` > 0 the state `<name>.momentum_buffer`
    is kept. `lr` and `step` are runtime scalars.

    ```mlir
    ftc.optim.sgd %w, %g, %lr, %step {momentum = 0.9 : f64, dampening = 0.0 : f64,
        weight_decay = 0.0 : f64, nesterov = false} : tensor<10x256xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$param, Ftc_F32Tensor:$grad,
                   Ftc_ScalarF32:$lr, Ftc_ScalarF32:$step, F64Attr:$momentum,
                   F64Attr:$dampening, F64Attr:$weight_decay, BoolAttr:$nesterov);
  let assemblyFormat = "$param `,` $grad `,` $lr `,` $step attr-dict `:` type($param)";
  let hasVerifier = 1;
}

def Ftc_AdamWUpdateOp : Ftc_Op<"optim.adamw", [MemoryEffects<[MemWrite]>,
                                                AllTypesMatch<["param", "grad"]>]> {
  let summary = "In-place AdamW step with decoupled weight decay";
  let description = [{
    As `torch.optim.AdamW`; keeps `<name>.exp_avg` and `<name>.exp_avg_sq`.

    ```mlir
    ftc.optim.adamw %w, %g, %lr, %step {beta1 = 0.9 : f64, beta2 = 0.999 : f64,
        eps = 1.0e-08 : f64, weight_decay = 0.01 : f64} : tensor<10x256xf32>
    ```
  }];
  let arguments = (ins Ftc_F32Tensor:$param, Ftc_F32Tensor:$grad,
                   Ftc_ScalarF32:$lr, Ftc_ScalarF32:$step, F64Attr:$beta1,
                   F64Attr:$beta2, F64Attr:$eps, F64Attr:$weight_decay);
  let assemblyFormat = "$param `,` $grad `,` $lr `,` $step attr-dict `:` type($param)";
  let hasVerifier = 1;
}

#endif // FTC_OPS
