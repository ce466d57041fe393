// RUN: %ftc-opt %s --ftc-lower-optimizer | FileCheck %s --check-prefix=ADAMW
// RUN: %ftc-opt %s '--ftc-lower-optimizer=optimizer=adamw beta1=0.5 beta2=0.75 eps=0.125 weight-decay=0.25' | FileCheck %s --check-prefix=ADAMW-OPTS
// RUN: %ftc-opt %s --ftc-lower-optimizer=optimizer=sgd | FileCheck %s --check-prefix=SGD
// RUN: %ftc-opt %s '--ftc-lower-optimizer=optimizer=sgd momentum=0.5 dampening=0.25 weight-decay=0.125' | FileCheck %s --check-prefix=MOM
// RUN: %ftc-opt %s '--ftc-lower-optimizer=optimizer=sgd momentum=0.5 nesterov=true' | FileCheck %s --check-prefix=NESTEROV

// Every `grad.<name>` output of @train_step becomes an in-place update of the
// parameter <name>, reading the runtime inputs "lr" and "step". The frozen
// parameter has no gradient output and gets no update; @eval_step is left
// alone.

// Default: AdamW with PyTorch's betas and eps, weight decay 0.
// ADAMW: module attributes {ftc.optimizer = "adamw"}
// ADAMW-LABEL: func.func @eval_step()
// ADAMW-NOT: ftc.input "lr"
// ADAMW-NOT: ftc.optim
// ADAMW-LABEL: func.func @train_step()
// ADAMW-NEXT: %[[LR:.*]] = ftc.input "lr" : tensor<f32>
// ADAMW-NEXT: %[[STEP:.*]] = ftc.input "step" : tensor<f32>
// ADAMW: %[[F:.*]] = ftc.param "frozen.weight" {trainable = false} : tensor<3x2xf32>
// ADAMW: %[[W:.*]] = ftc.param "w" {trainable = true} : tensor<3x2xf32>
// ADAMW: %[[B:.*]] = ftc.param "b" {trainable = true} : tensor<3xf32>
// ADAMW: ftc.output "loss" %{{.*}} : tensor<f32>
// ADAMW: %[[DW:.*]] = ftc.linear_grad_weight
// ADAMW: %[[DB:.*]] = ftc.reduce_sum
// ADAMW-NEXT: ftc.optim.adamw %[[W]], %[[DW]], %[[LR]], %[[STEP]] {beta1 = 9.000000e-01 : f64, beta2 = 0.99899999999999999 : f64, eps = 1.000000e-08 : f64, weight_decay = 0.000000e+00 : f64} : tensor<3x2xf32>
// ADAMW-NEXT: ftc.optim.adamw %[[B]], %[[DB]], %[[LR]], %[[STEP]] {beta1 = 9.000000e-01 : f64, beta2 = 0.99899999999999999 : f64, eps = 1.000000e-08 : f64, weight_decay = 0.000000e+00 : f64} : tensor<3xf32>
// ADAMW-NEXT: return
// ADAMW-NOT: grad.
// ADAMW-NOT: %[[F]],

// ADAMW-OPTS-LABEL: func.func @train_step()
// ADAMW-OPTS: ftc.optim.adamw %{{.*}} {beta1 = 5.000000e-01 : f64, beta2 = 7.500000e-01 : f64, eps = 1.250000e-01 : f64, weight_decay = 2.500000e-01 : f64} : tensor<3x2xf32>
// ADAMW-OPTS-NEXT: ftc.optim.adamw %{{.*}} {beta1 = 5.000000e-01 : f64, beta2 = 7.500000e-01 : f64, eps = 1.250000e-01 : f64, weight_decay = 2.500000e-01 : f64} : tensor<3xf32>

