//===- Passes.td - ftc training passes ---------------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_PASSES
#define FTC_PASSES

include "mlir/Pass/PassBase.td"

def FtcApplyFreeze : Pass<"ftc-apply-freeze", "mlir::ModuleOp"> {
  let summary = "Decide which parameters train, from the freeze policy";
  let description = [{
    Sets `trainable = true|false` on every `ftc.param`. Policies: `none`
    (all train), `head-only` (params marked `head`), `bitfit` (biases and
    the head), `patterns` (exactly one of `trainable` / `frozen` glob lists;
    `*` stays within one dotted component, `**` crosses them, `{a,b}` and
    `{0..5}` expand). A pattern that matches no parameter is an error, as is
    a policy that leaves nothing trainable. The decision is recorded on the
    module as `ftc.freeze_policy`.

    Policy `lora` rewrites every `ftc.linear` whose weight `<m>.weight` is a
    targeted module: `y = linear(x, W, b) + (alpha / rank) ·
    linear(linear(dropout(x), <m>.lora_A.weight), <m>.lora_B.weight)`, with
    `lora_A` `[rank, in]` uniform(±1/sqrt(in)) and `lora_B` `[out, rank]`
    zeros, as PEFT initialises them. A target without `.` or wildcards
    matches the last component of a module name (PEFT's rule, e.g. `query`);
    any other target is a glob over the whole module name. Only the LoRA
    parameters and `modules-to-save` (default: the head) train.
  }];
  let options = [
    Option<"policy", "policy", "std::string", /*default=*/"\"none\"",
           "none | head-only | bitfit | patterns | lora">,
    ListOption<"trainable", "trainable", "std::string",
               "Glob patterns of the parameters that train (policy=patterns)">,
    ListOption<"frozen", "frozen", "std::string",
               "Glob patterns of the parameters that are frozen (policy=patterns)">,
    Option<"freezeBelow", "freeze-below", "int64_t", "-1",
           "Also freeze embeddings and layers with an index below this (-1: off)">,
    Option<"loraRank", "lora-rank", "int64_t", "8", "LoRA rank r (policy=lora)">,
    Option<"loraAlpha", "lora-alpha", "double", "16.0",
           "LoRA alpha; the update is scaled by alpha / r (policy=lora)">,
    Option<"loraDropout", "lora-dropout", "double", "0.0",
           "Dropout on the LoRA branch's input (policy=lora)">,
    ListOption<"loraTargets", "lora-targets", "std::string",
               "Modules that get LoRA: last-component names or globs (policy=lora)">,
    ListOption<"modulesToSave", "modules-to-save", "std::string",
               "Globs of parameters that also train (policy=lora; default: the head)">,
    Option<"batchNorm", "batch-norm", "std::string", /*default=*/"\"eval\"",
           "eval: a layer whose parameters are all frozen (batch norm) runs in "
           "its evaluation form in training too; train: it keeps its training form">,
  ];
}

def FtcAutodiff : Pass<"ftc-autodiff", "mlir::ModuleOp"> {
  let summary = "Build train_step (forward + backward) and eval_step";
  let description = [{
    Reverse-mode differentiation of `@forward` with respect to its `loss`
    output. Gradients are built only along paths from a trainable parameter
    to the loss, so the backward pass is pruned below the lowest trainable
    parameter and frozen parameters never get a gradient. `@train_step`
    outputs `loss` and one `grad.<name>` per trainable parameter;
    `@eval_step` is the forward pass with its `loss` and `logits`;
    `@predict_step` the forward pass without the loss (it reads no labels)
    and outputs `logits`, when the model has them.
    `@forward` is removed. With `loss-weight`, the backward pass starts from
    the runtime scalar `ftc.input "loss_weight"` instead of 1: gradient
    accumulation weights each micro-batch's mean loss by its share of the
    examples (or tokens) of the optimizer step.
  }];
  let options = [
    Option<"lossWeight", "loss-weight", "bool", "false",
           "Seed the backward pass with the runtime input loss_weight">,
  ];
  let dependentDialects = ["mlir::func::FuncDialect"];
}

def FtcLowerOptimizer : Pass<"ftc-lower-optimizer", "mlir::ModuleOp"> {
  let summary = "Replace gradient outputs with in-place optimizer updates";
  let description = [{
    Each `ftc.output "grad.<name>"` of `@train_step` becomes an
    `ftc.optim.sgd` or `ftc.optim.adamw` on that parameter. The learning rate
    and the step count are runtime inputs (`ftc.input "lr"`, `"step"`).
    Parameters matching a `no-decay` glob get weight_decay 0. With
    `layer-lr-decay` < 1, the update's `lr_scale` is decay^d, where d counts
    layers down from the head (embeddings deepest). With `clip-grad-norm`,
    one `ftc.grad_norm_scale` over all gradients feeds every update.

    With `grad-accum` > 1 the updates move to a new function
    `@optimizer_step`: `@train_step` adds each gradient into the parameter's
    `ftc.grad_accumulator` (`ftc.accumulate_grad`, overwriting on the first
    micro-batch), and `@optimizer_step` clips and applies the accumulated
    gradients.
  }];
  let options = [
    Option<"optimizer", "optimizer", "std::string", "\"adamw\"", "sgd | adamw">,
    Option<"momentum", "momentum", "double", "0.0", "SGD momentum">,
    Option<"dampening", "dampening", "double", "0.0", "SGD dampening">,
    Option<"nesterov", "nesterov", "bool", "false", "SGD Nesterov momentum">,
    Option<"weightDecay", "weight-decay", "double", "0.0",
           "L2 penalty (SGD) or decoupled weight decay (AdamW)">,
    Option<"beta1", "beta1", "double", "0.9", "AdamW beta1">,
    Option<"beta2", "beta2", "double", "0.999", "AdamW beta2">,
    Option<"eps", "eps", "double", "1e-8", "AdamW epsilon">,
    ListOption<"noDecay", "no-decay", "std::string",
               "Glob patterns of parameters that get no weight decay; @norm: "
               "every normalisation's scale and shift">,
    Option<"layerLrDecay", "layer-lr-decay", "double", "1.0",
           "Layer-wise lr decay: depth d below the head trains at lr * decay^d">,
    Option<"clipGradNorm", "clip-grad-norm", "double", "0.0",
           "Clip the global gradient norm to this value (0: off)">,
    Option<"perParamStep", "per-param-step", "bool", "false",
           "Each update counts its own steps (gradual unfreezing)">,
    Option<"gradAccum", "grad-accum", "int64_t", "1",
           "Micro-batches per optimizer step: with more than one, @train_step "
           "accumulates gradients and @optimizer_step applies them">,
  ];
}

def FtcFuse : Pass<"ftc-fuse", "mlir::ModuleOp"> {
  let summary = "Backend-aware fusions of the step functions";
  let description = [{
    Rewrites groups of ops into ops the runtime executes in one kernel, each
    numerically the same computation. Patterns:

    - `bias-grad`: `ftc.linear_grad_weight %x, %dy` and
      `ftc.reduce_sum %dy {axes = [0]}` (the weight and bias gradients of
      one linear layer) become one `ftc.linear_grad_weight_bias`.
  }];
}

def FtcCacheFrozenPrefix : Pass<"ftc-cache-frozen-prefix", "mlir::ModuleOp"> {
  let summary = "Split the frozen, deterministic prefix off @train_step";
  let description = [{
    Finds the ops of `@train_step` that read only dataset features and
    frozen parameters and compute the same result every epoch (no dropout
    with p > 0; values that mix examples end the prefix). When they are at
    least 10% of the step's arithmetic, adds `@prefix_step` (those ops,
    outputting each value the rest of the step reads as `cache.<i>`) and
    `@train_step_cached` (`@train_step` reading those values from the
    runtime inputs `cache.<i>`, without the prefix). Every cached value keeps
    examples contiguous (example i is the i-th of batch-size equal chunks),
    so the runtime stores it per example. `@eval_step` is split the same way
    (`@eval_prefix_step`, `@eval_step_cached`, inputs `eval_cache.<i>`).
    Records the reasons as the module attributes `ftc.frozen_prefix` and
    `ftc.frozen_prefix_eval`.
  }];
}

