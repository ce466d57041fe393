// RUN: %ftc-opt %s | %ftc-opt | FileCheck %s
// RUN: %ftc-opt %s --mlir-print-op-generic | %ftc-opt | FileCheck %s
// RUN: %ftc-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// Round trip of every ftc op in its custom form, and through the generic form.

// CHECK-LABEL: func.func @boundary
// CHECK:   %[[X:.*]] = ftc.input "image" : tensor<4x6xf32>
// CHECK:   %[[LR:.*]] = ftc.input "lr" : tensor<f32>
// CHECK:   %[[Y:.*]] = ftc.input "label" : tensor<4xi32>
// CHECK:   %[[W:.*]] = ftc.param "layers.0.weight" {init = "uniform", init_a = -1.000000e-01 : f64, init_b = 1.000000e-01 : f64} : tensor<5x6xf32>
// CHECK:   %[[N:.*]] = ftc.param "layers.1.weight" {init = "normal", init_b = 2.000000e-02 : f64} : tensor<5x5xf32>
// CHECK:   %[[B:.*]] = ftc.param "layers.0.bias" : tensor<5xf32>
// CHECK:   %[[H:.*]] = ftc.param "classifier.bias" {head, init = "ones", trainable = false} : tensor<3xf32>
// CHECK:   ftc.output "logits" %[[X]] : tensor<4x6xf32>
// CHECK:   ftc.output "labels" %[[Y]] : tensor<4xi32>
// GENERIC-LABEL: sym_name = "boundary"
// GENERIC: "ftc.input"() {name = "image"} : () -> tensor<4x6xf32>
// GENERIC: "ftc.param"() {init = "uniform", init_a = -1.000000e-01 : f64, init_b = 1.000000e-01 : f64, name = "layers.0.weight"} : () -> tensor<5x6xf32>
// GENERIC: "ftc.output"(%{{.*}}) {role = "logits"} : (tensor<4x6xf32>) -> ()
func.func @boundary() {
  %x = ftc.input "image" : tensor<4x6xf32>
  %lr = ftc.input "lr" : tensor<f32>
  %y = ftc.input "label" : tensor<4xi32>
  %w = ftc.param "layers.0.weight" {init = "uniform", init_a = -0.1 : f64, init_b = 0.1 : f64} : tensor<5x6xf32>
  %n = ftc.param "layers.1.weight" {init = "normal", init_b = 0.02 : f64} : tensor<5x5xf32>
  %b = ftc.param "layers.0.bias" {init = "zeros"} : tensor<5xf32>
  %h = ftc.param "classifier.bias" {head, init = "ones", trainable = false} : tensor<3xf32>
  ftc.output "logits" %x : tensor<4x6xf32>
  ftc.output "labels" %y : tensor<4xi32>
  return
}

