// RUN: %ftc-opt %s -split-input-file --ftc-apply-freeze=policy=head-only -verify-diagnostics
// RUN: not %ftc-opt %s -split-input-file --ftc-apply-freeze=policy=bitfit 2>&1 | FileCheck %s --check-prefix=BITFIT

// head-only needs the model to mark its head.
// expected-error@+1 {{freeze policy 'head-only': the model marks no parameter as part of its head}}
module {
  func.func @forward() {
    %w0 = ftc.param "layers.0.weight" : tensor<4x4xf32>
    %w1 = ftc.param "classifier.weight" : tensor<3x4xf32>
    return
  }
}

// -----

// BitFit on a model without biases or head leaves nothing to train (the
// first case; head-only reports its own error there and the module below is
// fine for it).
// BITFIT: error: freeze policy 'bitfit' leaves no parameter trainable
// BITFIT-NOT: error
module {
  func.func @forward() {
    %w0 = ftc.param "layers.0.weight" : tensor<4x4xf32>
    %w1 = ftc.param "classifier.weight" {head} : tensor<3x4xf32>
    return
  }
}
