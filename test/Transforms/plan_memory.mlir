// RUN: %ftc-opt %s --ftc-plan-memory | FileCheck %s
// RUN: %ftc-opt %s --ftc-plan-memory=alignment=64 | FileCheck %s
// RUN: %ftc-opt %s --ftc-plan-memory=alignment=4 | FileCheck %s --check-prefix=A4
// RUN: not %ftc-opt %s --ftc-plan-memory=alignment=48 2>&1 | FileCheck %s --check-prefix=BADALIGN
// RUN: not %ftc-opt %s --ftc-plan-memory=alignment=0 2>&1 | FileCheck %s --check-prefix=BADALIGN

// Hand-computed first-fit arena plans. Every 2x4xf32 value is 32 bytes, the
// scalar 4 bytes; with the default 64-byte alignment each takes one 64-byte
// slot. Params and inputs live outside the arena and get no offset.
//
// @train_step (op index: value, last reader):
//   2: %a (read by 5)  -> 0     live: a
//   3: %b (read by 4)  -> 64    live: a, b
//   4: %c (read by 5)  -> 128   b is still live while op 4 reads it
//   5: %d (read by 6)  -> 64    b is free; first fit into the gap a..c
//   6: %s (output)     -> 0     a and c are free after op 5
// Peak: 192 bytes.
//
// With alignment 4 the slots are 32 bytes (4 for the scalar):
//   a 0, b 32, c 64, d 32, s 0; peak 96.

// CHECK-LABEL: func.func @train_step() attributes {ftc.arena_bytes = 192 : i64}
// CHECK-NEXT: ftc.input "x" : tensor<2x8xf32>{{$}}
// CHECK-NEXT: ftc.param "w" : tensor<4x8xf32>{{$}}
// CHECK-NEXT: %[[A:.*]] = ftc.linear {{.*}} {ftc.offset = 0 : i64}
// CHECK-NEXT: %[[B:.*]] = ftc.relu %[[A]] {ftc.offset = 64 : i64}
// CHECK-NEXT: %[[C:.*]] = ftc.relu %[[B]] {ftc.offset = 128 : i64}
// CHECK-NEXT: %[[D:.*]] = ftc.add %[[C]], %[[A]] {ftc.offset = 64 : i64}
// CHECK-NEXT: %[[S:.*]] = ftc.reduce_sum %[[D]] {axes = array<i64: 0, 1>, ftc.offset = 0 : i64}
// CHECK-NEXT: ftc.output "loss" %[[S]] : tensor<f32>{{$}}
// A4-LABEL: func.func @train_step() attributes {ftc.arena_bytes = 96 : i64}
// A4: ftc.linear {{.*}} {ftc.offset = 0 : i64}
// A4-NEXT: ftc.relu {{.*}} {ftc.offset = 32 : i64}
// A4-NEXT: ftc.relu {{.*}} {ftc.offset = 64 : i64}
// A4-NEXT: ftc.add {{.*}} {ftc.offset = 32 : i64}
// A4-NEXT: ftc.reduce_sum {{.*}} {axes = array<i64: 0, 1>, ftc.offset = 0 : i64}
func.func @train_step() {
  %x = ftc.input "x" : tensor<2x8xf32>
  %w = ftc.param "w" : tensor<4x8xf32>
  %a = ftc.linear %x, %w : (tensor<2x8xf32>, tensor<4x8xf32>) -> tensor<2x4xf32>
  %b = ftc.relu %a : tensor<2x4xf32>
  %c = ftc.relu %b : tensor<2x4xf32>
  %d = ftc.add %c, %a : tensor<2x4xf32>
  %s = ftc.reduce_sum %d {axes = array<i64: 0, 1>} : tensor<2x4xf32> -> tensor<f32>
  ftc.output "loss" %s : tensor<f32>
  return
}

// A value read by ftc.output lives to the end of the step even after its last
// compute reader, so its slot is never reused:
//   2: %l (output, also read by 4)  -> 0
//   4: %r (read by 5)               -> 64
//   5: %r2 (read by 6)              -> 128
//   6: %s (output)                  -> 64   (not 0: %l is still live)
// Peak: 192 bytes.
// CHECK-LABEL: func.func @eval_step() attributes {ftc.arena_bytes = 192 : i64}
// CHECK: %[[L:.*]] = ftc.linear {{.*}} {ftc.offset = 0 : i64}
// CHECK-NEXT: ftc.output "logits" %[[L]]
// CHECK-NEXT: %[[R:.*]] = ftc.relu %[[L]] {ftc.offset = 64 : i64}
// CHECK-NEXT: %[[R2:.*]] = ftc.relu %[[R]] {ftc.offset = 128 : i64}
// CHECK-NEXT: %[[S:.*]] = ftc.reduce_sum %[[R2]] {axes = array<i64: 0, 1>, ftc.offset = 64 : i64}
// CHECK-NEXT: ftc.output "loss" %[[S]]
// A4-LABEL: func.func @eval_step() attributes {ftc.arena_bytes = 96 : i64}
// A4: ftc.reduce_sum {{.*}} {axes = array<i64: 0, 1>, ftc.offset = 32 : i64}
func.func @eval_step() {
  %x = ftc.input "x" : tensor<2x8xf32>
  %w = ftc.param "w" : tensor<4x8xf32>
  %l = ftc.linear %x, %w : (tensor<2x8xf32>, tensor<4x8xf32>) -> tensor<2x4xf32>
  ftc.output "logits" %l : tensor<2x4xf32>
  %r = ftc.relu %l : tensor<2x4xf32>
  %r2 = ftc.relu %r : tensor<2x4xf32>
  %s = ftc.reduce_sum %r2 {axes = array<i64: 0, 1>} : tensor<2x4xf32> -> tensor<f32>
  ftc.output "loss" %s : tensor<f32>
  return
}