def FtcMixedPrecision : Pass<"ftc-mixed-precision", "mlir::ModuleOp"> {
  let summary = "Run matrix products on bf16 copies of their operands";
  let description = [{
    `train.precision = "bf16"`: every matrix product with a bf16 form
    (`MatrixProductOpInterface::getMultiplicandOperands`) multiplies bf16
    copies of its f32 operands, made by `ftc.cast` (round to nearest even),
    and still accumulates and returns f32. Each value is cast once, just
    before its first product, and every product of the step that multiplies
    it reads that copy: an activation saved for the backward pass is kept in
    bf16 when only products read it, and its f32 original dies early.
    Parameters (the f32 master weights), gradients, optimizer state,
    normalisations, softmax, losses and the updates stay f32. Records
    `ftc.precision = "bf16"` and the number of casts on the module.
  }];
}

def FtcPlanMemory : Pass<"ftc-plan-memory", "mlir::ModuleOp"> {
  let summary = "Assign every intermediate tensor a slice of one arena";
  let description = [{
    For each step function: liveness over the op order, then first-fit
    placement of every intermediate (all values but `ftc.param` and
    `ftc.input`) in a single arena, reusing space whose value is dead.
    Sets `ftc.offset` on each defining op and `ftc.arena_bytes` on the
    function; the peak is known before anything runs.
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", "64", "Byte alignment of slices">,
  ];
}

#endif // FTC_PASSES
