// RUN: %ftc-opt %s -split-input-file --ftc-autodiff | FileCheck %s

// A two-layer MLP with every parameter trainable: the full backward pass,
// gradients in parameter order, and an eval_step that is the forward pass.

// CHECK-NOT: @forward
// CHECK-LABEL: func.func @eval_step()
// CHECK: %[[L:.*]] = ftc.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4x5xf32>, tensor<3x5xf32>, tensor<3xf32>) -> tensor<4x3xf32>
// CHECK: %[[LOSS:.*]] = ftc.softmax_cross_entropy %[[L]], %{{.*}}
// CHECK-NEXT: ftc.output "loss" %[[LOSS]] : tensor<f32>
// CHECK-NEXT: ftc.output "logits" %[[L]] : tensor<4x3xf32>
// CHECK-NEXT: return
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[X:.*]] = ftc.input "image"
// CHECK: %[[Y:.*]] = ftc.input "label"
// CHECK: %[[W1:.*]] = ftc.param "layers.0.weight"
// CHECK: %[[B1:.*]] = ftc.param "layers.0.bias"
// CHECK: %[[W2:.*]] = ftc.param "classifier.weight"
// CHECK: %[[B2:.*]] = ftc.param "classifier.bias"
// CHECK: %[[H:.*]] = ftc.linear %[[X]], %[[W1]], %[[B1]]
// CHECK: %[[A:.*]] = ftc.relu %[[H]]
// CHECK: %[[L:.*]] = ftc.linear %[[A]], %[[W2]], %[[B2]]
// CHECK: %[[LOSS:.*]] = ftc.softmax_cross_entropy %[[L]], %[[Y]]
// CHECK-NEXT: ftc.output "loss" %[[LOSS]] : tensor<f32>
// CHECK-NEXT: %[[ONE:.*]] = ftc.fill {value = 1.000000e+00 : f64} : tensor<f32>
// CHECK-NEXT: %[[DL:.*]] = ftc.softmax_cross_entropy_grad %[[L]], %[[Y]], %[[ONE]] : (tensor<4x3xf32>, tensor<4xi32>, tensor<f32>) -> tensor<4x3xf32>
// CHECK-NEXT: %[[DA:.*]] = ftc.linear_grad_data %[[DL]], %[[W2]] : (tensor<4x3xf32>, tensor<3x5xf32>) -> tensor<4x5xf32>
// CHECK-NEXT: %[[DW2:.*]] = ftc.linear_grad_weight %[[A]], %[[DL]] : (tensor<4x5xf32>, tensor<4x3xf32>) -> tensor<3x5xf32>
// CHECK-NEXT: %[[DB2:.*]] = ftc.reduce_sum %[[DL]] {axes = array<i64: 0>} : tensor<4x3xf32> -> tensor<3xf32>
// CHECK-NEXT: %[[DH:.*]] = ftc.relu_grad %[[H]], %[[DA]] : tensor<4x5xf32>
// The input is not trainable: no linear_grad_data for the first layer.
// CHECK-NEXT: %[[DW1:.*]] = ftc.linear_grad_weight %[[X]], %[[DH]] : (tensor<4x6xf32>, tensor<4x5xf32>) -> tensor<5x6xf32>
// CHECK-NEXT: %[[DB1:.*]] = ftc.reduce_sum %[[DH]] {axes = array<i64: 0>} : tensor<4x5xf32> -> tensor<5xf32>
// CHECK-NEXT: ftc.output "grad.layers.0.weight" %[[DW1]] : tensor<5x6xf32>
// CHECK-NEXT: ftc.output "grad.layers.0.bias" %[[DB1]] : tensor<5xf32>
// CHECK-NEXT: ftc.output "grad.classifier.weight" %[[DW2]] : tensor<3x5xf32>
// CHECK-NEXT: ftc.output "grad.classifier.bias" %[[DB2]] : tensor<3xf32>
// CHECK-NEXT: return
// train_step reports only the loss and the gradients.
// CHECK-NOT: "logits"
func.func @forward() {
  %x = ftc.input "image" : tensor<4x6xf32>
  %y = ftc.input "label" : tensor<4xi32>
  %w1 = ftc.param "layers.0.weight" {trainable = true} : tensor<5x6xf32>
  %b1 = ftc.param "layers.0.bias" {trainable = true} : tensor<5xf32>
  %w2 = ftc.param "classifier.weight" {head, trainable = true} : tensor<3x5xf32>
  %b2 = ftc.param "classifier.bias" {head, trainable = true} : tensor<3xf32>
  %h = ftc.linear %x, %w1, %b1 : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %a = ftc.relu %h : tensor<4x5xf32>
  %l = ftc.linear %a, %w2, %b2 : (tensor<4x5xf32>, tensor<3x5xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %loss = ftc.softmax_cross_entropy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  ftc.output "logits" %l : tensor<4x3xf32>
  return
}

// -----

// The same MLP with the first layer frozen: the backward pass stops at the
// classifier. No gradient flows into the relu or the first linear, and no
// gradient op reads the frozen parameters.

// CHECK-NOT: @forward
// CHECK-LABEL: func.func @eval_step()
// CHECK: ftc.output "loss"
// CHECK-NEXT: ftc.output "logits"
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[W1:.*]] = ftc.param "layers.0.weight" {trainable = false}
// CHECK: %[[B1:.*]] = ftc.param "layers.0.bias" {trainable = false}
// CHECK: %[[W2:.*]] = ftc.param "classifier.weight" {head, trainable = true}
// CHECK: %[[B2:.*]] = ftc.param "classifier.bias" {head, trainable = true}
// CHECK: %[[A:.*]] = ftc.relu
// CHECK: %[[L:.*]] = ftc.linear %[[A]], %[[W2]], %[[B2]]
// CHECK: ftc.output "loss"
// CHECK-NEXT: %[[ONE:.*]] = ftc.fill {value = 1.000000e+00 : f64}
// CHECK-NEXT: %[[DL:.*]] = ftc.softmax_cross_entropy_grad %[[L]], %{{.*}}, %[[ONE]]
// CHECK-NOT: linear_grad_data
// CHECK-NEXT: %[[DW2:.*]] = ftc.linear_grad_weight %[[A]], %[[DL]]
// CHECK-NEXT: %[[DB2:.*]] = ftc.reduce_sum %[[DL]] {axes = array<i64: 0>}
// CHECK-NOT: linear_grad_data
// CHECK-NOT: relu_grad
// CHECK-NOT: %[[W1]]
// CHECK-NOT: %[[B1]]
// CHECK-NOT: grad.layers.0
// CHECK-NEXT: ftc.output "grad.classifier.weight" %[[DW2]] : tensor<3x5xf32>
// CHECK-NEXT: ftc.output "grad.classifier.bias" %[[DB2]] : tensor<3xf32>
// CHECK-NEXT: return
// CHECK-NOT: grad.layers.0
func.func @forward() {
  %x = ftc.input "image" : tensor<4x6xf32>
  %y = ftc.input "label" : tensor<4xi32>
  %w1 = ftc.param "layers.0.weight" {trainable = false} : tensor<5x6xf32>
  %b1 = ftc.param "layers.0.bias" {trainable = false} : tensor<5xf32>
  %w2 = ftc.param "classifier.weight" {head, trainable = true} : tensor<3x5xf32>
  %b2 = ftc.param "classifier.bias" {head, trainable = true} : tensor<3xf32>
  %h = ftc.linear %x, %w1, %b1 : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %a = ftc.relu %h : tensor<4x5xf32>
  %l = ftc.linear %a, %w2, %b2 : (tensor<4x5xf32>, tensor<3x5xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %loss = ftc.softmax_cross_entropy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  ftc.output "logits" %l : tensor<4x3xf32>
  return
}

// -----

// A frozen middle layer between two trainable ones: the gradient still flows
// through it (linear_grad_data on its weight) down to the first layer, but
// the frozen weight itself gets no linear_grad_weight and no output.

// CHECK-LABEL: func.func @train_step()
// CHECK: %[[W0:.*]] = ftc.param "l0.weight" {trainable = true}
// CHECK: %[[W1:.*]] = ftc.param "l1.weight" {trainable = false}
// CHECK: %[[W2:.*]] = ftc.param "l2.weight" {trainable = true}
// CHECK: %[[H0:.*]] = ftc.linear %{{.*}}, %[[W0]]
// CHECK: %[[H1:.*]] = ftc.linear %[[H0]], %[[W1]]
// CHECK: %[[DL:.*]] = ftc.softmax_cross_entropy_grad
// CHECK-NEXT: %[[D1:.*]] = ftc.linear_grad_data %[[DL]], %[[W2]]
// CHECK-NEXT: %[[DW2:.*]] = ftc.linear_grad_weight %[[H1]], %[[DL]]
// CHECK-NEXT: %[[D0:.*]] = ftc.linear_grad_data %[[D1]], %[[W1]]
// CHECK-NOT: ftc.linear_grad_weight %[[H0]]
// CHECK-NEXT: %[[DW0:.*]] = ftc.linear_grad_weight %{{.*}}, %[[D0]]
// CHECK-NEXT: ftc.output "grad.l0.weight" %[[DW0]]
// CHECK-NEXT: ftc.output "grad.l2.weight" %[[DW2]]
// CHECK-NEXT: return
func.func @forward() {
  %x = ftc.input "x" : tensor<2x3xf32>
  %y = ftc.input "y" : tensor<2xi32>
  %w0 = ftc.param "l0.weight" {trainable = true} : tensor<4x3xf32>
  %w1 = ftc.param "l1.weight" {trainable = false} : tensor<4x4xf32>
  %w2 = ftc.param "l2.weight" {trainable = true} : tensor<3x4xf32>
  %h0 = ftc.linear %x, %w0 : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %h1 = ftc.linear %h0, %w1 : (tensor<2x4xf32>, tensor<4x4xf32>) -> tensor<2x4xf32>
  %l = ftc.linear %h1, %w2 : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
  %loss = ftc.softmax_cross_entropy %l, %y : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}