// Plain SGD.
// SGD: module attributes {ftc.optimizer = "sgd"}
// SGD-LABEL: func.func @train_step()
// SGD-NEXT: %[[LR:.*]] = ftc.input "lr" : tensor<f32>
// SGD-NEXT: %[[STEP:.*]] = ftc.input "step" : tensor<f32>
// SGD: %[[W:.*]] = ftc.param "w"
// SGD: %[[B:.*]] = ftc.param "b"
// SGD: %[[DW:.*]] = ftc.linear_grad_weight
// SGD: %[[DB:.*]] = ftc.reduce_sum
// SGD-NEXT: ftc.optim.sgd %[[W]], %[[DW]], %[[LR]], %[[STEP]] {dampening = 0.000000e+00 : f64, momentum = 0.000000e+00 : f64, nesterov = false, weight_decay = 0.000000e+00 : f64} : tensor<3x2xf32>
// SGD-NEXT: ftc.optim.sgd %[[B]], %[[DB]], %[[LR]], %[[STEP]] {dampening = 0.000000e+00 : f64, momentum = 0.000000e+00 : f64, nesterov = false, weight_decay = 0.000000e+00 : f64} : tensor<3xf32>
// SGD-NEXT: return
// SGD-NOT: adamw

// SGD with momentum, dampening and weight decay.
// MOM-LABEL: func.func @train_step()
// MOM: ftc.optim.sgd %{{.*}} {dampening = 2.500000e-01 : f64, momentum = 5.000000e-01 : f64, nesterov = false, weight_decay = 1.250000e-01 : f64} : tensor<3x2xf32>
// MOM-NEXT: ftc.optim.sgd %{{.*}} {dampening = 2.500000e-01 : f64, momentum = 5.000000e-01 : f64, nesterov = false, weight_decay = 1.250000e-01 : f64} : tensor<3xf32>

// NESTEROV-LABEL: func.func @train_step()
// NESTEROV: ftc.optim.sgd %{{.*}} {dampening = 0.000000e+00 : f64, momentum = 5.000000e-01 : f64, nesterov = true, weight_decay = 0.000000e+00 : f64} : tensor<3x2xf32>
module {
  func.func @eval_step() {
    %x = ftc.input "x" : tensor<4x2xf32>
    %y = ftc.input "y" : tensor<4xi32>
    %w = ftc.param "w" {trainable = true} : tensor<3x2xf32>
    %l = ftc.linear %x, %w : (tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
    %loss = ftc.softmax_cross_entropy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
    ftc.output "loss" %loss : tensor<f32>
    ftc.output "logits" %l : tensor<4x3xf32>
    return
  }
  func.func @train_step() {
    %x = ftc.input "x" : tensor<4x2xf32>
    %y = ftc.input "y" : tensor<4xi32>
    %f = ftc.param "frozen.weight" {trainable = false} : tensor<3x2xf32>
    %w = ftc.param "w" {trainable = true} : tensor<3x2xf32>
    %b = ftc.param "b" {trainable = true} : tensor<3xf32>
    %h = ftc.linear %x, %f : (tensor<4x2xf32>, tensor<3x2xf32>) -> tensor<4x3xf32>
    %l = ftc.linear %x, %w, %b : (tensor<4x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<4x3xf32>
    %s = ftc.add %h, %l : tensor<4x3xf32>
    %loss = ftc.softmax_cross_entropy %s, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
    ftc.output "loss" %loss : tensor<f32>
    %one = ftc.fill {value = 1.0 : f64} : tensor<f32>
    %ds = ftc.softmax_cross_entropy_grad %s, %y, %one : (tensor<4x3xf32>, tensor<4xi32>, tensor<f32>) -> tensor<4x3xf32>
    %dw = ftc.linear_grad_weight %x, %ds : (tensor<4x2xf32>, tensor<4x3xf32>) -> tensor<3x2xf32>
    %db = ftc.reduce_sum %ds {axes = array<i64: 0>} : tensor<4x3xf32> -> tensor<3xf32>
    ftc.output "grad.w" %dw : tensor<3x2xf32>
    ftc.output "grad.b" %db : tensor<3xf32>
    return
  }
}
