// RUN: %ftc-opt %s --ftc-apply-freeze=policy=head-only --ftc-autodiff --ftc-lower-optimizer --ftc-plan-memory --ftc-export-plan -o /dev/null | FileCheck %s --check-prefix=ADAMW
// RUN: %ftc-opt %s --ftc-apply-freeze=policy=head-only --ftc-autodiff '--ftc-lower-optimizer=optimizer=sgd momentum=0.9 weight-decay=0.5' --ftc-plan-memory --ftc-export-plan -o /dev/null | FileCheck %s --check-prefix=MOM
// RUN: %ftc-opt %s --ftc-autodiff --ftc-lower-optimizer=optimizer=sgd --ftc-plan-memory --ftc-export-plan -o /dev/null | FileCheck %s --check-prefix=SGD

// The runtime plan of a two-layer MLP: persistent buffers (inputs, params,
// optimizer state), the param table, and one kernel call per op, named as in
// docs/runtime-contract.md.

// Head-only + AdamW: exp_avg / exp_avg_sq exist only for the two trainable
// head params; the frozen first layer has no state, no backward kernel and no
// update.
// ADAMW: ftc plan v1 {{.*}} optimizer "adamw"
// ADAMW-LABEL: buffers (
// ADAMW-NEXT: id kind dtype shape bytes arena name
// ADAMW-NEXT: %0 input f32 [] 4 - "lr"
// ADAMW-NEXT: %1 input f32 [] 4 - "step"
// ADAMW-NEXT: %2 input f32 [4,6] 96 - "image"
// ADAMW-NEXT: %3 input i32 [4] 16 - "label"
// ADAMW-NEXT: %4 param f32 [5,6] 120 - "layers.0.weight"
// ADAMW-NEXT: %5 param f32 [5] 20 - "layers.0.bias"
// ADAMW-NEXT: %6 param f32 [3,5] 60 - "classifier.weight"
// ADAMW-NEXT: %7 param f32 [3] 12 - "classifier.bias"
// ADAMW-NEXT: %8 temp f32 [4,5] 80 train_step @0 "train_step.linear.8"
// ADAMW-NOT: layers.0.weight.
// ADAMW-NOT: layers.0.bias.
// ADAMW-DAG: %[[MW:[0-9]+]] opt_state f32 [3,5] 60 - "classifier.weight.exp_avg"
// ADAMW-DAG: %[[VW:[0-9]+]] opt_state f32 [3,5] 60 - "classifier.weight.exp_avg_sq"
// ADAMW-DAG: %[[MB:[0-9]+]] opt_state f32 [3] 12 - "classifier.bias.exp_avg"
// ADAMW-DAG: %[[VB:[0-9]+]] opt_state f32 [3] 12 - "classifier.bias.exp_avg_sq"
// ADAMW-NOT: opt_state
// ADAMW-LABEL: params (4):
// ADAMW-NEXT: %4 "layers.0.weight" frozen init uniform(-0.1, 0.1)
// ADAMW-NEXT: %5 "layers.0.bias" frozen init zeros
// ADAMW-NEXT: %6 "classifier.weight" trainable head init normal(0, 0.02)
// ADAMW-NEXT: %7 "classifier.bias" trainable head init ones
// ADAMW-NEXT: features:
// ADAMW-NEXT: "image" -> %2 "image"
// ADAMW-NEXT: "label" -> %3 "label"
// ADAMW-NEXT: program train_step (10 steps, arena 384 bytes):
// ADAMW-NEXT: 0: linear(%2 "image", %4 "layers.0.weight", %5 "layers.0.bias") -> (%[[H:[0-9]+]] "train_step.linear.{{[0-9]+}}")
// ADAMW-NEXT: 1: relu(%[[H]] {{.*}}) -> (%[[A:[0-9]+]] "train_step.relu.{{[0-9]+}}")
// ADAMW-NEXT: 2: linear(%[[A]] {{.*}}, %6 "classifier.weight", %7 "classifier.bias") -> (%[[L:[0-9]+]] {{.*}})
// ADAMW-NEXT: 3: softmax_cross_entropy(%[[L]] {{.*}}, %3 "label") -> (%[[LOSS:[0-9]+]] {{.*}})
// ADAMW-NEXT: 4: fill() -> (%[[ONE:[0-9]+]] {{.*}}) {value = 1}
// ADAMW-NEXT: 5: softmax_cross_entropy_bwd(%[[L]] {{.*}}, %3 "label", %[[ONE]] {{.*}}) -> (%[[DL:[0-9]+]] {{.*}})
// ADAMW-NEXT: 6: linear_bwd_weights(%[[A]] {{.*}}, %[[DL]] {{.*}}) -> (%[[DW:[0-9]+]] {{.*}})
// ADAMW-NEXT: 7: reduce_sum(%[[DL]] {{.*}}) -> (%[[DB:[0-9]+]] {{.*}}) {axes = [0]}
// ADAMW-NEXT: 8: adamw_update(%[[DW]] {{.*}}, %0 "lr", %1 "step") -> (%6 "classifier.weight", %[[MW]] "classifier.weight.exp_avg", %[[VW]] "classifier.weight.exp_avg_sq") {beta1 = 0.9, beta2 = 0.999, eps = 1e-08, lr_scale = 1, weight_decay = 0}
// ADAMW-NEXT: 9: adamw_update(%[[DB]] {{.*}}, %0 "lr", %1 "step") -> (%7 "classifier.bias", %[[MB]] "classifier.bias.exp_avg", %[[VB]] "classifier.bias.exp_avg_sq") {beta1 = 0.9, beta2 = 0.999, eps = 1e-08, lr_scale = 1, weight_decay = 0}
// ADAMW-NEXT: outputs: loss = %[[LOSS]] "train_step.softmax_cross_entropy.{{[0-9]+}}";{{$}}
// ADAMW-NEXT: program eval_step (4 steps, arena 256 bytes):
// ADAMW-NEXT: 0: linear(%2 "image", %4 "layers.0.weight", %5 "layers.0.bias") -> (%{{[0-9]+}} "eval_step.linear.{{[0-9]+}}")
// ADAMW-NEXT: 1: relu(
// ADAMW-NEXT: 2: linear(
// ADAMW-NEXT: 3: softmax_cross_entropy(
// ADAMW-NEXT: outputs: logits = %{{[0-9]+}} "eval_step.linear.{{[0-9]+}}"; loss = %{{[0-9]+}} "eval_step.softmax_cross_entropy.{{[0-9]+}}";

