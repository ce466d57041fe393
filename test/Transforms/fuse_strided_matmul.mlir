// RUN: %ftc-opt %s -split-input-file --ftc-fuse | FileCheck %s

// Attention's head split and merge: the transposes of q and k fold into the
// product's operand views (k's with the product's transpose_rhs), and the
// transpose of the context product's result into its output layout.
// CHECK-LABEL: func.func @eval_step
// CHECK-NOT: ftc.transpose
// CHECK-NOT: ftc.batch_matmul
// CHECK: %[[S:.*]] = ftc.strided_batch_matmul %[[Q:.*]], %[[K:.*]] {lhs_perm = array<i64: 0, 2, 1, 3>, result_perm = array<i64: 0, 1, 2, 3>, rhs_perm = array<i64: 0, 2, 3, 1>} : (tensor<2x5x3x4xf32>, tensor<2x5x3x4xf32>) -> tensor<2x3x5x5xf32>
// CHECK: %[[C:.*]] = ftc.strided_batch_matmul %[[S]], %[[V:.*]] {lhs_perm = array<i64: 0, 1, 2, 3>, result_perm = array<i64: 0, 2, 1, 3>, rhs_perm = array<i64: 0, 2, 1, 3>} : (tensor<2x3x5x5xf32>, tensor<2x5x3x4xf32>) -> tensor<2x5x3x4xf32>
// CHECK: ftc.output "ctx" %[[C]]
func.func @eval_step() {
  %q = ftc.input "q" : tensor<2x5x3x4xf32>
  %k = ftc.input "k" : tensor<2x5x3x4xf32>
  %v = ftc.input "v" : tensor<2x5x3x4xf32>
  %qt = ftc.transpose %q {perm = array<i64: 0, 2, 1, 3>} : tensor<2x5x3x4xf32> -> tensor<2x3x5x4xf32>
  %kt = ftc.transpose %k {perm = array<i64: 0, 2, 1, 3>} : tensor<2x5x3x4xf32> -> tensor<2x3x5x4xf32>
  %vt = ftc.transpose %v {perm = array<i64: 0, 2, 1, 3>} : tensor<2x5x3x4xf32> -> tensor<2x3x5x4xf32>
  %s = ftc.batch_matmul %qt, %kt {transpose_rhs = 1 : i64} : (tensor<2x3x5x4xf32>, tensor<2x3x5x4xf32>) -> tensor<2x3x5x5xf32>
  %c = ftc.batch_matmul %s, %vt : (tensor<2x3x5x5xf32>, tensor<2x3x5x4xf32>) -> tensor<2x3x5x4xf32>
  %ct = ftc.transpose %c {perm = array<i64: 0, 2, 1, 3>} : tensor<2x3x5x4xf32> -> tensor<2x5x3x4xf32>
  ftc.output "ctx" %ct : tensor<2x5x3x4xf32>
  return
}

// -----

// A transpose with a reader that is not a product stays, and so does the
// product's plain read of it; a product result read twice keeps its layout.
// CHECK-LABEL: func.func @eval_step
// CHECK: %[[QT:.*]] = ftc.transpose
// CHECK: %[[P:.*]] = ftc.batch_matmul %[[QT]], %[[QT]] {transpose_rhs = 1 : i64}
// CHECK: ftc.transpose %[[P]]
func.func @eval_step() {
  %q = ftc.input "q" : tensor<2x5x3x4xf32>
  %qt = ftc.transpose %q {perm = array<i64: 0, 2, 1, 3>} : tensor<2x5x3x4xf32> -> tensor<2x3x5x4xf32>
  %p = ftc.batch_matmul %qt, %qt {transpose_rhs = 1 : i64} : (tensor<2x3x5x4xf32>, tensor<2x3x5x4xf32>) -> tensor<2x3x5x5xf32>
  %pt = ftc.transpose %p {perm = array<i64: 0, 1, 3, 2>} : tensor<2x3x5x5xf32> -> tensor<2x3x5x5xf32>
  ftc.output "qt" %qt : tensor<2x3x5x4xf32>
  ftc.output "p" %p : tensor<2x3x5x5xf32>
  ftc.output "pt" %pt : tensor<2x3x5x5xf32>
  return
}
