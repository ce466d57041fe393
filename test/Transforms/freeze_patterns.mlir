// RUN: %ftc-opt %s '--ftc-apply-freeze=policy=patterns trainable=layers.*.weight' | FileCheck %s --check-prefix=STAR
// RUN: %ftc-opt %s '--ftc-apply-freeze=policy=patterns trainable=encoder.**' | FileCheck %s --check-prefix=DSTAR
// RUN: %ftc-opt %s '--ftc-apply-freeze=policy=patterns trainable=encoder.layer.{0..1}.*,classifier.bias' | FileCheck %s --check-prefix=RANGE
// RUN: %ftc-opt %s '--ftc-apply-freeze=policy=patterns frozen={embed,encoder}.**' | FileCheck %s --check-prefix=ALT
// RUN: %ftc-opt %s '--ftc-apply-freeze=policy=patterns frozen=encoder.*.weight,encoder.layer.{1..2}.**' | FileCheck %s --check-prefix=FROZEN

// Glob patterns select parameters by their dotted names: `*` stays inside one
// component, `**` crosses components, `{a,b}` and `{0..1}` expand. With
// `trainable` the matches train; with `frozen` everything but the matches
// trains.

// `layers.*.weight`: `*` does not cross a dot, so nothing under `encoder.` matches.
// STAR: module attributes {ftc.freeze_policy = "patterns"}
// STAR-LABEL: func.func @forward
// STAR-NEXT: ftc.param "embed.weight" {trainable = false}
// STAR-NEXT: ftc.param "encoder.layer.0.weight" {trainable = false}
// STAR-NEXT: ftc.param "encoder.layer.0.bias" {trainable = false}
// STAR-NEXT: ftc.param "encoder.layer.1.weight" {trainable = false}
// STAR-NEXT: ftc.param "encoder.layer.2.weight" {trainable = false}
// STAR-NEXT: ftc.param "encoder.norm.weight" {trainable = false}
// STAR-NEXT: ftc.param "layers.0.weight" {trainable = true}
// STAR-NEXT: ftc.param "layers.10.weight" {trainable = true}
// STAR-NEXT: ftc.param "classifier.weight" {head, trainable = false}
// STAR-NEXT: ftc.param "classifier.bias" {head, trainable = false}

// `encoder.**` crosses any number of components.
// DSTAR-LABEL: func.func @forward
// DSTAR-NEXT: ftc.param "embed.weight" {trainable = false}
// DSTAR-NEXT: ftc.param "encoder.layer.0.weight" {trainable = true}
// DSTAR-NEXT: ftc.param "encoder.layer.0.bias" {trainable = true}
// DSTAR-NEXT: ftc.param "encoder.layer.1.weight" {trainable = true}
// DSTAR-NEXT: ftc.param "encoder.layer.2.weight" {trainable = true}
// DSTAR-NEXT: ftc.param "encoder.norm.weight" {trainable = true}
// DSTAR-NEXT: ftc.param "layers.0.weight" {trainable = false}
// DSTAR-NEXT: ftc.param "layers.10.weight" {trainable = false}
// DSTAR-NEXT: ftc.param "classifier.weight" {head, trainable = false}
// DSTAR-NEXT: ftc.param "classifier.bias" {head, trainable = false}

// `{0..1}` is the inclusive range 0, 1 (so layer 2 stays frozen); a list of
// two patterns trains the union.
// RANGE-LABEL: func.func @forward
// RANGE-NEXT: ftc.param "embed.weight" {trainable = false}
// RANGE-NEXT: ftc.param "encoder.layer.0.weight" {trainable = true}
// RANGE-NEXT: ftc.param "encoder.layer.0.bias" {trainable = true}
// RANGE-NEXT: ftc.param "encoder.layer.1.weight" {trainable = true}
// RANGE-NEXT: ftc.param "encoder.layer.2.weight" {trainable = false}
// RANGE-NEXT: ftc.param "encoder.norm.weight" {trainable = false}
// RANGE-NEXT: ftc.param "layers.0.weight" {trainable = false}
// RANGE-NEXT: ftc.param "layers.10.weight" {trainable = false}
// RANGE-NEXT: ftc.param "classifier.weight" {head, trainable = false}
// RANGE-NEXT: ftc.param "classifier.bias" {head, trainable = true}

// `frozen={embed,encoder}.**`: the alternatives freeze both trees, the rest trains.
// ALT: module attributes {ftc.freeze_policy = "patterns"}
// ALT-LABEL: func.func @forward
// ALT-NEXT: ftc.param "embed.weight" {trainable = false}
// ALT-NEXT: ftc.param "encoder.layer.0.weight" {trainable = false}
// ALT-NEXT: ftc.param "encoder.layer.0.bias" {trainable = false}
// ALT-NEXT: ftc.param "encoder.layer.1.weight" {trainable = false}
// ALT-NEXT: ftc.param "encoder.layer.2.weight" {trainable = false}
// ALT-NEXT: ftc.param "encoder.norm.weight" {trainable = false}
// ALT-NEXT: ftc.param "layers.0.weight" {trainable = true}
// ALT-NEXT: ftc.param "layers.10.weight" {trainable = true}
// ALT-NEXT: ftc.param "classifier.weight" {head, trainable = true}
// ALT-NEXT: ftc.param "classifier.bias" {head, trainable = true}

// `frozen=encoder.*.weight,...`: `encoder.*.weight` matches only
// `encoder.norm.weight`; the range freezes layers 1 and 2.
// FROZEN-LABEL: func.func @forward
// FROZEN-NEXT: ftc.param "embed.weight" {trainable = true}
// FROZEN-NEXT: ftc.param "encoder.layer.0.weight" {trainable = true}
// FROZEN-NEXT: ftc.param "encoder.layer.0.bias" {trainable = true}
// FROZEN-NEXT: ftc.param "encoder.layer.1.weight" {trainable = false}
// FROZEN-NEXT: ftc.param "encoder.layer.2.weight" {trainable = false}
// FROZEN-NEXT: ftc.param "encoder.norm.weight" {trainable = false}
// FROZEN-NEXT: ftc.param "layers.0.weight" {trainable = true}
// FROZEN-NEXT: ftc.param "layers.10.weight" {trainable = true}
// FROZEN-NEXT: ftc.param "classifier.weight" {head, trainable = true}
// FROZEN-NEXT: ftc.param "classifier.bias" {head, trainable = true}
func.func @forward() {
  %e = ftc.param "embed.weight" : tensor<4x4xf32>
  %w0 = ftc.param "encoder.layer.0.weight" : tensor<4x4xf32>
  %b0 = ftc.param "encoder.layer.0.bias" : tensor<4xf32>
  %w1 = ftc.param "encoder.layer.1.weight" : tensor<4x4xf32>
  %w2 = ftc.param "encoder.layer.2.weight" : tensor<4x4xf32>
  %n = ftc.param "encoder.norm.weight" : tensor<4xf32>
  %l0 = ftc.param "layers.0.weight" : tensor<4x4xf32>
  %l10 = ftc.param "layers.10.weight" : tensor<4x4xf32>
  %cw = ftc.param "classifier.weight" {head} : tensor<3x4xf32>
  %cb = ftc.param "classifier.bias" {head} : tensor<3xf32>
  return
}
