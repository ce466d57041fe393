// RUN: %ftc-opt %s -split-input-file --ftc-autodiff | FileCheck %s

// The vector-Jacobian product of each differentiable op. Every case reduces
// its result to a scalar loss with reduce_sum over all axes, whose backward is
// a broadcast of the seed `fill 1.0` (checked in the first case).

// linear with bias, input not trainable: dW = linear_grad_weight(x, dy),
// db = reduce_sum(dy, axes 0), and no linear_grad_data.
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[X:.*]] = ftc.input "x" : tensor<2x3xf32>
// CHECK: %[[W:.*]] = ftc.param "w" : tensor<4x3xf32>
// CHECK: %[[B:.*]] = ftc.param "b" : tensor<4xf32>
// CHECK: %[[Y:.*]] = ftc.linear %[[X]], %[[W]], %[[B]]
// CHECK: %[[LOSS:.*]] = ftc.reduce_sum %[[Y]] {axes = array<i64: 0, 1>} : tensor<2x4xf32> -> tensor<f32>
// CHECK-NEXT: ftc.output "loss" %[[LOSS]] : tensor<f32>
// CHECK-NEXT: %[[ONE:.*]] = ftc.fill {value = 1.000000e+00 : f64} : tensor<f32>
// CHECK-NEXT: %[[G:.*]] = ftc.broadcast %[[ONE]] {axes = array<i64: 0, 1>} : tensor<f32> -> tensor<2x4xf32>
// CHECK-NOT: linear_grad_data
// CHECK-NEXT: %[[DW:.*]] = ftc.linear_grad_weight %[[X]], %[[G]] : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
// CHECK-NEXT: %[[DB:.*]] = ftc.reduce_sum %[[G]] {axes = array<i64: 0>} : tensor<2x4xf32> -> tensor<4xf32>
// CHECK-NEXT: ftc.output "grad.w" %[[DW]] : tensor<4x3xf32>
// CHECK-NEXT: ftc.output "grad.b" %[[DB]] : tensor<4xf32>
// CHECK-NEXT: return
func.func @forward() {
  %x = ftc.input "x" : tensor<2x3xf32>
  %w = ftc.param "w" : tensor<4x3xf32>
  %b = ftc.param "b" : tensor<4xf32>
  %y = ftc.linear %x, %w, %b : (tensor<2x3xf32>, tensor<4x3xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %loss = ftc.reduce_sum %y {axes = array<i64: 0, 1>} : tensor<2x4xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}

// -----

// linear whose input is a trainable parameter and whose weight is frozen:
// only linear_grad_data, for the input.
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[X:.*]] = ftc.param "x" : tensor<2x3xf32>
// CHECK: %[[W:.*]] = ftc.param "w" {trainable = false} : tensor<4x3xf32>
// CHECK: %[[G:.*]] = ftc.broadcast
// CHECK-NOT: linear_grad_weight
// CHECK-NEXT: %[[DX:.*]] = ftc.linear_grad_data %[[G]], %[[W]] : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
// CHECK-NOT: linear_grad_weight
// CHECK-NEXT: ftc.output "grad.x" %[[DX]] : tensor<2x3xf32>
// CHECK-NEXT: return
func.func @forward() {
  %x = ftc.param "x" : tensor<2x3xf32>
  %w = ftc.param "w" {trainable = false} : tensor<4x3xf32>
  %y = ftc.linear %x, %w : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %loss = ftc.reduce_sum %y {axes = array<i64: 0, 1>} : tensor<2x4xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}

// -----

