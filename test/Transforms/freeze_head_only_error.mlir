// RUN: %ftc-opt %s -split-input-file --ftc-apply-freeze=policy=head-only -verify-diagnostics

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

// A model that marks its head is fine under head-only (no diagnostic).
module {
  func.func @forward() {
    %w0 = ftc.param "layers.0.weight" : tensor<4x4xf32>
    %w1 = ftc.param "classifier.weight" {head} : tensor<3x4xf32>
    return
  }
}
