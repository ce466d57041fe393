// RUN: %ftc-opt %s -split-input-file --ftc-fuse | FileCheck %s

// A residual addition feeding a layer norm becomes one op; in training the
// layer norm's gradient reads the fused op's sum.
// CHECK-LABEL: func.func @train_step
// CHECK: %[[Y:.*]], %[[S:.*]] = ftc.add_layer_norm %[[A:.*]], %[[B:.*]], %[[G:.*]], %[[BETA:.*]] {eps = 9.9999999999999998E-13 : f64} : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>)
// CHECK-NOT: ftc.add %
// CHECK-NOT: ftc.layer_norm %
// CHECK: ftc.layer_norm_grad %[[S]], %[[G]], %{{.*}} {eps = 9.9999999999999998E-13 : f64}
// CHECK: ftc.output "y" %[[Y]]
func.func @train_step() {
  %a = ftc.input "a" : tensor<2x4x8xf32>
  %b = ftc.input "b" : tensor<2x4x8xf32>
  %dy = ftc.input "dy" : tensor<2x4x8xf32>
  %g = ftc.param "g" : tensor<8xf32>
  %beta = ftc.param "beta" : tensor<8xf32>
  %s = ftc.add %a, %b : tensor<2x4x8xf32>
  %y = ftc.layer_norm %s, %g, %beta {eps = 1.0e-12 : f64} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  %dx, %dg, %db = ftc.layer_norm_grad %s, %g, %dy {eps = 1.0e-12 : f64} : (tensor<2x4x8xf32>, tensor<8xf32>, tensor<2x4x8xf32>) -> (tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  ftc.output "y" %y : tensor<2x4x8xf32>
  ftc.output "dx" %dx : tensor<2x4x8xf32>
  return
}

// -----

// The sum has another reader (a second residual branch): not fused.
// CHECK-LABEL: func.func @eval_step
// CHECK-NOT: add_layer_norm
// CHECK: %[[S:.*]] = ftc.add %
// CHECK: ftc.layer_norm %[[S]]
func.func @eval_step() {
  %a = ftc.input "a" : tensor<4x8xf32>
  %b = ftc.input "b" : tensor<4x8xf32>
  %g = ftc.param "g" : tensor<8xf32>
  %beta = ftc.param "beta" : tensor<8xf32>
  %s = ftc.add %a, %b : tensor<4x8xf32>
  %y = ftc.layer_norm %s, %g, %beta {eps = 1.0e-12 : f64} : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %z = ftc.add %y, %s : tensor<4x8xf32>
  ftc.output "z" %z : tensor<4x8xf32>
  return
}

// -----

// The sum is read as a layer norm gradient's output gradient, not its
// input: not fused.
// CHECK-LABEL: func.func @train_step
// CHECK-NOT: add_layer_norm
func.func @train_step() {
  %a = ftc.input "a" : tensor<4x8xf32>
  %b = ftc.input "b" : tensor<4x8xf32>
  %g = ftc.param "g" : tensor<8xf32>
  %beta = ftc.param "beta" : tensor<8xf32>
  %s = ftc.add %a, %b : tensor<4x8xf32>
  %y = ftc.layer_norm %s, %g, %beta {eps = 1.0e-12 : f64} : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %dx, %dg, %db = ftc.layer_norm_grad %y, %g, %s {eps = 1.0e-12 : f64} : (tensor<4x8xf32>, tensor<8xf32>, tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  ftc.output "dx" %dx : tensor<4x8xf32>
  return
}