// relu: relu_grad reads the forward input.
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[P:.*]] = ftc.param "p" : tensor<2x3xf32>
// CHECK: %[[G:.*]] = ftc.broadcast
// CHECK-NEXT: %[[D:.*]] = ftc.relu_grad %[[P]], %[[G]] : tensor<2x3xf32>
// CHECK-NEXT: ftc.output "grad.p" %[[D]] : tensor<2x3xf32>
func.func @forward() {
  %p = ftc.param "p" : tensor<2x3xf32>
  %r = ftc.relu %p : tensor<2x3xf32>
  %loss = ftc.reduce_sum %r {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}

// -----

// gelu: gelu_grad reads the forward input.
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[P:.*]] = ftc.param "p" : tensor<2x3xf32>
// CHECK: %[[G:.*]] = ftc.broadcast
// CHECK-NEXT: %[[D:.*]] = ftc.gelu_grad %[[P]], %[[G]] : tensor<2x3xf32>
// CHECK-NEXT: ftc.output "grad.p" %[[D]] : tensor<2x3xf32>
func.func @forward() {
  %p = ftc.param "p" : tensor<2x3xf32>
  %r = ftc.gelu %p : tensor<2x3xf32>
  %loss = ftc.reduce_sum %r {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}

// -----

// add: both operands receive the incoming gradient unchanged.
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[G:.*]] = ftc.broadcast
// CHECK-NEXT: ftc.output "grad.a" %[[G]] : tensor<2x3xf32>
// CHECK-NEXT: ftc.output "grad.b" %[[G]] : tensor<2x3xf32>
// CHECK-NEXT: return
func.func @forward() {
  %a = ftc.param "a" : tensor<2x3xf32>
  %b = ftc.param "b" : tensor<2x3xf32>
  %c = ftc.add %a, %b : tensor<2x3xf32>
  %loss = ftc.reduce_sum %c {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}

// -----

// sub: the subtrahend gets the gradient scaled by -1.
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[G:.*]] = ftc.broadcast
// CHECK-NEXT: %[[NEG:.*]] = ftc.scale %[[G]] {factor = -1.000000e+00 : f64} : tensor<2x3xf32>
// CHECK-NEXT: ftc.output "grad.a" %[[G]] : tensor<2x3xf32>
// CHECK-NEXT: ftc.output "grad.b" %[[NEG]] : tensor<2x3xf32>
func.func @forward() {
  %a = ftc.param "a" : tensor<2x3xf32>
  %b = ftc.param "b" : tensor<2x3xf32>
  %c = ftc.sub %a, %b : tensor<2x3xf32>
  %loss = ftc.reduce_sum %c {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}

// -----

// sub with a frozen minuend: no gradient for it, only the negated one.
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[G:.*]] = ftc.broadcast
// CHECK-NEXT: %[[NEG:.*]] = ftc.scale %[[G]] {factor = -1.000000e+00 : f64} : tensor<2x3xf32>
// CHECK-NEXT: ftc.output "grad.b" %[[NEG]] : tensor<2x3xf32>
// CHECK-NOT: grad.a
func.func @forward() {
  %a = ftc.param "a" {trainable = false} : tensor<2x3xf32>
  %b = ftc.param "b" : tensor<2x3xf32>
  %c = ftc.sub %a, %b : tensor<2x3xf32>
  %loss = ftc.reduce_sum %c {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}

// -----

// mul: each operand's gradient is the incoming gradient times the other one.
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[A:.*]] = ftc.param "a" : tensor<2x3xf32>
// CHECK: %[[B:.*]] = ftc.param "b" : tensor<2x3xf32>
// CHECK: %[[G:.*]] = ftc.broadcast
// CHECK-NEXT: %[[DA:.*]] = ftc.mul %[[G]], %[[B]] : tensor<2x3xf32>
// CHECK-NEXT: %[[DB:.*]] = ftc.mul %[[G]], %[[A]] : tensor<2x3xf32>
// CHECK-NEXT: ftc.output "grad.a" %[[DA]] : tensor<2x3xf32>
// CHECK-NEXT: ftc.output "grad.b" %[[DB]] : tensor<2x3xf32>
func.func @forward() {
  %a = ftc.param "a" : tensor<2x3xf32>
  %b = ftc.param "b" : tensor<2x3xf32>
  %c = ftc.mul %a, %b : tensor<2x3xf32>
  %loss = ftc.reduce_sum %c {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}

// -----

// scale: the gradient is scaled by the same factor.
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[G:.*]] = ftc.broadcast
// CHECK-NEXT: %[[D:.*]] = ftc.scale %[[G]] {factor = 2.500000e-01 : f64} : tensor<2x3xf32>
// CHECK-NEXT: ftc.output "grad.p" %[[D]] : tensor<2x3xf32>
func.func @forward() {
  %p = ftc.param "p" : tensor<2x3xf32>
  %s = ftc.scale %p {factor = 0.25 : f64} : tensor<2x3xf32>
  %loss = ftc.reduce_sum %s {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}

// -----

// reduce_mean then reduce_sum: the mean's backward broadcasts and scales by
// 1/count (count = 2 here); the sum's backward broadcasts along its axes.
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[ONE:.*]] = ftc.fill {value = 1.000000e+00 : f64} : tensor<f32>
// CHECK-NEXT: %[[SPREAD:.*]] = ftc.broadcast %[[ONE]] {axes = array<i64: 0>} : tensor<f32> -> tensor<2xf32>
// CHECK-NEXT: %[[DS:.*]] = ftc.scale %[[SPREAD]] {factor = 5.000000e-01 : f64} : tensor<2xf32>
// CHECK-NEXT: %[[DP:.*]] = ftc.broadcast %[[DS]] {axes = array<i64: 1>} : tensor<2xf32> -> tensor<2x3xf32>
// CHECK-NEXT: ftc.output "grad.p" %[[DP]] : tensor<2x3xf32>
func.func @forward() {
  %p = ftc.param "p" : tensor<2x3xf32>
  %s = ftc.reduce_sum %p {axes = array<i64: 1>} : tensor<2x3xf32> -> tensor<2xf32>
  %loss = ftc.reduce_mean %s {axes = array<i64: 0>} : tensor<2xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}

