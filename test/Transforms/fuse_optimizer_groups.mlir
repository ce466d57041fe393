// RUN: %ftc-opt %s -split-input-file --ftc-fuse | FileCheck %s

// Consecutive AdamW updates become one update per parameter group: the two
// decayed weights, then the two biases without decay (a group in order of
// its first member, members in update order), both with the clip factor.
// CHECK-LABEL: func.func @train_step
// CHECK: %[[LR:.*]] = ftc.input "lr"
// CHECK: %[[STEP:.*]] = ftc.input "step"
// CHECK: %[[W1:.*]] = ftc.param "w1"
// CHECK: %[[B1:.*]] = ftc.param "b1"
// CHECK: %[[W2:.*]] = ftc.param "w2"
// CHECK: %[[B2:.*]] = ftc.param "b2"
// CHECK: %[[CLIP:.*]] = ftc.grad_norm_scale
// CHECK-NOT: ftc.optim.adamw %
// CHECK: ftc.optim.adamw_group(%[[W1]], %[[W2]]), (%{{.*}}, %{{.*}}), %[[LR]], %[[STEP]], %[[CLIP]] {{{.*}}weight_decay = 1.000000e-02 : f64} : (tensor<4x3xf32>, tensor<2x4xf32>), (tensor<4x3xf32>, tensor<2x4xf32>)
// CHECK-NEXT: ftc.optim.adamw_group(%[[B1]], %[[B2]]), (%{{.*}}, %{{.*}}), %[[LR]], %[[STEP]], %[[CLIP]] {{{.*}}weight_decay = 0.000000e+00 : f64} : (tensor<4xf32>, tensor<2xf32>), (tensor<4xf32>, tensor<2xf32>)
// CHECK-NEXT: return
func.func @train_step() {
  %lr = ftc.input "lr" : tensor<f32>
  %step = ftc.input "step" : tensor<f32>
  %w1 = ftc.param "w1" : tensor<4x3xf32>
  %b1 = ftc.param "b1" : tensor<4xf32>
  %w2 = ftc.param "w2" : tensor<2x4xf32>
  %b2 = ftc.param "b2" : tensor<2xf32>
  %gw1 = ftc.input "gw1" : tensor<4x3xf32>
  %gb1 = ftc.input "gb1" : tensor<4xf32>
  %gw2 = ftc.input "gw2" : tensor<2x4xf32>
  %gb2 = ftc.input "gb2" : tensor<2xf32>
  %clip = ftc.grad_norm_scale %gw1, %gb1, %gw2, %gb2 {max_norm = 1.0 : f64} : tensor<4x3xf32>, tensor<4xf32>, tensor<2x4xf32>, tensor<2xf32>
  ftc.optim.adamw %w1, %gw1, %lr, %step clip %clip {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-08 : f64, weight_decay = 0.01 : f64} : tensor<4x3xf32>
  ftc.optim.adamw %b1, %gb1, %lr, %step clip %clip {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-08 : f64, weight_decay = 0.0 : f64} : tensor<4xf32>
  ftc.optim.adamw %w2, %gw2, %lr, %step clip %clip {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-08 : f64, weight_decay = 0.01 : f64} : tensor<2x4xf32>
  ftc.optim.adamw %b2, %gb2, %lr, %step clip %clip {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-08 : f64, weight_decay = 0.0 : f64} : tensor<2xf32>
  return
}

// -----

// SGD without clipping: the group's clip factor is a constant 1. A group of
// one (the layer-wise lr_scale differs) stays a single update; so does an
// update that counts its own steps.
// CHECK-LABEL: func.func @train_step
// CHECK: ftc.optim.sgd %{{.*}} {dampening = 0.000000e+00 : f64, momentum = 0.000000e+00 : f64, nesterov = false, weight_decay = 0.000000e+00 : f64} : tensor<2x4xf32>
// CHECK-NEXT: %[[ONE:.*]] = ftc.fill {value = 1.000000e+00 : f64} : tensor<f32>
// CHECK-NEXT: ftc.optim.sgd_group(%{{.*}}, %{{.*}}), (%{{.*}}, %{{.*}}), %{{.*}}, %{{.*}}, %[[ONE]] {dampening = 0.000000e+00 : f64, lr_scale = 5.000000e-01 : f64, momentum = 0.000000e+00 : f64, nesterov = false, weight_decay = 0.000000e+00 : f64} : (tensor<4x3xf32>, tensor<4xf32>), (tensor<4x3xf32>, tensor<4xf32>)
// CHECK-NEXT: ftc.optim.sgd %{{.*}} {{{.*}}own_step = true{{.*}}} : tensor<2xf32>
func.func @train_step() {
  %lr = ftc.input "lr" : tensor<f32>
  %step = ftc.input "step" : tensor<f32>
  %w1 = ftc.param "w1" : tensor<4x3xf32>
  %b1 = ftc.param "b1" : tensor<4xf32>
  %w2 = ftc.param "w2" : tensor<2x4xf32>
  %b2 = ftc.param "b2" : tensor<2xf32>
  %gw1 = ftc.input "gw1" : tensor<4x3xf32>
  %gb1 = ftc.input "gb1" : tensor<4xf32>
  %gw2 = ftc.input "gw2" : tensor<2x4xf32>
  %gb2 = ftc.input "gb2" : tensor<2xf32>
  ftc.optim.sgd %w1, %gw1, %lr, %step {momentum = 0.0 : f64, dampening = 0.0 : f64, weight_decay = 0.0 : f64, nesterov = false, lr_scale = 0.5 : f64} : tensor<4x3xf32>
  ftc.optim.sgd %b1, %gb1, %lr, %step {momentum = 0.0 : f64, dampening = 0.0 : f64, weight_decay = 0.0 : f64, nesterov = false, lr_scale = 0.5 : f64} : tensor<4xf32>
  ftc.optim.sgd %w2, %gw2, %lr, %step {momentum = 0.0 : f64, dampening = 0.0 : f64, weight_decay = 0.0 : f64, nesterov = false} : tensor<2x4xf32>
  ftc.optim.sgd %b2, %gb2, %lr, %step {momentum = 0.0 : f64, dampening = 0.0 : f64, weight_decay = 0.0 : f64, nesterov = false, lr_scale = 1.0 : f64, own_step = true} : tensor<2xf32>
  return
}

