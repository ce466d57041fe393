// RUN: %ftc-opt %s -split-input-file --ftc-fuse | FileCheck %s

// Evaluation: gelu is the pre-activation's only reader, so the GELU becomes
// the linear layer's post-op.
// CHECK-LABEL: func.func @eval_step
// CHECK: %[[H:.*]] = ftc.linear_gelu %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4x3xf32>, tensor<8x3xf32>, tensor<8xf32>) -> tensor<4x8xf32>
// CHECK-NOT: ftc.gelu
// CHECK-NOT: ftc.linear %
// CHECK: ftc.output "h" %[[H]]
func.func @eval_step() {
  %x = ftc.input "x" : tensor<4x3xf32>
  %w = ftc.param "w" : tensor<8x3xf32>
  %b = ftc.param "b" : tensor<8xf32>
  %y = ftc.linear %x, %w, %b : (tensor<4x3xf32>, tensor<8x3xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %h = ftc.gelu %y : tensor<4x8xf32>
  ftc.output "h" %h : tensor<4x8xf32>
  return
}

// -----

// Without a bias too.
// CHECK-LABEL: func.func @eval_step
// CHECK: ftc.linear_gelu %{{.*}}, %{{.*}} : (tensor<4x3xf32>, tensor<8x3xf32>) -> tensor<4x8xf32>
func.func @eval_step() {
  %x = ftc.input "x" : tensor<4x3xf32>
  %w = ftc.param "w" : tensor<8x3xf32>
  %y = ftc.linear %x, %w : (tensor<4x3xf32>, tensor<8x3xf32>) -> tensor<4x8xf32>
  %h = ftc.gelu %y : tensor<4x8xf32>
  ftc.output "h" %h : tensor<4x8xf32>
  return
}

// -----

// Training: gelu_grad reads the pre-activation, so the pair stays.
// CHECK-LABEL: func.func @train_step
// CHECK-NOT: linear_gelu
// CHECK: %[[Y:.*]] = ftc.linear %
// CHECK: ftc.gelu %[[Y]]
// CHECK: ftc.gelu_grad %[[Y]]
func.func @train_step() {
  %x = ftc.input "x" : tensor<4x3xf32>
  %dh = ftc.input "dh" : tensor<4x8xf32>
  %w = ftc.param "w" : tensor<8x3xf32>
  %y = ftc.linear %x, %w : (tensor<4x3xf32>, tensor<8x3xf32>) -> tensor<4x8xf32>
  %h = ftc.gelu %y : tensor<4x8xf32>
  %dy = ftc.gelu_grad %y, %dh : tensor<4x8xf32>
  ftc.output "h" %h : tensor<4x8xf32>
  ftc.output "dy" %dy : tensor<4x8xf32>
  return
}
