// RUN: not %ftc-opt %s '--ftc-apply-freeze=policy=patterns trainable=classifier.weight,decoder.**' 2>&1 | FileCheck %s --check-prefix=NOMATCH
// RUN: not %ftc-opt %s '--ftc-apply-freeze=policy=patterns trainable=layers.*' 2>&1 | FileCheck %s --check-prefix=NOMATCH-STAR
// RUN: not %ftc-opt %s '--ftc-apply-freeze=policy=patterns frozen=classifier.{bais,wieght}' 2>&1 | FileCheck %s --check-prefix=NOMATCH-ALT
// RUN: not %ftc-opt %s '--ftc-apply-freeze=policy=patterns frozen=layers.{1..3}.**' 2>&1 | FileCheck %s --check-prefix=NOMATCH-RANGE
// RUN: not %ftc-opt %s '--ftc-apply-freeze=policy=patterns' 2>&1 | FileCheck %s --check-prefix=NOLIST
// RUN: not %ftc-opt %s '--ftc-apply-freeze=policy=patterns trainable=** frozen=classifier.**' 2>&1 | FileCheck %s --check-prefix=NOLIST
// RUN: not %ftc-opt %s '--ftc-apply-freeze=policy=patterns frozen=**' 2>&1 | FileCheck %s --check-prefix=ALLFROZEN
// RUN: not %ftc-opt %s '--ftc-apply-freeze=policy=patterns frozen=layers.*.*,classifier.*' 2>&1 | FileCheck %s --check-prefix=ALLFROZEN
// RUN: not %ftc-opt %s '--ftc-apply-freeze=policy=patterns trainable=layers.{0' 2>&1 | FileCheck %s --check-prefix=BADGLOB
// RUN: not %ftc-opt %s --ftc-apply-freeze=policy=everything 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// Freeze policy errors on one small model; every run fails and prints no IR.

// A pattern that matches nothing is an error, even next to one that matches.
// NOMATCH: error: freeze pattern 'decoder.**' matches no parameter of the model
// NOMATCH-NOT: module attributes
// `*` does not cross a dot, so `layers.*` matches no `layers.N.weight`.
// NOMATCH-STAR: error: freeze pattern 'layers.*' matches no parameter of the model
// No alternative of the braces matches.
// NOMATCH-ALT: error: freeze pattern 'classifier.{bais,wieght}' matches no parameter of the model
// The range does not include layer 0.
// NOMATCH-RANGE: error: freeze pattern 'layers.{1..3}.**' matches no parameter of the model
// `patterns` needs exactly one of the two lists: neither, or both, is an error.
// NOLIST: error: freeze policy 'patterns' needs exactly one of 'trainable' and 'frozen'
// Freezing every parameter leaves nothing to train.
// ALLFROZEN: error: freeze policy 'patterns' leaves no parameter trainable
// BADGLOB: error: invalid freeze pattern 'layers.{0': unbalanced '{' at offset 7
// UNKNOWN: error: unknown freeze policy 'everything'
func.func @forward() {
  %w0 = ftc.param "layers.0.weight" : tensor<4x4xf32>
  %b0 = ftc.param "layers.0.bias" : tensor<4xf32>
  %cw = ftc.param "classifier.weight" {head} : tensor<3x4xf32>
  %cb = ftc.param "classifier.bias" {head} : tensor<3xf32>
  return
}
