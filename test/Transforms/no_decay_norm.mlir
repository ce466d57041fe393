// RUN: %ftc-opt %s --ftc-autodiff '--ftc-lower-optimizer=optimizer=adamw weight-decay=0.5 no-decay=@norm' | FileCheck %s
// RUN: %ftc-opt %s --ftc-autodiff '--ftc-lower-optimizer=optimizer=adamw weight-decay=0.5 no-decay=**.bias' | FileCheck %s --check-prefix=GLOB

// no_decay's `@norm` exempts what a normalisation reads as its scale and
// shift (NormalizationOpInterface), whatever the parameters are called; the
// linear weight and bias keep their decay. A glob list without it decays
// the norm's scale ("ln_1.weight" is not a bias).
// CHECK-DAG: ftc.optim.adamw %{{.*}} {{.*}}weight_decay = 0.000000e+00 : f64} : tensor<4xf32>
// CHECK-DAG: ftc.optim.adamw %{{.*}} {{.*}}weight_decay = 0.000000e+00 : f64} : tensor<4xf32>
// CHECK-DAG: ftc.optim.adamw %{{.*}} {{.*}}weight_decay = 5.000000e-01 : f64} : tensor<2x4xf32>
// CHECK-DAG: ftc.optim.adamw %{{.*}} {{.*}}weight_decay = 5.000000e-01 : f64} : tensor<2xf32>
// GLOB-DAG: ftc.optim.adamw %[[G:.*]], %{{.*}} {{.*}}weight_decay = 5.000000e-01 : f64} : tensor<4xf32>
// GLOB-DAG: ftc.optim.adamw %{{.*}} {{.*}}weight_decay = 0.000000e+00 : f64} : tensor<4xf32>
// GLOB-DAG: ftc.optim.adamw %{{.*}} {{.*}}weight_decay = 0.000000e+00 : f64} : tensor<2xf32>
func.func @forward() {
  %x = ftc.input "x" : tensor<3x4xf32>
  %labels = ftc.input "label" : tensor<3xi32>
  %g = ftc.param "h.0.ln_1.weight" {init = "ones"} : tensor<4xf32>
  %b = ftc.param "h.0.ln_1.bias" : tensor<4xf32>
  %w = ftc.param "head.weight" : tensor<2x4xf32>
  %hb = ftc.param "head.bias" : tensor<2xf32>
  %n = ftc.layer_norm %x, %g, %b {eps = 1.0e-5 : f64} : (tensor<3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %logits = ftc.linear %n, %w, %hb : (tensor<3x4xf32>, tensor<2x4xf32>, tensor<2xf32>) -> tensor<3x2xf32>
  %loss = ftc.softmax_cross_entropy %logits, %labels : (tensor<3x2xf32>, tensor<3xi32>) -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  return
}