// SGD with momentum: one momentum_buffer per trainable param, written by
// sgd_update as its second output.
// MOM: ftc plan v1 {{.*}} optimizer "sgd"
// MOM-NOT: layers.0.weight.momentum_buffer
// MOM-NOT: layers.0.bias.momentum_buffer
// MOM-DAG: %[[BW:[0-9]+]] opt_state f32 [3,5] 60 - "classifier.weight.momentum_buffer"
// MOM-DAG: %[[BB:[0-9]+]] opt_state f32 [3] 12 - "classifier.bias.momentum_buffer"
// MOM-NOT: opt_state
// MOM-LABEL: program train_step
// MOM-NOT: linear_bwd_data
// MOM-NOT: relu_bwd
// MOM: 8: sgd_update(%{{[0-9]+}} "train_step.linear_grad_weight.{{[0-9]+}}", %0 "lr", %1 "step") -> (%6 "classifier.weight", %[[BW]] "classifier.weight.momentum_buffer") {dampening = 0, lr_scale = 1, momentum = 0.9, nesterov = 0, weight_decay = 0.5}
// MOM-NEXT: 9: sgd_update(%{{[0-9]+}} "train_step.reduce_sum.{{[0-9]+}}", %0 "lr", %1 "step") -> (%7 "classifier.bias", %[[BB]] "classifier.bias.momentum_buffer") {dampening = 0, lr_scale = 1, momentum = 0.9, nesterov = 0, weight_decay = 0.5}
// MOM-NEXT: outputs: loss =

// Plain SGD, everything trainable: no optimizer state at all, the full
// backward (linear_bwd_data into relu_bwd), and an update per param.
// SGD: ftc plan v1 {{.*}} optimizer "sgd"
// SGD-NOT: opt_state
// SGD-LABEL: params (4):
// SGD-NEXT: %4 "layers.0.weight" trainable init uniform(-0.1, 0.1)
// SGD-NEXT: %5 "layers.0.bias" trainable init zeros
// SGD-NEXT: %6 "classifier.weight" trainable head init normal(0, 0.02)
// SGD-NEXT: %7 "classifier.bias" trainable head init ones
// SGD-LABEL: program train_step (16 steps, arena 640 bytes):
// SGD: 5: softmax_cross_entropy_bwd(
// SGD-NEXT: 6: linear_bwd_data(%[[DL:[0-9]+]] {{.*}}, %6 "classifier.weight") -> (%[[DA:[0-9]+]] {{.*}})
// SGD-NEXT: 7: linear_bwd_weights(
// SGD-NEXT: 8: reduce_sum(%[[DL]] {{.*}}) -> ({{.*}}) {axes = [0]}
// SGD-NEXT: 9: relu_bwd(%[[H:[0-9]+]] "train_step.linear.{{[0-9]+}}", %[[DA]] {{.*}}) -> (%[[DH:[0-9]+]] {{.*}})
// SGD-NEXT: 10: linear_bwd_weights(%2 "image", %[[DH]] {{.*}}) -> ({{.*}})
// SGD-NEXT: 11: reduce_sum(%[[DH]] {{.*}}) -> ({{.*}}) {axes = [0]}
// SGD-NEXT: 12: sgd_update({{.*}}) -> (%4 "layers.0.weight") {dampening = 0, lr_scale = 1, momentum = 0, nesterov = 0, weight_decay = 0}
// SGD-NEXT: 13: sgd_update({{.*}}) -> (%5 "layers.0.bias") {
// SGD-NEXT: 14: sgd_update({{.*}}) -> (%6 "classifier.weight") {
// SGD-NEXT: 15: sgd_update({{.*}}) -> (%7 "classifier.bias") {
// SGD-NEXT: outputs: loss =
func.func @forward() {
  %x = ftc.input "image" : tensor<4x6xf32>
  %y = ftc.input "label" : tensor<4xi32>
  %w1 = ftc.param "layers.0.weight" {init = "uniform", init_a = -0.1 : f64, init_b = 0.1 : f64} : tensor<5x6xf32>
  %b1 = ftc.param "layers.0.bias" : tensor<5xf32>
  %w2 = ftc.param "classifier.weight" {head, init = "normal", init_b = 0.02 : f64} : tensor<3x5xf32>
  %b2 = ftc.param "classifier.bias" {head, init = "ones"} : tensor<3xf32>
  %h = ftc.linear %x, %w1, %b1 : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  %a = ftc.relu %h : tensor<4x5xf32>
  %l = ftc.linear %a, %w2, %b2 : (tensor<4x5xf32>, tensor<3x5xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %loss = ftc.softmax_cross_entropy %l, %y : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  ftc.output "logits" %l : tensor<4x3xf32>
  return
}
