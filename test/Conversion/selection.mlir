// RUN: %ftc-opt %s --ftc-autodiff --ftc-lower-optimizer=optimizer=sgd --ftc-plan-memory --ftc-export-plan -o /dev/null | FileCheck %s
// RUN: %ftc-opt %s --ftc-autodiff | FileCheck %s --check-prefix=GRAD

// GPT-2's fused query/key/value split by slice, a padding mask turned into
// f32 by compare + where, and concat: their kernels, and the gradients
// autodiff builds (slice_grad for a slice, slices for a concat, where with
// a zero for where; compare passes none).
// CHECK-LABEL: program train_step
// CHECK-DAG: compare({{.*}}) -> ({{.*}}) {predicate = "ne"}
// CHECK-DAG: where({{.*}}) -> ({{.*}})
// CHECK-DAG: slice({{.*}}) -> ({{.*}}) {axis = 1, start = 0}
// CHECK-DAG: slice({{.*}}) -> ({{.*}}) {axis = 1, start = 4}
// CHECK-DAG: concat({{.*}}, {{.*}}) -> ({{.*}}) {axis = 1}
// CHECK-DAG: slice_bwd({{.*}}) -> ({{.*}}) {axis = 1, start = 4}
// CHECK-LABEL: program eval_step
// CHECK-NOT: slice_bwd

// GRAD-DAG: ftc.slice_grad %{{.*}} {axis = 1 : i64, start = 0 : i64} : tensor<2x4xf32> -> tensor<2x8xf32>
// GRAD-DAG: ftc.slice_grad %{{.*}} {axis = 1 : i64, start = 4 : i64} : tensor<2x4xf32> -> tensor<2x8xf32>
// GRAD-DAG: ftc.slice %{{.*}} {axis = 1 : i64, size = 4 : i64, start = 4 : i64} : tensor<2x8xf32> -> tensor<2x4xf32>
// GRAD-DAG: %[[ZERO:.*]] = ftc.fill {value = 0.000000e+00 : f64} : tensor<1x1xf32>
// GRAD-DAG: ftc.where %{{.*}}, %{{.*}}, %[[ZERO]] : (tensor<2x8xi32>, tensor<2x8xf32>, tensor<1x1xf32>) -> tensor<2x8xf32>
func.func @forward() {
  %x = ftc.input "x" : tensor<2x3xf32>
  %mask = ftc.input "attention_mask" : tensor<2x8xi32>
  %labels = ftc.input "label" : tensor<2xi32>
  %w = ftc.param "c_attn.weight" : tensor<8x3xf32>
  %h = ftc.linear %x, %w : (tensor<2x3xf32>, tensor<8x3xf32>) -> tensor<2x8xf32>
  %q = ftc.slice %h {axis = 1 : i64, start = 0 : i64, size = 4 : i64} : tensor<2x8xf32> -> tensor<2x4xf32>
  %k = ftc.slice %h {axis = 1 : i64, start = 4 : i64, size = 4 : i64} : tensor<2x8xf32> -> tensor<2x4xf32>
  %qk = ftc.mul %q, %k : tensor<2x4xf32>
  %j = ftc.concat %qk, %q {axis = 1 : i64} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
  %zi = ftc.fill {value = 0.0 : f64} : tensor<1x1xi32>
  %keep = ftc.compare %mask, %zi {predicate = "ne"} : (tensor<2x8xi32>, tensor<1x1xi32>) -> tensor<2x8xi32>
  %zero = ftc.fill {value = 0.0 : f64} : tensor<1x1xf32>
  %m = ftc.where %keep, %j, %zero : (tensor<2x8xi32>, tensor<2x8xf32>, tensor<1x1xf32>) -> tensor<2x8xf32>
  %wo = ftc.param "head.weight" : tensor<2x8xf32>
  %logits = ftc.linear %m, %wo : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x2xf32>
  %loss = ftc.softmax_cross_entropy %logits, %labels : (tensor<2x2xf32>, tensor<2xi32>) -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  ftc.output "logits" %logits : tensor<2x2xf32>
  return
}