// -----

// reduce_mean over two axes of a 2x3x4 tensor: the factor is 1/(2*4).
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[B:.*]] = ftc.broadcast %{{.*}} {axes = array<i64: 0, 2>} : tensor<3xf32> -> tensor<2x3x4xf32>
// CHECK-NEXT: %[[D:.*]] = ftc.scale %[[B]] {factor = 1.250000e-01 : f64} : tensor<2x3x4xf32>
// CHECK-NEXT: ftc.output "grad.p" %[[D]] : tensor<2x3x4xf32>
func.func @forward() {
  %p = ftc.param "p" : tensor<2x3x4xf32>
  %m = ftc.reduce_mean %p {axes = array<i64: 0, 2>} : tensor<2x3x4xf32> -> tensor<3xf32>
  %loss = ftc.reduce_sum %m {axes = array<i64: 0>} : tensor<3xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}

// -----

// broadcast: the backward sums over the broadcast axes.
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[G:.*]] = ftc.broadcast %{{.*}} {axes = array<i64: 0, 1>} : tensor<f32> -> tensor<2x3xf32>
// CHECK-NEXT: %[[D:.*]] = ftc.reduce_sum %[[G]] {axes = array<i64: 0>} : tensor<2x3xf32> -> tensor<3xf32>
// CHECK-NEXT: ftc.output "grad.p" %[[D]] : tensor<3xf32>
func.func @forward() {
  %p = ftc.param "p" : tensor<3xf32>
  %b = ftc.broadcast %p {axes = array<i64: 0>} : tensor<3xf32> -> tensor<2x3xf32>
  %loss = ftc.reduce_sum %b {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}

// -----

// reshape: the backward reshapes back to the input shape.
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[G:.*]] = ftc.broadcast %{{.*}} {axes = array<i64: 0>} : tensor<f32> -> tensor<6xf32>
// CHECK-NEXT: %[[D:.*]] = ftc.reshape %[[G]] {shape = array<i64: 2, 3>} : tensor<6xf32> -> tensor<2x3xf32>
// CHECK-NEXT: ftc.output "grad.p" %[[D]] : tensor<2x3xf32>
func.func @forward() {
  %p = ftc.param "p" : tensor<2x3xf32>
  %r = ftc.reshape %p {shape = array<i64: 6>} : tensor<2x3xf32> -> tensor<6xf32>
  %loss = ftc.reduce_sum %r {axes = array<i64: 0>} : tensor<6xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}

// -----

// softmax_cross_entropy: its gradient op takes the logits, the labels and the
// seed; labels get no gradient.
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[Y:.*]] = ftc.input "label" : tensor<4xi32>
// CHECK: %[[P:.*]] = ftc.param "logits" : tensor<4x3xf32>
// CHECK: ftc.output "loss"
// CHECK-NEXT: %[[ONE:.*]] = ftc.fill {value = 1.000000e+00 : f64} : tensor<f32>
// CHECK-NEXT: %[[D:.*]] = ftc.softmax_cross_entropy_grad %[[P]], %[[Y]], %[[ONE]] : (tensor<4x3xf32>, tensor<4xi32>, tensor<f32>) -> tensor<4x3xf32>
// CHECK-NEXT: ftc.output "grad.logits" %[[D]] : tensor<4x3xf32>
// CHECK-NEXT: return
func.func @forward() {
  %y = ftc.input "label" : tensor<4xi32>
  %p = ftc.param "logits" : tensor<4x3xf32>
  %loss = ftc.softmax_cross_entropy %p, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}
