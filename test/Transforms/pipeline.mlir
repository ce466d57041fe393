// RUN: %ftc-opt %s --ftc-training-pipeline | FileCheck %s
// RUN: %ftc-opt %s --ftc-training-pipeline > %t.pipeline
// RUN: %ftc-opt %s --ftc-apply-freeze --ftc-autodiff --ftc-lower-optimizer --ftc-cache-frozen-prefix --ftc-fuse --ftc-plan-memory > %t.passes
// RUN: diff %t.pipeline %t.passes
// RUN: %ftc-opt %s --ftc-training-pipeline --ftc-export-plan -o /dev/null | FileCheck %s --check-prefix=PLAN

// The default training pipeline: freeze policy none, autodiff, AdamW with
// default options, frozen-prefix caching (nothing is frozen here), fusion
// and memory planning, identical to running the six passes in order, and
// ready for conversion to a plan.

// CHECK: module attributes {ftc.freeze_policy = "none", ftc.frozen_prefix = "no parameter is frozen", ftc.frozen_prefix_eval = "no parameter is frozen", ftc.optimizer = "adamw"}
// CHECK-NOT: @forward
// CHECK-LABEL: func.func @eval_step() attributes {ftc.arena_bytes = 256 : i64}
// CHECK: ftc.param "layers.0.weight" {{{.*}}trainable = true} : tensor<5x6xf32>
// CHECK: %[[L:.*]] = ftc.linear {{.*}} {ftc.offset = 0 : i64} : (tensor<4x5xf32>, tensor<3x5xf32>, tensor<3xf32>) -> tensor<4x3xf32>
// CHECK: ftc.softmax_cross_entropy %[[L]], %{{.*}} {ftc.offset = 64 : i64}
// CHECK: ftc.output "logits" %[[L]]
// CHECK-LABEL: func.func @train_step() attributes {ftc.arena_bytes = 640 : i64}
// CHECK-NEXT: %[[LR:.*]] = ftc.input "lr" : tensor<f32>
// CHECK-NEXT: %[[STEP:.*]] = ftc.input "step" : tensor<f32>
// CHECK: %[[W1:.*]] = ftc.param "layers.0.weight"
// CHECK: %[[B1:.*]] = ftc.param "layers.0.bias" {trainable = true}
// CHECK: %[[W2:.*]] = ftc.param "classifier.weight" {head, trainable = true}
// CHECK: %[[B2:.*]] = ftc.param "classifier.bias" {head, trainable = true}
// CHECK: ftc.linear_grad_data {{.*}} {ftc.offset = 512 : i64}
// CHECK: ftc.relu_grad
// One AdamW update for the one parameter group (no clipping: factor 1).
// CHECK: %[[ONE:.*]] = ftc.fill {{.*}}value = 1.000000e+00 : f64} : tensor<f32>
// CHECK-NEXT: ftc.optim.adamw_group(%[[W1]], %[[B1]], %[[W2]], %[[B2]]), ({{.*}}), %[[LR]], %[[STEP]], %[[ONE]] {beta1 = 9.000000e-01 : f64, beta2 = 0.99899999999999999 : f64, eps = 1.000000e-08 : f64, weight_decay = 0.000000e+00 : f64} : (tensor<5x6xf32>, tensor<5xf32>, tensor<3x5xf32>, tensor<3xf32>), (tensor<5x6xf32>, tensor<5xf32>, tensor<3x5xf32>, tensor<3xf32>)
// CHECK-NEXT: return
// CHECK-NOT: ftc.output "grad.

// PLAN: ftc plan v1 {{.*}} optimizer "adamw"
// PLAN: "layers.0.weight.exp_avg"
// PLAN: "classifier.bias.exp_avg_sq"
// PLAN: program train_step (12 steps, arena 640 bytes):
// PLAN: 11: adamw_group({{.*}} -> (%{{[0-9]+}} "layers.0.weight", {{.*}} "classifier.bias.exp_avg_sq") {{{.*}}tensors = 4
// PLAN-NEXT: outputs: loss =
// PLAN: program eval_step (4 steps, arena 256 bytes):
func.func @forward() {
  %x = ftc.input "image" : tensor<4x6xf32>
  %y = ftc.input "label" : tensor<4xi32>
  %w1 = ftc.param "layers.0.weight" {init = "uniform", init_a = -0.1 : f64, init_b = 0.1 : f64} : tensor<5x6xf32>
  %b1 = ftc.param "layers.0.bias" : tensor<5xf32>
  %w2 = ftc.param "classifier.weight" {head} : tensor<3x5xf32>
  %b2 = ftc.param "classifier.bias" {head} : tensor<3xf32>
  %h = ftc.linear %x, %w1, %b1 : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %a = ftc.relu %h : tensor<4x5xf32>
  %l = ftc.linear %a, %w2, %b2 : (tensor<4x5xf32>, tensor<3x5xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %loss = ftc.softmax_cross_entropy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  ftc.output "logits" %l : tensor<4x3xf32>
  return
}
