// RUN: %ftc-opt %s --ftc-autodiff --ftc-lower-optimizer=optimizer=sgd --ftc-plan-memory --ftc-export-plan -o /dev/null | FileCheck %s
// RUN: %ftc-opt %s --ftc-apply-freeze=policy=head-only --ftc-autodiff --ftc-lower-optimizer=optimizer=sgd --ftc-plan-memory --ftc-export-plan -o /dev/null | FileCheck %s --check-prefix=FROZEN

// A small convolutional network: conv2d, batch norm (training form in
// train_step, writing its running statistics in place; the inference form
// in eval_step and predict_step), relu6, max pooling and global average
// pooling (reduce_mean), with their backward kernels. The image needs no
// gradient, so conv2d_bwd_data is pruned.
// CHECK: params (6):
// CHECK-DAG: "bn1.running_mean"{{.*}}running-stat  init zeros
// CHECK-DAG: "bn1.running_var"{{.*}}running-stat  init ones
// CHECK-LABEL: program train_step
// CHECK: conv2d(%{{[0-9]+}} "image", %{{[0-9]+}} "conv1.weight") -> ({{.*}}) {dilation = [1, 1], groups = 1, padding = [1, 1, 1, 1], stride = [2, 2]}
// CHECK: batch_norm_train({{.*}}"bn1.weight", {{.*}}"bn1.bias") -> ({{.*}}, %{{[0-9]+}} "bn1.running_mean", %{{[0-9]+}} "bn1.running_var") {eps = 1e-05, momentum = 0.1}
// CHECK: relu6(
// CHECK: max_pool2d({{.*}}) {count_include_pad = 1, kernel = [3, 3], padding = [1, 1, 1, 1], stride = [2, 2]}
// CHECK: max_pool2d_bwd(
// CHECK: relu6_bwd(
// CHECK: batch_norm_train_bwd(
// CHECK: conv2d_bwd_weights(%{{[0-9]+}} "image",
// CHECK-NOT: conv2d_bwd_data
// CHECK-LABEL: program eval_step
// CHECK-NOT: batch_norm_train
// CHECK: batch_norm_inference({{.*}}"bn1.running_mean", {{.*}}"bn1.running_var") -> ({{.*}}) {eps = 1e-05}
// CHECK-LABEL: program predict_step
// CHECK: batch_norm_inference(

// Head-only: the frozen batch norm runs in its inference form in training
// too (freeze.batch_norm = "eval", the default), and nothing below the head
// has a backward kernel.
// FROZEN-LABEL: program train_step
// FROZEN-NOT: batch_norm_train
// FROZEN: batch_norm_inference(
// FROZEN-NOT: {{(conv2d|pool2d|relu6|batch_norm)[a-z_]*_bwd}}
// FROZEN: linear_bwd_weights(
// FROZEN-NOT: {{(conv2d|pool2d|relu6|batch_norm)[a-z_]*_bwd}}
// FROZEN-LABEL: program eval_step
func.func @forward() {
  %x = ftc.input "image" : tensor<2x3x8x8xf32>
  %labels = ftc.input "label" : tensor<2xi32>
  %w = ftc.param "conv1.weight" : tensor<4x3x3x3xf32>
  %g = ftc.param "bn1.weight" {init = "ones"} : tensor<4xf32>
  %b = ftc.param "bn1.bias" : tensor<4xf32>
  %rm = ftc.running_stat "bn1.running_mean" : tensor<4xf32>
  %rv = ftc.running_stat "bn1.running_var" {init = "ones"} : tensor<4xf32>
  %c = ftc.conv2d %x, %w {stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x4x4xf32>
  %n = ftc.batch_norm %c, %g, %b, %rm, %rv : (tensor<2x4x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4x4x4xf32>
  %r = ftc.relu6 %n : tensor<2x4x4x4xf32>
  %p = ftc.max_pool2d %r {kernel = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : tensor<2x4x4x4xf32> -> tensor<2x4x2x2xf32>
  %m = ftc.reduce_mean %p {axes = array<i64: 2, 3>} : tensor<2x4x2x2xf32> -> tensor<2x4xf32>
  %fw = ftc.param "fc.weight" {head} : tensor<3x4xf32>
  %logits = ftc.linear %m, %fw : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
  %loss = ftc.softmax_cross_entropy %logits, %labels : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  ftc.output "logits" %logits : tensor<2x3xf32>
  return
}
