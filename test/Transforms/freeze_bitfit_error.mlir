// RUN: %ftc-opt %s --ftc-apply-freeze=policy=bitfit -verify-diagnostics

// BitFit on a model with neither biases nor a head leaves nothing trainable.
// expected-error@+1 {{freeze policy 'bitfit' leaves no parameter trainable}}
module {
  func.func @forward() {
    %w0 = ftc.param "layers.0.weight" : tensor<4x4xf32>
    %b0 = ftc.param "layers.0.biases" : tensor<4xf32>
    %w1 = ftc.param "classifier.weight" : tensor<3x4xf32>
    return
  }
}
