// RUN: %ftc-opt %s -split-input-file --ftc-export-plan -verify-diagnostics -o /dev/null

// Conversion before ftc-plan-memory: the step function has no arena size.
module {
  // expected-error@+1 {{missing ftc.arena_bytes: run ftc-plan-memory before converting to a plan}}
  func.func @train_step() {
    %w = ftc.param "w" : tensor<3xf32>
    %s = ftc.reduce_sum %w {axes = array<i64: 0>} : tensor<3xf32> -> tensor<f32>
    ftc.output "loss" %s : tensor<f32>
    return
  }
}

// -----

// An intermediate without an arena offset.
module {
  func.func @eval_step() attributes {ftc.arena_bytes = 64 : i64} {
    %w = ftc.param "w" : tensor<3xf32>
    // expected-error@+1 {{'ftc.reduce_sum' op has no ftc.offset: run ftc-plan-memory first}}
    %s = ftc.reduce_sum %w {axes = array<i64: 0>} : tensor<3xf32> -> tensor<f32>
    ftc.output "loss" %s : tensor<f32>
    return
  }
}

// -----

// Nothing to convert.
// expected-error@+1 {{no @train_step or @eval_step to convert}}
module {
  func.func @forward() {
    return
  }
}

// -----

// One parameter name with two shapes across the programs.
module {
  func.func @train_step() attributes {ftc.arena_bytes = 0 : i64} {
    %w = ftc.param "w" : tensor<3xf32>
    return
  }
  func.func @eval_step() attributes {ftc.arena_bytes = 0 : i64} {
    // expected-error@+1 {{'ftc.param' op 'w' has a different shape than elsewhere}}
    %w = ftc.param "w" : tensor<4xf32>
    return
  }
}

// -----

// Only f32 and i32 buffers exist at run time.
module {
  func.func @eval_step() attributes {ftc.arena_bytes = 0 : i64} {
    // expected-error@+1 {{'ftc.input' op has a type the runtime does not support: 'tensor<4xf16>'}}
    %x = ftc.input "x" : tensor<4xf16>
    return
  }
}
