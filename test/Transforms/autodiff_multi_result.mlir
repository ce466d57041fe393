// RUN: %ftc-opt %s -split-input-file --ftc-autodiff | FileCheck %s

// An op with two results (add_layer_norm's normalised result and its sum)
// goes through its own VJP with both results' gradients: the sum's
// gradient is its own plus what flows back through the normalisation.
// CHECK-LABEL: func.func @train_step()
// CHECK: %[[Y:.*]], %[[S:.*]] = ftc.add_layer_norm %[[A:[0-9]+]], %[[C:[0-9]+]], %[[G:[0-9]+]], %[[B:[0-9]+]]
// CHECK: %[[DX:.*]], %[[DG:.*]], %[[DB:.*]] = ftc.layer_norm_grad %[[S]], %[[G]], %{{.*}}
// CHECK-NEXT: %[[DS:.*]] = ftc.add %[[DX]], %{{.*}} : tensor<2x3xf32>
// CHECK-DAG: ftc.output "grad.a" %[[DS]]
// CHECK-DAG: ftc.output "grad.c" %[[DS]]
// CHECK-DAG: ftc.output "grad.g" %[[DG]]
// CHECK-DAG: ftc.output "grad.b" %[[DB]]
func.func @forward() {
  %a = ftc.param "a" : tensor<2x3xf32>
  %c = ftc.param "c" : tensor<2x3xf32>
  %g = ftc.param "g" : tensor<3xf32>
  %b = ftc.param "b" : tensor<3xf32>
  %y, %s = ftc.add_layer_norm %a, %c, %g, %b {eps = 1.0e-5 : f64} : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>)
  %t = ftc.mul %y, %s : tensor<2x3xf32>
  %loss = ftc.reduce_sum %t {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}

// -----

// Only the sum reaches the loss: no layer_norm_grad, and gamma and beta get
// zero gradients (they cannot change the loss), not a missing output.
// CHECK-LABEL: func.func @train_step()
// CHECK-NOT: ftc.layer_norm_grad
// CHECK-DAG: %[[Z1:.*]] = ftc.fill {value = 0.000000e+00 : f64} : tensor<3xf32>
// CHECK-DAG: %[[Z2:.*]] = ftc.fill {value = 0.000000e+00 : f64} : tensor<3xf32>
// CHECK-DAG: ftc.output "grad.g" %[[Z1]]
// CHECK-DAG: ftc.output "grad.b" %[[Z2]]
// CHECK-DAG: ftc.output "grad.a" %[[DS:[0-9]+]]
// CHECK-DAG: ftc.output "grad.c" %[[DS]]
func.func @forward() {
  %a = ftc.param "a" : tensor<2x3xf32>
  %c = ftc.param "c" : tensor<2x3xf32>
  %g = ftc.param "g" : tensor<3xf32>
  %b = ftc.param "b" : tensor<3xf32>
  %y, %s = ftc.add_layer_norm %a, %c, %g, %b {eps = 1.0e-5 : f64} : (tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>)
  %loss = ftc.reduce_sum %s {axes = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}
