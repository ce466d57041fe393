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

// -----

// A frozen convolution with its batch norm in evaluation form (read-only
// running statistics: as constant as frozen parameters) joins the prefix;
// a batch norm in training form, which writes its statistics, does not.
// CHECK-LABEL: func.func @prefix_step()
// CHECK: ftc.conv2d
// CHECK: %[[N:.*]] = ftc.batch_norm_inference
// CHECK: %[[R:.*]] = ftc.relu %[[N]]
// CHECK: ftc.output "cache.0" %[[R]] : tensor<2x16x4x4xf32>
// CHECK-LABEL: func.func @train_step_cached()
// CHECK-NOT: ftc.batch_norm_inference
// CHECK: ftc.batch_norm %
module {
func.func @train_step() {
  %x = ftc.input "image" : tensor<2x3x4x4xf32>
  %w = ftc.param "conv1.weight" {trainable = false} : tensor<16x3x3x3xf32>
  %g = ftc.param "bn1.weight" {trainable = false} : tensor<16xf32>
  %b = ftc.param "bn1.bias" {trainable = false} : tensor<16xf32>
  %rm = ftc.running_stat "bn1.running_mean" : tensor<16xf32>
  %rv = ftc.running_stat "bn1.running_var" {init = "ones"} : tensor<16xf32>
  %c = ftc.conv2d %x, %w {padding = array<i64: 1, 1>} : (tensor<2x3x4x4xf32>, tensor<16x3x3x3xf32>) -> tensor<2x16x4x4xf32>
  %n = ftc.batch_norm_inference %c, %g, %b, %rm, %rv : (tensor<2x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x16x4x4xf32>
  %r = ftc.relu %n : tensor<2x16x4x4xf32>
  %g2 = ftc.param "bn2.weight" {trainable = true} : tensor<16xf32>
  %b2 = ftc.param "bn2.bias" {trainable = true} : tensor<16xf32>
  %rm2 = ftc.running_stat "bn2.running_mean" : tensor<16xf32>
  %rv2 = ftc.running_stat "bn2.running_var" {init = "ones"} : tensor<16xf32>
  %t = ftc.batch_norm %r, %g2, %b2, %rm2, %rv2 : (tensor<2x16x4x4xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x16x4x4xf32>
  %m = ftc.reduce_mean %t {axes = array<i64: 1, 2, 3>} : tensor<2x16x4x4xf32> -> tensor<2xf32>
  %l = ftc.reduce_sum %m {axes = array<i64: 0>} : tensor<2xf32> -> tensor<f32>
  ftc.output "loss" %l : tensor<f32>
  return
}
}
