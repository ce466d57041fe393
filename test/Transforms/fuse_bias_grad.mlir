// RUN: %ftc-opt %s -split-input-file --ftc-fuse | FileCheck %s

// A linear layer's weight and bias gradients (the same dy) become one op.
// CHECK-LABEL: func.func @train_step
// CHECK: %[[DW:.*]], %[[DB:.*]] = ftc.linear_grad_weight_bias %[[X:.*]], %[[DY:.*]] : (tensor<4x3xf32>, tensor<4x2xf32>) -> (tensor<2x3xf32>, tensor<2xf32>)
// CHECK-NOT: ftc.linear_grad_weight %
// CHECK-NOT: ftc.reduce_sum
// CHECK: ftc.output "grad.w" %[[DW]]
// CHECK: ftc.output "grad.b" %[[DB]]
func.func @train_step() {
  %x = ftc.input "x" : tensor<4x3xf32>
  %dy = ftc.input "dy" : tensor<4x2xf32>
  %dw = ftc.linear_grad_weight %x, %dy : (tensor<4x3xf32>, tensor<4x2xf32>) -> tensor<2x3xf32>
  %db = ftc.reduce_sum %dy {axes = array<i64: 0>} : tensor<4x2xf32> -> tensor<2xf32>
  ftc.output "grad.w" %dw : tensor<2x3xf32>
  ftc.output "grad.b" %db : tensor<2xf32>
  return
}

// -----

// Not the same dy, or not a sum over the rows: nothing to fuse.
// CHECK-LABEL: func.func @train_step
// CHECK-NOT: linear_grad_weight_bias
// CHECK: ftc.linear_grad_weight %
// CHECK: ftc.reduce_sum %{{.*}} {axes = array<i64: 0>}
// CHECK: ftc.reduce_sum %{{.*}} {axes = array<i64: 1>}
func.func @train_step() {
  %x = ftc.input "x" : tensor<4x3xf32>
  %dy = ftc.input "dy" : tensor<4x2xf32>
  %other = ftc.input "other" : tensor<4x2xf32>
  %dw = ftc.linear_grad_weight %x, %dy : (tensor<4x3xf32>, tensor<4x2xf32>) -> tensor<2x3xf32>
  %db = ftc.reduce_sum %other {axes = array<i64: 0>} : tensor<4x2xf32> -> tensor<2xf32>
  %rows = ftc.reduce_sum %dy {axes = array<i64: 1>} : tensor<4x2xf32> -> tensor<4xf32>
  ftc.output "grad.w" %dw : tensor<2x3xf32>
  ftc.output "grad.b" %db : tensor<2xf32>
  ftc.output "rows" %rows : tensor<4xf32>
  return
}

// -----

// The bias gradient is read before the weight gradient exists: fusing at
// the later op would move its definition below that use, so it is kept.
// CHECK-LABEL: func.func @train_step
// CHECK-NOT: linear_grad_weight_bias
func.func @train_step() {
  %x = ftc.input "x" : tensor<4x3xf32>
  %dy = ftc.input "dy" : tensor<4x2xf32>
  %db = ftc.reduce_sum %dy {axes = array<i64: 0>} : tensor<4x2xf32> -> tensor<2xf32>
  %twice = ftc.add %db, %db : tensor<2xf32>
  %dw = ftc.linear_grad_weight %x, %dy : (tensor<4x3xf32>, tensor<4x2xf32>) -> tensor<2x3xf32>
  ftc.output "grad.w" %dw : tensor<2x3xf32>
  ftc.output "grad.b" %twice : tensor<2xf32>
  return
}