// CHECK-LABEL: func.func @compute
// CHECK-SAME: (%[[X:.*]]: tensor<4x6xf32>, %[[W:.*]]: tensor<5x6xf32>, %[[B:.*]]: tensor<5xf32>, %[[Y:.*]]: tensor<4xi32>, %[[T:.*]]: tensor<2x3x4xf32>)
// CHECK:   %[[L:.*]] = ftc.linear %[[X]], %[[W]], %[[B]] : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<5xf32>) -> tensor<4x5xf32>
// CHECK:   %[[LNB:.*]] = ftc.linear %[[X]], %[[W]] : (tensor<4x6xf32>, tensor<5x6xf32>) -> tensor<4x5xf32>
// CHECK:   %[[R:.*]] = ftc.relu %[[L]] : tensor<4x5xf32>
// CHECK:   %[[G:.*]] = ftc.gelu %[[LNB]] : tensor<4x5xf32>
// CHECK:   %[[A:.*]] = ftc.add %[[R]], %[[G]] : tensor<4x5xf32>
// CHECK:   %[[S:.*]] = ftc.sub %[[A]], %[[G]] : tensor<4x5xf32>
// CHECK:   %[[M:.*]] = ftc.mul %[[S]], %[[R]] : tensor<4x5xf32>
// CHECK:   %[[SC:.*]] = ftc.scale %[[M]] {factor = -5.000000e-01 : f64} : tensor<4x5xf32>
// CHECK:   %[[F:.*]] = ftc.fill {value = 1.000000e+00 : f64} : tensor<f32>
// CHECK:   %[[RS:.*]] = ftc.reduce_sum %[[SC]] {axes = array<i64: 0>} : tensor<4x5xf32> -> tensor<5xf32>
// CHECK:   %[[RM:.*]] = ftc.reduce_mean %[[T]] {axes = array<i64: 0, 2>} : tensor<2x3x4xf32> -> tensor<3xf32>
// CHECK:   %[[ALL:.*]] = ftc.reduce_sum %[[T]] {axes = array<i64: 0, 1, 2>} : tensor<2x3x4xf32> -> tensor<f32>
// CHECK:   %[[BC:.*]] = ftc.broadcast %[[RS]] {axes = array<i64: 0>} : tensor<5xf32> -> tensor<4x5xf32>
// CHECK:   %[[BC2:.*]] = ftc.broadcast %[[RM]] {axes = array<i64: 0, 2>} : tensor<3xf32> -> tensor<2x3x4xf32>
// CHECK:   %[[RE:.*]] = ftc.reshape %[[BC2]] {shape = array<i64: 6, 4>} : tensor<2x3x4xf32> -> tensor<6x4xf32>
// CHECK:   %[[LOSS:.*]] = ftc.softmax_cross_entropy %[[BC]], %[[Y]] : (tensor<4x5xf32>, tensor<4xi32>) -> tensor<f32>
// CHECK:   %[[DL:.*]] = ftc.softmax_cross_entropy_grad %[[BC]], %[[Y]], %[[F]] : (tensor<4x5xf32>, tensor<4xi32>, tensor<f32>) -> tensor<4x5xf32>
// CHECK:   %[[RG:.*]] = ftc.relu_grad %[[L]], %[[DL]] : tensor<4x5xf32>
// CHECK:   %[[GG:.*]] = ftc.gelu_grad %[[LNB]], %[[RG]] : tensor<4x5xf32>
// CHECK:   %[[DX:.*]] = ftc.linear_grad_data %[[GG]], %[[W]] : (tensor<4x5xf32>, tensor<5x6xf32>) -> tensor<4x6xf32>
// CHECK:   %[[DW:.*]] = ftc.linear_grad_weight %[[X]], %[[GG]] : (tensor<4x6xf32>, tensor<4x5xf32>) -> tensor<5x6xf32>
// CHECK:   return %[[LOSS]], %[[DX]], %[[DW]], %[[RE]], %[[ALL]] :
// GENERIC-LABEL: sym_name = "compute"
// GENERIC: "ftc.linear"(%{{.*}}, %{{.*}}, %{{.*}}) : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<5xf32>) -> tensor<4x5xf32>
// GENERIC: "ftc.linear"(%{{.*}}, %{{.*}}) : (tensor<4x6xf32>, tensor<5x6xf32>) -> tensor<4x5xf32>
// GENERIC: "ftc.scale"(%{{.*}}) {factor = -5.000000e-01 : f64} : (tensor<4x5xf32>) -> tensor<4x5xf32>
// GENERIC: "ftc.reduce_mean"(%{{.*}}) {axes = array<i64: 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3xf32>
// GENERIC: "ftc.softmax_cross_entropy"(%{{.*}}, %{{.*}}) : (tensor<4x5xf32>, tensor<4xi32>) -> tensor<f32>
func.func @compute(%x: tensor<4x6xf32>, %w: tensor<5x6xf32>, %b: tensor<5xf32>, %y: tensor<4xi32>, %t: tensor<2x3x4xf32>)
    -> (tensor<f32>, tensor<4x6xf32>, tensor<5x6xf32>, tensor<6x4xf32>, tensor<f32>) {
  %l = ftc.linear %x, %w, %b : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %lnb = ftc.linear %x, %w : (tensor<4x6xf32>, tensor<5x6xf32>) -> tensor<4x5xf32>
  %r = ftc.relu %l : tensor<4x5xf32>
  %g = ftc.gelu %lnb : tensor<4x5xf32>
  %a = ftc.add %r, %g : tensor<4x5xf32>
  %s = ftc.sub %a, %g : tensor<4x5xf32>
  %m = ftc.mul %s, %r : tensor<4x5xf32>
  %sc = ftc.scale %m {factor = -0.5 : f64} : tensor<4x5xf32>
  %f = ftc.fill {value = 1.0 : f64} : tensor<f32>
  %rs = ftc.reduce_sum %sc {axes = array<i64: 0>} : tensor<4x5xf32> -> tensor<5xf32>
  %rm = ftc.reduce_mean %t {axes = array<i64: 0, 2>} : tensor<2x3x4xf32> -> tensor<3xf32>
  %all = ftc.reduce_sum %t {axes = array<i64: 0, 1, 2>} : tensor<2x3x4xf32> -> tensor<f32>
  %bc = ftc.broadcast %rs {axes = array<i64: 0>} : tensor<5xf32> -> tensor<4x5xf32>
  %bc2 = ftc.broadcast %rm {axes = array<i64: 0, 2>} : tensor<3xf32> -> tensor<2x3x4xf32>
  %re = ftc.reshape %bc2 {shape = array<i64: 6, 4>} : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %loss = ftc.softmax_cross_entropy %bc, %y : (tensor<4x5xf32>, tensor<4xi32>) -> tensor<f32>
  %dl = ftc.softmax_cross_entropy_grad %bc, %y, %f : (tensor<4x5xf32>, tensor<4xi32>, tensor<f32>) -> tensor<4x5xf32>
  %rg = ftc.relu_grad %l, %dl : tensor<4x5xf32>
  %gg = ftc.gelu_grad %lnb, %rg : tensor<4x5xf32>
  %dx = ftc.linear_grad_data %gg, %w : (tensor<4x5xf32>, tensor<5x6xf32>) -> tensor<4x6xf32>
  %dw = ftc.linear_grad_weight %x, %gg : (tensor<4x6xf32>, tensor<4x5xf32>) -> tensor<5x6xf32>
  return %loss, %dx, %dw, %re, %all : tensor<f32>, tensor<4x6xf32>, tensor<5x6xf32>, tensor<6x4xf32>, tensor<f32>
}

