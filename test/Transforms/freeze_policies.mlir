// RUN: %ftc-opt %s --ftc-apply-freeze | FileCheck %s --check-prefix=NONE
// RUN: %ftc-opt %s --ftc-apply-freeze=policy=none | FileCheck %s --check-prefix=NONE
// RUN: %ftc-opt %s --ftc-apply-freeze=policy=head-only | FileCheck %s --check-prefix=HEAD
// RUN: %ftc-opt %s --ftc-apply-freeze=policy=bitfit | FileCheck %s --check-prefix=BITFIT

// The three fixed policies on one model: every parameter gets an explicit
// `trainable` and the module records the policy.

// NONE: module attributes {ftc.freeze_policy = "none"}
// NONE-LABEL: func.func @forward
// NONE-NEXT: ftc.param "embed.weight" {trainable = true}
// NONE-NEXT: ftc.param "layers.0.weight" {trainable = true}
// NONE-NEXT: ftc.param "layers.0.bias" {trainable = true}
// NONE-NEXT: ftc.param "layers.1.weight" {trainable = true}
// NONE-NEXT: ftc.param "layers.1.bias" {trainable = true}
// NONE-NEXT: ftc.param "bias" {trainable = true}
// NONE-NEXT: ftc.param "layers.1.biased" {trainable = true}
// NONE-NEXT: ftc.param "classifier.weight" {head, trainable = true}
// NONE-NEXT: ftc.param "classifier.bias" {head, trainable = true}

// HEAD: module attributes {ftc.freeze_policy = "head-only"}
// HEAD-LABEL: func.func @forward
// HEAD-NEXT: ftc.param "embed.weight" {trainable = false}
// HEAD-NEXT: ftc.param "layers.0.weight" {trainable = false}
// HEAD-NEXT: ftc.param "layers.0.bias" {trainable = false}
// HEAD-NEXT: ftc.param "layers.1.weight" {trainable = false}
// HEAD-NEXT: ftc.param "layers.1.bias" {trainable = false}
// HEAD-NEXT: ftc.param "bias" {trainable = false}
// HEAD-NEXT: ftc.param "layers.1.biased" {trainable = false}
// HEAD-NEXT: ftc.param "classifier.weight" {head, trainable = true}
// HEAD-NEXT: ftc.param "classifier.bias" {head, trainable = true}

// BitFit trains every bias (a name that is `bias` or ends in `.bias`) and the
// head; `layers.1.biased` is not a bias.
// BITFIT: module attributes {ftc.freeze_policy = "bitfit"}
// BITFIT-LABEL: func.func @forward
// BITFIT-NEXT: ftc.param "embed.weight" {trainable = false}
// BITFIT-NEXT: ftc.param "layers.0.weight" {trainable = false}
// BITFIT-NEXT: ftc.param "layers.0.bias" {trainable = true}
// BITFIT-NEXT: ftc.param "layers.1.weight" {trainable = false}
// BITFIT-NEXT: ftc.param "layers.1.bias" {trainable = true}
// BITFIT-NEXT: ftc.param "bias" {trainable = true}
// BITFIT-NEXT: ftc.param "layers.1.biased" {trainable = false}
// BITFIT-NEXT: ftc.param "classifier.weight" {head, trainable = true}
// BITFIT-NEXT: ftc.param "classifier.bias" {head, trainable = true}
func.func @forward() {
  %e = ftc.param "embed.weight" : tensor<4x4xf32>
  %w0 = ftc.param "layers.0.weight" : tensor<4x4xf32>
  %b0 = ftc.param "layers.0.bias" : tensor<4xf32>
  %w1 = ftc.param "layers.1.weight" : tensor<4x4xf32>
  %b1 = ftc.param "layers.1.bias" : tensor<4xf32>
  %b = ftc.param "bias" : tensor<4xf32>
  %x1 = ftc.param "layers.1.biased" : tensor<4xf32>
  %cw = ftc.param "classifier.weight" {head} : tensor<3x4xf32>
  %cb = ftc.param "classifier.bias" {head} : tensor<3xf32>
  return
}
