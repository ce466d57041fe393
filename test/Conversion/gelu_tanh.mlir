// RUN: %ftc-opt %s --ftc-autodiff | FileCheck %s --check-prefix=VJP
// RUN: %ftc-opt %s --ftc-autodiff --ftc-lower-optimizer=optimizer=sgd --ftc-fuse --ftc-plan-memory --ftc-export-plan -o /dev/null | FileCheck %s --check-prefix=PLAN

// GELU's tanh form (GPT-2's gelu_new): the gradient op keeps the form, the
// plan's kernels say it, and the linear+GELU fusion (an erf post-op) leaves
// it alone.
// VJP-LABEL: func.func @eval_step()
// VJP: ftc.gelu %{{.*}} {approximate = "tanh"}
// VJP-LABEL: func.func @train_step()
// VJP: %[[H:.*]] = ftc.linear
// VJP: ftc.gelu %[[H]] {approximate = "tanh"} : tensor<2x4xf32>
// VJP: ftc.gelu_grad %[[H]], %{{.*}} {approximate = "tanh"} : tensor<2x4xf32>

// PLAN-LABEL: program train_step
// PLAN: gelu({{.*}}) -> ({{.*}}) {approximate = "tanh"}
// PLAN: gelu_bwd({{.*}}) -> ({{.*}}) {approximate = "tanh"}
// PLAN-LABEL: program eval_step
// PLAN-NOT: activation
// PLAN: linear(
// PLAN-NEXT: gelu({{.*}}) -> ({{.*}}) {approximate = "tanh"}
func.func @forward() {
  %x = ftc.input "image" : tensor<2x3xf32>
  %labels = ftc.input "label" : tensor<2xi32>
  %w = ftc.param "l1.weight" : tensor<4x3xf32>
  %w2 = ftc.param "l2.weight" : tensor<2x4xf32>
  %h = ftc.linear %x, %w : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x4xf32>
  %g = ftc.gelu %h {approximate = "tanh"} : tensor<2x4xf32>
  %logits = ftc.linear %g, %w2 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2xf32>
  %loss = ftc.softmax_cross_entropy %logits, %labels : (tensor<2x2xf32>, tensor<2xi32>) -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  ftc.output "logits" %logits : tensor<2x2xf32>
  return
}
