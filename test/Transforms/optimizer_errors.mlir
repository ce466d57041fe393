// RUN: not %ftc-opt %s -split-input-file --ftc-lower-optimizer=optimizer=lamb 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not %ftc-opt %s -split-input-file '--ftc-lower-optimizer=optimizer=sgd nesterov=true' 2>&1 | FileCheck %s --check-prefix=NESTEROV
// RUN: not %ftc-opt %s -split-input-file '--ftc-lower-optimizer=optimizer=sgd momentum=0.9 dampening=0.1 nesterov=true' 2>&1 | FileCheck %s --check-prefix=NESTEROV
// RUN: not %ftc-opt %s -split-input-file '--ftc-lower-optimizer=beta2=1.0' 2>&1 | FileCheck %s --check-prefix=BETAS
// RUN: not %ftc-opt %s -split-input-file --ftc-lower-optimizer 2>&1 | FileCheck %s --check-prefix=STRUCT

// Optimizer lowering errors. The options are validated when the updates the
// pass builds are verified: Nesterov needs momentum > 0 and no dampening,
// AdamW's betas lie in [0, 1).

// UNKNOWN: error: unknown optimizer 'lamb'
// NESTEROV: error: 'ftc.optim.sgd' op Nesterov momentum needs momentum > 0 and zero dampening
// BETAS: error: 'ftc.optim.adamw' op betas must be in [0, 1)

// A well-formed @train_step (the option errors above are reported on it).
module {
  func.func @train_step() {
    %w = ftc.param "w" : tensor<3xf32>
    %s = ftc.reduce_sum %w {axes = array<i64: 0>} : tensor<3xf32> -> tensor<f32>
    ftc.output "loss" %s : tensor<f32>
    %g = ftc.fill {value = 1.0 : f64} : tensor<3xf32>
    ftc.output "grad.w" %g : tensor<3xf32>
    return
  }
}

// -----

// No @train_step: ftc-autodiff has not run.
// STRUCT: error: ftc-lower-optimizer needs @train_step (run ftc-autodiff first)
module {
  func.func @forward() {
    %w = ftc.param "w" : tensor<3xf32>
    %s = ftc.reduce_sum %w {axes = array<i64: 0>} : tensor<3xf32> -> tensor<f32>
    ftc.output "loss" %s : tensor<f32>
    return
  }
}

// -----

// A gradient output naming a parameter that @train_step does not read.
// STRUCT: error: 'ftc.output' op names no parameter of @train_step: ghost
module {
  func.func @train_step() {
    %w = ftc.param "w" : tensor<3xf32>
    %s = ftc.reduce_sum %w {axes = array<i64: 0>} : tensor<3xf32> -> tensor<f32>
    ftc.output "loss" %s : tensor<f32>
    %g = ftc.fill {value = 1.0 : f64} : tensor<3xf32>
    ftc.output "grad.ghost" %g : tensor<3xf32>
    return
  }
}
