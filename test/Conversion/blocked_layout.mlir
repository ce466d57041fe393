// RUN: %ftc-opt %s --ftc-autodiff --ftc-lower-optimizer=optimizer=sgd --ftc-plan-memory --ftc-export-plan -o /dev/null | FileCheck %s

// The plan keeps the activations between convolutions in oneDNN's blocked
// nChw16c layout: conv -> batch norm -> relu -> conv and the backward
// kernels that read them run without a reorder. What a kernel needs plain
// stays plain: the image (3 channels), average pooling's input, the
// weights and their gradients.
// CHECK-DAG: "image"{{$}}
// CHECK-DAG: "train_step.conv2d.{{[0-9]+}}"  nChw16c
// CHECK-DAG: "train_step.batch_norm.{{[0-9]+}}"  nChw16c
// CHECK-DAG: "train_step.relu.{{[0-9]+}}"  nChw16c
// CHECK-DAG: "train_step.conv2d_grad_weight.{{[0-9]+}}"{{$}}
// CHECK-DAG: "eval_step.batch_norm_inference.{{[0-9]+}}"  nChw16c
// The second convolution's output feeds average pooling: plain.
// CHECK-DAG: "train_step.conv2d.[[OUT:[0-9]+]]"{{$}}
// CHECK: program train_step
// CHECK: avg_pool2d(%{{[0-9]+}} "train_step.conv2d.[[OUT]]")
func.func @forward() {
  %x = ftc.input "image" : tensor<2x3x8x8xf32>
  %labels = ftc.input "label" : tensor<2xi32>
  %w1 = ftc.param "conv1.weight" : tensor<16x3x3x3xf32>
  %g = ftc.param "bn1.weight" {init = "ones"} : tensor<16xf32>
  %b = ftc.param "bn1.bias" : tensor<16xf32>
  %rm = ftc.running_stat "bn1.running_mean" : tensor<16xf32>
  %rv = ftc.running_stat "bn1.running_var" {init = "ones"} : tensor<16xf32>
  %c1 = ftc.conv2d %x, %w1 {padding = array<i64: 1, 1>} : (tensor<2x3x8x8xf32>, tensor<16x3x3x3xf32>) -> tensor<2x16x8x8xf32>
  %n = ftc.batch_norm %c1, %g, %b, %rm, %rv : (tensor<2x16x8x8xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<2x16x8x8xf32>
  %r = ftc.relu %n : tensor<2x16x8x8xf32>
  %w2 = ftc.param "conv2.weight" : tensor<32x16x3x3xf32>
  %c2 = ftc.conv2d %r, %w2 {padding = array<i64: 1, 1>} : (tensor<2x16x8x8xf32>, tensor<32x16x3x3xf32>) -> tensor<2x32x8x8xf32>
  %p = ftc.avg_pool2d %c2 {kernel = array<i64: 2, 2>, stride = array<i64: 2, 2>} : tensor<2x32x8x8xf32> -> tensor<2x32x4x4xf32>
  %m = ftc.reduce_mean %p {axes = array<i64: 2, 3>} : tensor<2x32x4x4xf32> -> tensor<2x32xf32>
  %fw = ftc.param "fc.weight" {head} : tensor<3x32xf32>
  %logits = ftc.linear %m, %fw : (tensor<2x32xf32>, tensor<3x32xf32>) -> tensor<2x3xf32>
  %loss = ftc.softmax_cross_entropy %logits, %labels : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  ftc.output "logits" %logits : tensor<2x3xf32>
  return
}
