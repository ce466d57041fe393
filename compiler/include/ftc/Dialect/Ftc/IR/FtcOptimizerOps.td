//===- FtcOptimizerOps.td - the optimizer ops --------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// In-place updates of parameters and their state, gradient accumulation
// and clipping (ftc-lower-optimizer).
//===----------------------------------------------------------------------===//
#ifndef FTC_OPTIMIZER_OPS
#define FTC_OPTIMIZER_OPS

include "ftc/Dialect/Ftc/IR/FtcOpBase.td"

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

#endif // FTC_OPTIMIZER_OPS
