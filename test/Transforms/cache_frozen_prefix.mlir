// RUN: %ftc-opt %s -split-input-file --ftc-cache-frozen-prefix | FileCheck %s

// A frozen first layer: its output is what the rest of the step reads, so
// @prefix_step computes and outputs it, and @train_step_cached reads it as
// the input "cache.0" instead of running the layer.
// CHECK: module attributes {ftc.frozen_prefix = "2 forward ops on frozen parameters ({{.*}} of the step's arithmetic) read only the example"}
// CHECK-LABEL: func.func @train_step()
// CHECK: ftc.param "l1.weight"
// CHECK-LABEL: func.func @prefix_step()
// CHECK-NOT: ftc.input "dy"
// CHECK: %[[H:.*]] = ftc.linear
// CHECK: %[[A:.*]] = ftc.relu %[[H]]
// CHECK-NOT: l2.weight
// CHECK-NOT: ftc.output "grad
// CHECK: ftc.output "cache.0" %[[A]] : tensor<4x16xf32>
// CHECK-NEXT: return
// CHECK-LABEL: func.func @train_step_cached()
// CHECK-NEXT: %[[C:.*]] = ftc.input "cache.0" : tensor<4x16xf32>
// CHECK-NOT: l1.weight
// CHECK-NOT: ftc.relu
// CHECK: ftc.linear %[[C]]
// CHECK: ftc.linear_grad_weight %[[C]]
// CHECK: ftc.output "grad.l2.weight"
module {
func.func @train_step() {
  %x = ftc.input "x" : tensor<4x8xf32>
  %w1 = ftc.param "l1.weight" {trainable = false} : tensor<16x8xf32>
  %b1 = ftc.param "l1.bias" {trainable = false} : tensor<16xf32>
  %h = ftc.linear %x, %w1, %b1 : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %a = ftc.relu %h : tensor<4x16xf32>
  %w2 = ftc.param "l2.weight" {trainable = true} : tensor<3x16xf32>
  %b2 = ftc.param "l2.bias" {trainable = true} : tensor<3xf32>
  %z = ftc.linear %a, %w2, %b2 : (tensor<4x16xf32>, tensor<3x16xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  ftc.output "logits" %z : tensor<4x3xf32>
  %dz = ftc.input "dy" : tensor<4x3xf32>
  %dw = ftc.linear_grad_weight %a, %dz : (tensor<4x16xf32>, tensor<4x3xf32>) -> tensor<3x16xf32>
  ftc.output "grad.l2.weight" %dw : tensor<3x16xf32>
  return
}
}

// -----

// Dropout on the input: no deterministic prefix, nothing is split off.
// CHECK: ftc.frozen_prefix = "no computation reads only the inputs and frozen parameters before an active dropout (p = 0.1, input 'x')"
// CHECK-NOT: @prefix_step
// CHECK-NOT: @train_step_cached
module {
func.func @train_step() {
  %x = ftc.input "x" : tensor<4x8xf32>
  %d = ftc.dropout %x {p = 1.000000e-01 : f64, stream = 0 : i64} : tensor<4x8xf32>
  %w1 = ftc.param "l1.weight" {trainable = false} : tensor<16x8xf32>
  %b1 = ftc.param "l1.bias" {trainable = false} : tensor<16xf32>
  %h = ftc.linear %d, %w1, %b1 : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %w2 = ftc.param "l2.weight" {trainable = true} : tensor<3x16xf32>
  %b2 = ftc.param "l2.bias" {trainable = true} : tensor<3xf32>
  %z = ftc.linear %h, %w2, %b2 : (tensor<4x16xf32>, tensor<3x16xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  ftc.output "logits" %z : tensor<4x3xf32>
  return
}
}

// -----

// A mean over the batch mixes examples: it cannot be stored per example,
// so the prefix ends before it and its input is cached instead. Rows of
// [batch * 2, ...] values stay grouped by example through the reshape.
// CHECK-LABEL: func.func @prefix_step()
// CHECK: %[[R:.*]] = ftc.reshape
// CHECK: ftc.output "cache.0" %[[R]] : tensor<8x8xf32>
// CHECK-LABEL: func.func @train_step_cached()
// CHECK: %[[C:.*]] = ftc.input "cache.0" : tensor<8x8xf32>
// CHECK: ftc.reduce_mean %[[C]] {axes = array<i64: 0>}
module {
func.func @train_step() {
  %x = ftc.input "x" : tensor<4x16xf32>
  %w1 = ftc.param "l1.weight" {trainable = false} : tensor<16x16xf32>
  %b1 = ftc.param "l1.bias" {trainable = false} : tensor<16xf32>
  %h = ftc.linear %x, %w1, %b1 : (tensor<4x16xf32>, tensor<16x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %r = ftc.reshape %h {shape = array<i64: 8, 8>} : tensor<4x16xf32> -> tensor<8x8xf32>
  %m = ftc.reduce_mean %r {axes = array<i64: 0>} : tensor<8x8xf32> -> tensor<8xf32>
  %w2 = ftc.param "l2.weight" {trainable = true} : tensor<8xf32>
  %s = ftc.mul %m, %w2 : tensor<8xf32>
  ftc.output "out" %s : tensor<8xf32>
  return
}
}
