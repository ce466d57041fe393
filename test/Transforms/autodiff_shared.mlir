// RUN: %ftc-opt %s -split-input-file --ftc-autodiff | FileCheck %s

// A parameter value read twice (here by one mul, as both operands) gets the
// sum of its two contributions.
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[P:.*]] = ftc.param "p" : tensor<2x3xf32>
// CHECK: %[[G:.*]] = ftc.broadcast
// CHECK-NEXT: %[[D0:.*]] = ftc.mul %[[G]], %[[P]] : tensor<2x3xf32>
// CHECK-NEXT: %[[D1:.*]] = ftc.mul %[[G]], %[[P]] : tensor<2x3xf32>
// CHECK-NEXT: %[[SUM:.*]] = ftc.add %[[D0]], %[[D1]] : tensor<2x3xf32>
// CHECK-NEXT: ftc.output "grad.p" %[[SUM]] : tensor<2x3xf32>
// CHECK-NEXT: return
func.func @forward() {
  %p = ftc.param "p" : tensor<2x3xf32>
  %sq = ftc.mul %p, %p : tensor<2x3xf32>
  %loss = ftc.reduce_sum %sq {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}

// -----

// A tied weight: one parameter name read by two ftc.param ops (two layers
// sharing a weight) gets a single gradient output, the sum of both.
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[W1:.*]] = ftc.param "tied.weight" : tensor<3x3xf32>
// CHECK: %[[W2:.*]] = ftc.param "tied.weight" : tensor<3x3xf32>
// CHECK: %[[H:.*]] = ftc.linear %{{.*}}, %[[W1]]
// CHECK: %[[O:.*]] = ftc.linear %[[H]], %[[W2]]
// CHECK: %[[G:.*]] = ftc.broadcast
// CHECK-NEXT: %[[DH:.*]] = ftc.linear_grad_data %[[G]], %[[W2]]
// CHECK-NEXT: %[[DW2:.*]] = ftc.linear_grad_weight %[[H]], %[[G]]
// CHECK-NEXT: %[[DW1:.*]] = ftc.linear_grad_weight %{{.*}}, %[[DH]]
// CHECK-NEXT: %[[SUM:.*]] = ftc.add %[[DW1]], %[[DW2]] : tensor<3x3xf32>
// CHECK-NEXT: ftc.output "grad.tied.weight" %[[SUM]] : tensor<3x3xf32>
// CHECK-NEXT: return
func.func @forward() {
  %x = ftc.input "x" : tensor<2x3xf32>
  %w1 = ftc.param "tied.weight" : tensor<3x3xf32>
  %w2 = ftc.param "tied.weight" : tensor<3x3xf32>
  %h = ftc.linear %x, %w1 : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<2x3xf32>
  %o = ftc.linear %h, %w2 : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<2x3xf32>
  %loss = ftc.reduce_sum %o {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}

// -----

// A residual connection: the value %h feeds both the add and the relu, so its
// gradient is the sum of both paths.
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[H:.*]] = ftc.param "h" : tensor<2x3xf32>
// CHECK: %[[G:.*]] = ftc.broadcast
// CHECK-NEXT: %[[DR:.*]] = ftc.relu_grad %[[H]], %[[G]] : tensor<2x3xf32>
// CHECK-NEXT: %[[SUM:.*]] = ftc.add %[[G]], %[[DR]] : tensor<2x3xf32>
// CHECK-NEXT: ftc.output "grad.h" %[[SUM]] : tensor<2x3xf32>
func.func @forward() {
  %h = ftc.param "h" : tensor<2x3xf32>
  %r = ftc.relu %h : tensor<2x3xf32>
  %s = ftc.add %h, %r : tensor<2x3xf32>
  %loss = ftc.reduce_sum %s {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}

// -----

// A trainable parameter that does not reach the loss gets a zero gradient;
// a frozen one gets nothing. eval_step keeps every forward output, train_step
// only the loss; @forward is gone.
// CHECK-NOT: func.func @forward
// CHECK-LABEL: func.func @eval_step()
// CHECK: ftc.output "loss"
// CHECK-NEXT: ftc.output "logits"
// CHECK-NEXT: return
// CHECK-LABEL: func.func @train_step()
// CHECK-NOT: "logits"
// CHECK: %[[G:.*]] = ftc.broadcast
// CHECK-NEXT: %[[DL:.*]] = ftc.relu_grad %{{.*}}, %[[G]]
// CHECK-NEXT: %[[Z:.*]] = ftc.fill {value = 0.000000e+00 : f64} : tensor<5xf32>
// CHECK-NEXT: ftc.output "grad.used" %[[DL]] : tensor<2x3xf32>
// CHECK-NEXT: ftc.output "grad.unused" %[[Z]] : tensor<5xf32>
// CHECK-NOT: grad.frozen
// CHECK-NEXT: return
// CHECK-NOT: func.func @forward
func.func @forward() {
  %u = ftc.param "used" : tensor<2x3xf32>
  %n = ftc.param "unused" : tensor<5xf32>
  %f = ftc.param "frozen" {trainable = false} : tensor<2x3xf32>
  %r = ftc.relu %u : tensor<2x3xf32>
  %l = ftc.add %r, %f : tensor<2x3xf32>
  %loss = ftc.reduce_sum %r {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  ftc.output "logits" %l : tensor<2x3xf32>
  return
}
