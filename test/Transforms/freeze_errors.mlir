// RUN: %ftc-opt %s -split-input-file '--ftc-apply-freeze=policy=patterns trainable=encoder.*' -verify-diagnostics
// RUN: not %ftc-opt %s '--ftc-apply-freeze=policy=patterns trainable=classifier.weight,decoder.**' 2>&1 | FileCheck %s --check-prefix=NOMATCH
// RUN: not %ftc-opt %s '--ftc-apply-freeze=policy=patterns frozen=classifier.{weight,bais}' 2>&1 | FileCheck %s --check-prefix=NOMATCH-FROZEN
// RUN: not %ftc-opt %s '--ftc-apply-freeze=policy=patterns' 2>&1 | FileCheck %s --check-prefix=NOLIST
// RUN: not %ftc-opt %s '--ftc-apply-freeze=policy=patterns trainable=** frozen=classifier.**' 2>&1 | FileCheck %s --check-prefix=NOLIST
// RUN: not %ftc-opt %s '--ftc-apply-freeze=policy=patterns frozen=**' 2>&1 | FileCheck %s --check-prefix=ALLFROZEN
// RUN: not %ftc-opt %s '--ftc-apply-freeze=policy=patterns frozen=layers.*.*,classifier.*' 2>&1 | FileCheck %s --check-prefix=ALLFROZEN
// RUN: not %ftc-opt %s '--ftc-apply-freeze=policy=patterns trainable=layers.{0' 2>&1 | FileCheck %s --check-prefix=BADGLOB
// RUN: not %ftc-opt %s --ftc-apply-freeze=policy=everything 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// Freeze policy errors. The -verify-diagnostics run covers the cases of the
// split file below; the other runs use the first case's model.

// NOMATCH: error: freeze pattern 'decoder.**' matches no parameter of the model
// NOMATCH-FROZEN: error: freeze pattern 'classifier.{weight,bais}' matches no parameter of the model
// NOLIST: error: freeze policy 'patterns' needs exactly one of 'trainable' and 'frozen'
// ALLFROZEN: error: freeze policy 'patterns' leaves no parameter trainable
// BADGLOB: error: invalid freeze pattern 'layers.{0': unbalanced '{' at offset 7
// UNKNOWN: error: unknown freeze policy 'everything'

// A pattern that matches nothing is an error (`*` does not cross dots, and
// there is no `encoder` component in this model at all).
// expected-error@+1 {{freeze pattern 'encoder.*' matches no parameter of the model}}
module {
  func.func @forward() {
    %w0 = ftc.param "layers.0.weight" : tensor<4x4xf32>
    %b0 = ftc.param "layers.0.bias" : tensor<4xf32>
    %cw = ftc.param "classifier.weight" {head} : tensor<3x4xf32>
    %cb = ftc.param "classifier.bias" {head} : tensor<3xf32>
    return
  }
}

// -----

// `encoder.*` matches only one-component suffixes: `encoder.x.y` does not count.
// expected-error@+1 {{freeze pattern 'encoder.*' matches no parameter of the model}}
module {
  func.func @forward() {
    %w0 = ftc.param "encoder.layer.weight" : tensor<4x4xf32>
    return
  }
}