// Larger values and in-place updates: a 100-element (400-byte) value takes
// 448 bytes at alignment 64 (400 at alignment 4); the optimizer update has no
// result and gets no slot; the dead fill's slot is reused right after it.
//   1: %g (read by 3)   -> 0     (448)
//   2: %dead (unused)   -> 448   (64; free from op 3 on)
//   3: sgd, no result
//   4: %h (unread)      -> 0     (448; %g is free after op 3)
// Peak: 512 (alignment 4: 400 + 4 = 404).
// CHECK-LABEL: func.func @updates() attributes {ftc.arena_bytes = 512 : i64}
// CHECK: ftc.fill {ftc.offset = 0 : i64, value = 1.000000e+00 : f64} : tensor<100xf32>
// CHECK-NEXT: ftc.fill {ftc.offset = 448 : i64, value = 0.000000e+00 : f64} : tensor<f32>
// CHECK-NEXT: ftc.param "p" : tensor<100xf32>{{$}}
// CHECK-NEXT: ftc.optim.sgd %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {dampening = 0.000000e+00 : f64, momentum = 0.000000e+00 : f64, nesterov = false, weight_decay = 0.000000e+00 : f64} : tensor<100xf32>{{$}}
// CHECK-NEXT: ftc.fill {ftc.offset = 0 : i64, value = 2.000000e+00 : f64} : tensor<100xf32>
// A4-LABEL: func.func @updates() attributes {ftc.arena_bytes = 404 : i64}
// A4: ftc.fill {ftc.offset = 0 : i64, value = 1.000000e+00 : f64}
// A4-NEXT: ftc.fill {ftc.offset = 400 : i64, value = 0.000000e+00 : f64}
// A4: ftc.fill {ftc.offset = 0 : i64, value = 2.000000e+00 : f64}
func.func @updates() {
  %lr = ftc.input "lr" : tensor<f32>
  %g = ftc.fill {value = 1.0 : f64} : tensor<100xf32>
  %dead = ftc.fill {value = 0.0 : f64} : tensor<f32>
  %p = ftc.param "p" : tensor<100xf32>
  ftc.optim.sgd %p, %g, %lr, %lr {momentum = 0.0 : f64, dampening = 0.0 : f64, weight_decay = 0.0 : f64, nesterov = false} : tensor<100xf32>
  %h = ftc.fill {value = 2.0 : f64} : tensor<100xf32>
  return
}

// A reshape of an intermediate is a view: it takes its input's slice and
// no new one, and the slice lives until the view's last reader (op 4 here),
// so %c cannot reuse it. A reshape of an input (outside the arena) gets its
// own slice and stays a copy.
// CHECK-LABEL: func.func @reshapes() attributes {ftc.arena_bytes = 192 : i64}
// CHECK: %[[A:.*]] = ftc.relu %{{.*}} {ftc.offset = 0 : i64}
// CHECK-NEXT: %[[V:.*]] = ftc.reshape %[[A]] {ftc.alias, ftc.offset = 0 : i64, shape = array<i64: 8>}
// CHECK-NEXT: %[[C:.*]] = ftc.fill {ftc.offset = 64 : i64, value = 1.000000e+00 : f64} : tensor<8xf32>
// CHECK-NEXT: ftc.add %[[V]], %[[C]] {ftc.offset = 128 : i64}
// CHECK-NEXT: ftc.reshape %{{.*}} {ftc.offset = 0 : i64, shape = array<i64: 8>}
func.func @reshapes() {
  %x = ftc.input "x" : tensor<2x4xf32>
  %a = ftc.relu %x : tensor<2x4xf32>
  %v = ftc.reshape %a {shape = array<i64: 8>} : tensor<2x4xf32> -> tensor<8xf32>
  %c = ftc.fill {value = 1.0 : f64} : tensor<8xf32>
  %s = ftc.add %v, %c : tensor<8xf32>
  %xv = ftc.reshape %x {shape = array<i64: 8>} : tensor<2x4xf32> -> tensor<8xf32>
  ftc.output "s" %s : tensor<8xf32>
  ftc.output "xv" %xv : tensor<8xf32>
  return
}

// BADALIGN: error: alignment must be a power of two
