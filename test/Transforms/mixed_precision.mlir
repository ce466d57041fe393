// RUN: %ftc-opt %s -split-input-file --ftc-mixed-precision | FileCheck %s

// A linear layer's training step: x and w are cast once each, before the
// forward product, and the backward products read the same copies; dy is
// cast once for both of its products. Bias, its gradient sum, the loss
// side and every result stay f32.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: attributes
// CHECK: %[[X:.*]] = ftc.input "x" : tensor<4x3xf32>
// CHECK: %[[W:.*]] = ftc.param "w"
// CHECK: %[[XB:.*]] = ftc.cast %[[X]] : tensor<4x3xf32> to tensor<4x3xbf16>
// CHECK: %[[WB:.*]] = ftc.cast %[[W]] : tensor<2x3xf32> to tensor<2x3xbf16>
// CHECK: ftc.linear %[[XB]], %[[WB]], %{{.*}} : (tensor<4x3xbf16>, tensor<2x3xbf16>, tensor<2xf32>) -> tensor<4x2xf32>
// CHECK: %[[DYB:.*]] = ftc.cast %[[DY:.*]] : tensor<4x2xf32> to tensor<4x2xbf16>
// CHECK-NOT: ftc.cast
// CHECK: ftc.linear_grad_data %[[DYB]], %[[WB]] : (tensor<4x2xbf16>, tensor<2x3xbf16>) -> tensor<4x3xf32>
// CHECK: ftc.linear_grad_weight %[[XB]], %[[DYB]] : (tensor<4x3xbf16>, tensor<4x2xbf16>) -> tensor<2x3xf32>
// CHECK: ftc.reduce_sum %[[DY]] {axes = array<i64: 0>} : tensor<4x2xf32> -> tensor<2xf32>
func.func @train_step() attributes {ftc.marker} {
  %x = ftc.input "x" : tensor<4x3xf32>
  %w = ftc.param "w" {trainable = true} : tensor<2x3xf32>
  %b = ftc.param "b" {trainable = true} : tensor<2xf32>
  %y = ftc.linear %x, %w, %b : (tensor<4x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %dy = ftc.relu %y : tensor<4x2xf32>
  %dx = ftc.linear_grad_data %dy, %w : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  %dw = ftc.linear_grad_weight %x, %dy : (tensor<4x3xf32>, tensor<4x2xf32>) -> tensor<2x3xf32>
  %db = ftc.reduce_sum %dy {axes = array<i64: 0>} : tensor<4x2xf32> -> tensor<2xf32>
  ftc.output "dx" %dx : tensor<4x3xf32>
  ftc.output "grad.w" %dw : tensor<2x3xf32>
  ftc.output "grad.b" %db : tensor<2xf32>
  return
}

// -----

// Batched products (attention's scores and context): the fused strided
// form too. The softmax between them reads the f32 scores; only its output
// is cast, for the second product.
// CHECK-LABEL: func.func @eval_step
// CHECK: %[[QB:.*]] = ftc.cast %{{.*}} : tensor<2x5x3x4xf32> to tensor<2x5x3x4xbf16>
// CHECK: %[[KB:.*]] = ftc.cast %{{.*}} : tensor<2x5x3x4xf32> to tensor<2x5x3x4xbf16>
// CHECK: %[[S:.*]] = ftc.strided_batch_matmul %[[QB]], %[[KB]]
// CHECK-SAME: (tensor<2x5x3x4xbf16>, tensor<2x5x3x4xbf16>) -> tensor<2x3x5x5xf32>
// CHECK: %[[P:.*]] = ftc.masked_softmax %[[S]]
// CHECK: %[[PB:.*]] = ftc.cast %[[P]] : tensor<2x3x5x5xf32> to tensor<2x3x5x5xbf16>
// CHECK: ftc.batch_matmul %[[PB]], %{{.*}} : (tensor<2x3x5x5xbf16>, tensor<2x3x5x4xbf16>) -> tensor<2x3x5x4xf32>
func.func @eval_step() {
  %q = ftc.input "q" : tensor<2x5x3x4xf32>
  %k = ftc.input "k" : tensor<2x5x3x4xf32>
  %v = ftc.input "v" : tensor<2x3x5x4xf32>
  %s = ftc.strided_batch_matmul %q, %k {lhs_perm = array<i64: 0, 2, 1, 3>, rhs_perm = array<i64: 0, 2, 3, 1>, result_perm = array<i64: 0, 1, 2, 3>} : (tensor<2x5x3x4xf32>, tensor<2x5x3x4xf32>) -> tensor<2x3x5x5xf32>
  %p = ftc.masked_softmax %s {scale = 0.5 : f64} : (tensor<2x3x5x5xf32>) -> tensor<2x3x5x5xf32>
  %c = ftc.batch_matmul %p, %v : (tensor<2x3x5x5xf32>, tensor<2x3x5x4xf32>) -> tensor<2x3x5x4xf32>
  ftc.output "ctx" %c : tensor<2x3x5x4xf32>
  return
}

// -----

// Convolutions have no bf16 form yet: they stay f32. The module records
// the precision and how many copies the pass made.
// CHECK: module attributes {ftc.bf16_casts = 0 : i64, ftc.precision = "bf16"}
// CHECK-NOT: ftc.cast
// CHECK: ftc.conv2d %{{.*}}, %{{.*}} : (tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>) -> tensor<1x3x4x4xf32>
func.func @eval_step() {
  %x = ftc.input "x" : tensor<1x2x4x4xf32>
  %w = ftc.param "w" {trainable = false} : tensor<3x2x1x1xf32>
  %y = ftc.conv2d %x, %w : (tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>) -> tensor<1x3x4x4xf32>
  ftc.output "y" %y : tensor<1x3x4x4xf32>
  return
}
