// RUN: %ftc-opt %s -split-input-file --ftc-autodiff -verify-diagnostics

// No @forward function to differentiate.
// expected-error@+1 {{ftc-autodiff needs a @forward function}}
module {
  func.func @model() {
    return
  }
}

// -----

// @forward without a 'loss' output.
module {
  // expected-error@+1 {{@forward has no 'loss' output}}
  func.func @forward() {
    %p = ftc.param "p" : tensor<2x3xf32>
    ftc.output "logits" %p : tensor<2x3xf32>
    return
  }
}

// -----

// A trainable parameter flowing through an op without a VJP.
module {
  func.func @forward() {
    %p = ftc.param "p" : tensor<2x3xf32>
    %g = ftc.fill {value = 1.0 : f64} : tensor<2x3xf32>
    // expected-error@+1 {{'ftc.relu_grad' op has no vector-Jacobian product, but the gradient of trainable parameter 'p' flows through it}}
    %d = ftc.relu_grad %p, %g : tensor<2x3xf32>
    %loss = ftc.reduce_sum %d {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
    ftc.output "loss" %loss : tensor<f32>
    return
  }
}

// -----

// The same op is fine when only frozen values flow through it.
module {
  func.func @forward() {
    %p = ftc.param "p" {trainable = false} : tensor<2x3xf32>
    %q = ftc.param "q" : tensor<2x3xf32>
    %g = ftc.fill {value = 1.0 : f64} : tensor<2x3xf32>
    %d = ftc.relu_grad %p, %g : tensor<2x3xf32>
    %s = ftc.add %d, %q : tensor<2x3xf32>
    %loss = ftc.reduce_sum %s {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
    ftc.output "loss" %loss : tensor<f32>
    return
  }
}
