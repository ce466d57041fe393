// RUN: %ftc-opt %s --ftc-autodiff --ftc-lower-optimizer=optimizer=sgd --ftc-plan-memory --ftc-export-plan -o /dev/null | FileCheck %s

// A causal attention softmax (GPT-2) lowers to masked_softmax with
// `causal = 1`; its backward is the ordinary softmax_bwd from the output
// (hidden keys have zero weight, hence zero gradient).
// CHECK-LABEL: program train_step
// CHECK: masked_softmax({{.*}}) -> ({{.*}}) {causal = 1, scale = 0.5}
// CHECK: softmax_bwd({{.*}}) -> ({{.*}}) {scale = 0.5}
// CHECK-LABEL: program eval_step
// CHECK: masked_softmax({{.*}}) -> ({{.*}}) {causal = 1, scale = 0.5}
func.func @forward() {
  %x = ftc.input "x" : tensor<2x3x3xf32>
  %labels = ftc.input "label" : tensor<2xi32>
  %w = ftc.param "w" : tensor<2x9xf32>
  %q = ftc.param "q" : tensor<2x3x3xf32>
  %s = ftc.mul %x, %q : tensor<2x3x3xf32>
  %p = ftc.masked_softmax %s {scale = 0.5 : f64, causal = 1} : (tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
  %f = ftc.reshape %p {shape = array<i64: 2, 9>} : tensor<2x3x3xf32> -> tensor<2x9xf32>
  %logits = ftc.linear %f, %w : (tensor<2x9xf32>, tensor<2x9xf32>) -> tensor<2x2xf32>
  %loss = ftc.softmax_cross_entropy %logits, %labels : (tensor<2x2xf32>, tensor<2xi32>) -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  ftc.output "logits" %logits : tensor<2x2xf32>
  return
}