// CHECK-LABEL: func.func @updates
// CHECK-SAME: (%[[G:.*]]: tensor<5x6xf32>)
// CHECK:   %[[LR:.*]] = ftc.input "lr" : tensor<f32>
// CHECK:   %[[STEP:.*]] = ftc.input "step" : tensor<f32>
// CHECK:   %[[W:.*]] = ftc.param "w" : tensor<5x6xf32>
// CHECK:   ftc.optim.sgd %[[W]], %[[G]], %[[LR]], %[[STEP]] {dampening = 0.000000e+00 : f64, momentum = 9.000000e-01 : f64, nesterov = true, weight_decay = 1.000000e-04 : f64} : tensor<5x6xf32>
// CHECK:   ftc.optim.adamw %[[W]], %[[G]], %[[LR]], %[[STEP]] {beta1 = 9.000000e-01 : f64, beta2 = 5.000000e-01 : f64, eps = 1.000000e-08 : f64, weight_decay = 0.000000e+00 : f64} : tensor<5x6xf32>
// GENERIC-LABEL: sym_name = "updates"
// GENERIC: "ftc.optim.sgd"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) {dampening = 0.000000e+00 : f64, lr_scale = 1.000000e+00 : f64, momentum = 9.000000e-01 : f64, nesterov = true, own_step = false, weight_decay = 1.000000e-04 : f64} : (tensor<5x6xf32>, tensor<5x6xf32>, tensor<f32>, tensor<f32>) -> ()
// GENERIC: "ftc.optim.adamw"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) {beta1
func.func @updates(%g: tensor<5x6xf32>) {
  %lr = ftc.input "lr" : tensor<f32>
  %step = ftc.input "step" : tensor<f32>
  %w = ftc.param "w" : tensor<5x6xf32>
  ftc.optim.sgd %w, %g, %lr, %step {momentum = 0.9 : f64, dampening = 0.0 : f64, weight_decay = 1.0e-4 : f64, nesterov = true} : tensor<5x6xf32>
  ftc.optim.adamw %w, %g, %lr, %step {beta1 = 0.9 : f64, beta2 = 0.5 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : tensor<5x6xf32>
  return
}

// The fused ops that ftc-fuse forms.
// CHECK-LABEL: func.func @fused
// CHECK: ftc.linear_gelu %{{.*}}, %{{.*}}, %{{.*}} : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<5xf32>) -> tensor<4x5xf32>
// CHECK: %{{.*}}, %{{.*}} = ftc.add_layer_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {eps = 9.9999999999999998E-13 : f64} : (tensor<4x5xf32>, tensor<4x5xf32>, tensor<5xf32>, tensor<5xf32>) -> (tensor<4x5xf32>, tensor<4x5xf32>)
// CHECK: ftc.optim.adamw_group(%{{.*}}, %{{.*}}), (%{{.*}}, %{{.*}}), %{{.*}}, %{{.*}}, %{{.*}} {beta1 = 9.000000e-01 : f64, beta2 = 0.99899999999999999 : f64, eps = 1.000000e-08 : f64, weight_decay = 0.000000e+00 : f64} : (tensor<5x6xf32>, tensor<5xf32>), (tensor<5x6xf32>, tensor<5xf32>)
// CHECK: ftc.optim.sgd_group(%{{.*}}), (%{{.*}}), %{{.*}}, %{{.*}}, %{{.*}} {dampening = 0.000000e+00 : f64, momentum = 0.000000e+00 : f64, nesterov = false, weight_decay = 0.000000e+00 : f64} : (tensor<5x6xf32>), (tensor<5x6xf32>)
// GENERIC-LABEL: sym_name = "fused"
// GENERIC: "ftc.linear_gelu"
// GENERIC: "ftc.add_layer_norm"
// GENERIC: "ftc.optim.adamw_group"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}})
// GENERIC: "ftc.optim.sgd_group"
func.func @fused(%x: tensor<4x6xf32>, %r: tensor<4x5xf32>, %gw: tensor<5x6xf32>, %gb: tensor<5xf32>) {
  %lr = ftc.input "lr" : tensor<f32>
  %step = ftc.input "step" : tensor<f32>
  %one = ftc.fill {value = 1.0 : f64} : tensor<f32>
  %w = ftc.param "w" : tensor<5x6xf32>
  %b = ftc.param "b" : tensor<5xf32>
  %h = ftc.linear_gelu %x, %w, %b : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %y, %s = ftc.add_layer_norm %h, %r, %b, %b {eps = 1.0e-12 : f64} : (tensor<4x5xf32>, tensor<4x5xf32>, tensor<5xf32>, tensor<5xf32>) -> (tensor<4x5xf32>, tensor<4x5xf32>)
  ftc.optim.adamw_group(%w, %b), (%gw, %gb), %lr, %step, %one {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : (tensor<5x6xf32>, tensor<5xf32>), (tensor<5x6xf32>, tensor<5xf32>)
  ftc.optim.sgd_group(%w), (%gw), %lr, %step, %one {momentum = 0.0 : f64, dampening = 0.0 : f64, weight_decay = 0.0 : f64, nesterov = false} : (tensor<5x6xf32>), (tensor<5x6xf32>)
  return
}

// CHECK-LABEL: func.func @strided
// CHECK: ftc.strided_batch_matmul %{{.*}}, %{{.*}} {lhs_perm = array<i64: 0, 2, 1, 3>, result_perm = array<i64: 0, 1, 2, 3>, rhs_perm = array<i64: 0, 2, 3, 1>} : (tensor<2x5x3x4xf32>, tensor<2x5x3x4xf32>) -> tensor<2x3x5x5xf32>
// GENERIC-LABEL: sym_name = "strided"
// GENERIC: "ftc.strided_batch_matmul"
func.func @strided(%a: tensor<2x5x3x4xf32>, %b: tensor<2x5x3x4xf32>) -> tensor<2x3x5x5xf32> {
  %c = ftc.strided_batch_matmul %a, %b {lhs_perm = array<i64: 0, 2, 1, 3>, rhs_perm = array<i64: 0, 2, 3, 1>, result_perm = array<i64: 0, 1, 2, 3>} : (tensor<2x5x3x4xf32>, tensor<2x5x3x4xf32>) -> tensor<2x3x5x5xf32>
  return %c : tensor<2x3x5x5xf32>
}

// Broadcasting binary ops print their three types only when they differ.
// CHECK-LABEL: func.func @broadcasting
// CHECK: ftc.add %{{.*}}, %{{.*}} : (tensor<3x4xf32>, tensor<1x4xf32>) -> tensor<3x4xf32>
// CHECK: ftc.mul %{{.*}}, %{{.*}} : tensor<3x4xf32>
func.func @broadcasting(%a: tensor<3x4xf32>, %b: tensor<1x4xf32>) -> tensor<3x4xf32> {
  %c = ftc.add %a, %b : (tensor<3x4xf32>, tensor<1x4xf32>) -> tensor<3x4xf32>
  %d = ftc.mul %c, %a : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  return %d : tensor<3x4xf32>
}

// Selection: compare (f32 and i32), where, slice, its gradient, concat.
// CHECK-LABEL: func.func @selection
// CHECK: ftc.compare %{{.*}}, %{{.*}} {predicate = "le"} : (tensor<3x4xf32>, tensor<1x4xf32>) -> tensor<3x4xi32>
// CHECK: ftc.fill {value = 1.000000e+00 : f64} : tensor<3x1xi32>
// CHECK: ftc.compare %{{.*}}, %{{.*}} {predicate = "eq"} : (tensor<3x4xi32>, tensor<3x1xi32>) -> tensor<3x4xi32>
// CHECK: ftc.where %{{.*}}, %{{.*}}, %{{.*}} : (tensor<3x4xi32>, tensor<3x4xf32>, tensor<1x4xf32>) -> tensor<3x4xf32>
// CHECK: ftc.slice %{{.*}} {axis = 1 : i64, size = 2 : i64, start = 1 : i64} : tensor<3x4xf32> -> tensor<3x2xf32>
// CHECK: ftc.slice_grad %{{.*}} {axis = 1 : i64, start = 1 : i64} : tensor<3x2xf32> -> tensor<3x4xf32>
// CHECK: ftc.concat %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<6x4xf32>
// GENERIC-LABEL: sym_name = "selection"
// GENERIC: "ftc.compare"(%{{.*}}, %{{.*}}) {predicate = "le"}
// GENERIC: "ftc.concat"(%{{.*}}, %{{.*}}) {axis = 0 : i64}
func.func @selection(%a: tensor<3x4xf32>, %b: tensor<1x4xf32>, %i: tensor<3x4xi32>) -> tensor<6x4xf32> {
  %c = ftc.compare %a, %b {predicate = "le"} : (tensor<3x4xf32>, tensor<1x4xf32>) -> tensor<3x4xi32>
  %one = ftc.fill {value = 1.0 : f64} : tensor<3x1xi32>
  %e = ftc.compare %i, %one {predicate = "eq"} : (tensor<3x4xi32>, tensor<3x1xi32>) -> tensor<3x4xi32>
  %w = ftc.where %c, %a, %b : (tensor<3x4xi32>, tensor<3x4xf32>, tensor<1x4xf32>) -> tensor<3x4xf32>
  %s = ftc.slice %w {axis = 1 : i64, start = 1 : i64, size = 2 : i64} : tensor<3x4xf32> -> tensor<3x2xf32>
  %g = ftc.slice_grad %s {axis = 1 : i64, start = 1 : i64} : tensor<3x2xf32> -> tensor<3x4xf32>
  %j = ftc.concat %g, %w {axis = 0 : i64} : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<6x4xf32>
  return %j : tensor<6x4xf32>
}
