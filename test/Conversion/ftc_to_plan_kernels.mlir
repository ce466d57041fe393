// RUN: %ftc-opt %s --ftc-autodiff --ftc-lower-optimizer=optimizer=sgd --ftc-plan-memory --ftc-export-plan -o /dev/null | FileCheck %s

// Every ftc op maps to its runtime-contract kernel: reshape of an
// intermediate -> no kernel (a view of the same arena slice, as
// ftc-plan-memory placed it), reduce_mean -> reduce_sum + in-place scale,
// *_grad -> *_bwd, linear_grad_data/weight -> linear_bwd_data/weights.

// CHECK: ftc plan v1 {{.*}} optimizer "sgd"
// CHECK-NOT: opt_state
// CHECK-LABEL: buffers
// The two reshapes of the gelu result are views of its slice; those of the
// gradient share one slice too.
// CHECK: %{{[0-9]+}} temp f32 [2,4] 32 train_step @[[GOFF:[0-9]+]] "train_step.gelu.{{[0-9]+}}"
// CHECK-NEXT: %{{[0-9]+}} temp f32 [8] 32 train_step @[[GOFF]] "train_step.reshape.{{[0-9]+}}"
// CHECK-NEXT: %[[R2:[0-9]+]] temp f32 [2,4] 32 train_step @[[GOFF]] "train_step.reshape.{{[0-9]+}}"
// CHECK: %{{[0-9]+}} temp f32 [8] 32 train_step @[[DOFF:[0-9]+]] "train_step.reshape.{{[0-9]+}}"
// CHECK-NEXT: %[[DG:[0-9]+]] temp f32 [2,4] 32 train_step @[[DOFF]] "train_step.reshape.{{[0-9]+}}"
// CHECK-LABEL: program train_step (31 steps, arena 576 bytes):
// CHECK-NEXT: 0: linear(%2 "image", %4 "l1.weight", %5 "l1.bias") -> (%[[H:[0-9]+]] {{.*}})
// CHECK-NEXT: 1: gelu(%[[H]] {{.*}}) -> (%[[G:[0-9]+]] {{.*}})
// CHECK-NEXT: 2: broadcast(%6 "gate") -> (%[[SB:[0-9]+]] {{.*}}) {axes = [0]}
// CHECK-NEXT: 3: mul(%[[R2]] {{.*}}, %[[SB]] {{.*}}) -> (%[[M:[0-9]+]] {{.*}})
// CHECK-NEXT: 4: sub(%[[M]] {{.*}}, %[[H]] {{.*}}) -> (%[[D:[0-9]+]] {{.*}})
// CHECK-NEXT: 5: scale(%[[D]] {{.*}}) -> (%[[C:[0-9]+]] {{.*}}) {factor = 0.5}
// CHECK-NEXT: 6: linear(%[[C]] {{.*}}, %7 "head.weight") -> (%[[L:[0-9]+]] {{.*}})
// CHECK-NEXT: 7: softmax_cross_entropy(%[[L]] {{.*}}, %3 "label") -> (%[[CE:[0-9]+]] {{.*}})
// CHECK-NEXT: 8: reduce_sum(%[[C]] {{.*}}) -> (%[[MN:[0-9]+]] "train_step.reduce_mean.{{[0-9]+}}") {axes = [0, 1]}
// CHECK-NEXT: 9: scale(%[[MN]] {{.*}}) -> (%[[MN]] {{.*}}) {factor = 0.125}
// CHECK-NEXT: 10: add(%[[CE]] {{.*}}, %[[MN]] {{.*}}) -> (%[[LOSS:[0-9]+]] {{.*}})
// CHECK-NEXT: 11: fill() -> (%[[ONE:[0-9]+]] {{.*}}) {value = 1}
// CHECK-NEXT: 12: broadcast(%[[ONE]] {{.*}}) -> (%[[B1:[0-9]+]] {{.*}}) {axes = [0, 1]}
// CHECK-NEXT: 13: scale(%[[B1]] {{.*}}) -> (%[[DC1:[0-9]+]] {{.*}}) {factor = 0.125}
// CHECK-NEXT: 14: softmax_cross_entropy_bwd(%[[L]] {{.*}}, %3 "label", %[[ONE]] {{.*}}) -> (%[[DL:[0-9]+]] {{.*}})
// CHECK-NEXT: 15: linear_bwd_data(%[[DL]] {{.*}}, %7 "head.weight") -> (%[[DC2:[0-9]+]] {{.*}})
// CHECK-NEXT: 16: linear_bwd_weights(%[[C]] {{.*}}, %[[DL]] {{.*}}) -> (%[[DW2:[0-9]+]] {{.*}})
// CHECK-NEXT: 17: add(%[[DC1]] {{.*}}, %[[DC2]] {{.*}}) -> (%[[DC:[0-9]+]] {{.*}})
// CHECK-NEXT: 18: scale(%[[DC]] {{.*}}) -> (%[[DD:[0-9]+]] {{.*}}) {factor = 0.5}
// CHECK-NEXT: 19: scale(%[[DD]] {{.*}}) -> (%[[DH1:[0-9]+]] {{.*}}) {factor = -1}
// CHECK-NEXT: 20: mul(%[[DD]] {{.*}}, %[[SB]] {{.*}}) -> (%[[DR2:[0-9]+]] {{.*}})
// CHECK-NEXT: 21: mul(%[[DD]] {{.*}}, %[[R2]] {{.*}}) -> (%[[DSB:[0-9]+]] {{.*}})
// CHECK-NEXT: 22: reduce_sum(%[[DSB]] {{.*}}) -> (%[[DGATE:[0-9]+]] {{.*}}) {axes = [0]}
// CHECK-NEXT: 23: gelu_bwd(%[[H]] {{.*}}, %[[DG]] {{.*}}) -> (%[[DH2:[0-9]+]] {{.*}})
// CHECK-NEXT: 24: add(%[[DH1]] {{.*}}, %[[DH2]] {{.*}}) -> (%[[DH:[0-9]+]] {{.*}})
// CHECK-NEXT: 25: linear_bwd_weights(%2 "image", %[[DH]] {{.*}}) -> (%[[DW1:[0-9]+]] {{.*}})
// CHECK-NEXT: 26: reduce_sum(%[[DH]] {{.*}}) -> (%[[DB1:[0-9]+]] {{.*}}) {axes = [0]}
// CHECK-NEXT: 27: sgd_update(%[[DW1]] {{.*}}, %0 "lr", %1 "step") -> (%4 "l1.weight") {dampening = 0, lr_scale = 1, momentum = 0, nesterov = 0, weight_decay = 0}
// CHECK-NEXT: 28: sgd_update(%[[DB1]] {{.*}}, %0 "lr", %1 "step") -> (%5 "l1.bias")
// CHECK-NEXT: 29: sgd_update(%[[DGATE]] {{.*}}, %0 "lr", %1 "step") -> (%6 "gate")
// CHECK-NEXT: 30: sgd_update(%[[DW2]] {{.*}}, %0 "lr", %1 "step") -> (%7 "head.weight")
// CHECK-NEXT: outputs: loss = %[[LOSS]] {{.*}};{{$}}
// CHECK-NEXT: program eval_step (11 steps, arena 256 bytes):
func.func @forward() {
  %x = ftc.input "image" : tensor<2x6xf32>
  %y = ftc.input "label" : tensor<2xi32>
  %w1 = ftc.param "l1.weight" {init = "normal", init_a = 0.0 : f64, init_b = 0.5 : f64} : tensor<4x6xf32>
  %b1 = ftc.param "l1.bias" {init = "ones"} : tensor<4xf32>
  %gate = ftc.param "gate" : tensor<4xf32>
  %w2 = ftc.param "head.weight" {head} : tensor<3x4xf32>
  %h = ftc.linear %x, %w1, %b1 : (tensor<2x6xf32>, tensor<4x6xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %g = ftc.gelu %h : tensor<2x4xf32>
  %r = ftc.reshape %g {shape = array<i64: 8>} : tensor<2x4xf32> -> tensor<8xf32>
  %r2 = ftc.reshape %r {shape = array<i64: 2, 4>} : tensor<8xf32> -> tensor<2x4xf32>
  %sb = ftc.broadcast %gate {axes = array<i64: 0>} : tensor<4xf32> -> tensor<2x4xf32>
  %m = ftc.mul %r2, %sb : tensor<2x4xf32>
  %d = ftc.sub %m, %h : tensor<2x4xf32>
  %c = ftc.scale %d {factor = 0.5 : f64} : tensor<2x4xf32>
  %l = ftc.linear %c, %w2 : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
  %ce = ftc.softmax_cross_entropy %l, %y : (tensor<2x3xf32>, tensor<2xi32>) -> tensor<f32>
  %mn = ftc.reduce_mean %c {axes = array<i64: 0, 1>} : tensor<2x4xf32> -> tensor<f32>
  %loss = ftc.add %ce, %mn : tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  ftc.output "logits" %l : tensor<2x3xf32>
  return
}
