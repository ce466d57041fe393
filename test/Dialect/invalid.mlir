// RUN: %ftc-opt %s -split-input-file -verify-diagnostics

// linear: input features do not match the weight's columns.
func.func @linear_shape_mismatch(%x: tensor<4x6xf32>, %w: tensor<5x7xf32>) -> tensor<4x5xf32> {
  // expected-error@+1 {{'ftc.linear' op input features (6) do not match weight columns (7)}}
  %y = ftc.linear %x, %w : (tensor<4x6xf32>, tensor<5x7xf32>) -> tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// -----

// linear: the bias must have one element per output feature.
func.func @linear_bad_bias(%x: tensor<4x6xf32>, %w: tensor<5x6xf32>, %b: tensor<6xf32>) -> tensor<4x5xf32> {
  // expected-error@+1 {{'ftc.linear' op bias must be [5]}}
  %y = ftc.linear %x, %w, %b : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<6xf32>) -> tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// -----

// linear: a rank-2 bias is rejected too.
func.func @linear_bias_rank(%x: tensor<4x6xf32>, %w: tensor<5x6xf32>, %b: tensor<1x5xf32>) -> tensor<4x5xf32> {
  // expected-error@+1 {{'ftc.linear' op bias must be [5]}}
  %y = ftc.linear %x, %w, %b : (tensor<4x6xf32>, tensor<5x6xf32>, tensor<1x5xf32>) -> tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// -----

// linear: a rank-3 input.
func.func @linear_rank(%x: tensor<2x4x6xf32>, %w: tensor<5x6xf32>) -> tensor<4x5xf32> {
  // expected-error@+1 {{'ftc.linear' op expects a rank-2 input and weight}}
  %y = ftc.linear %x, %w : (tensor<2x4x6xf32>, tensor<5x6xf32>) -> tensor<4x5xf32>
  return %y : tensor<4x5xf32>
}

// -----

// linear: a declared result type that differs from the inferred one.
func.func @linear_wrong_result(%x: tensor<4x6xf32>, %w: tensor<5x6xf32>) -> tensor<4x6xf32> {
  // expected-error@+1 {{'ftc.linear' op result must be [batch, out_features]}}
  %y = ftc.linear %x, %w : (tensor<4x6xf32>, tensor<5x6xf32>) -> tensor<4x6xf32>
  return %y : tensor<4x6xf32>
}

// -----

// linear_grad_data: grad columns must equal weight rows.
func.func @linear_grad_data_mismatch(%dy: tensor<4x3xf32>, %w: tensor<5x6xf32>) -> tensor<4x6xf32> {
  // expected-error@+1 {{'ftc.linear_grad_data' op expects grad [B, O], weight [O, I] and result [B, I]}}
  %dx = ftc.linear_grad_data %dy, %w : (tensor<4x3xf32>, tensor<5x6xf32>) -> tensor<4x6xf32>
  return %dx : tensor<4x6xf32>
}

// -----

// linear_grad_weight: input and grad must share the batch.
func.func @linear_grad_weight_batch(%x: tensor<4x6xf32>, %dy: tensor<3x5xf32>) -> tensor<5x6xf32> {
  // expected-error@+1 {{'ftc.linear_grad_weight' op expects input [B, I], grad [B, O] and result [O, I]}}
  %dw = ftc.linear_grad_weight %x, %dy : (tensor<4x6xf32>, tensor<3x5xf32>) -> tensor<5x6xf32>
  return %dw : tensor<5x6xf32>
}

// -----

// Elementwise ops take f32 tensors only.
func.func @relu_i32(%x: tensor<4xi32>) {
  // expected-error@+1 {{'ftc.relu' op operand #0 must be ranked tensor of 32-bit float values}}
  %y = ftc.relu %x : tensor<4xi32>
  return
}

// -----

// relu_grad: input and grad must have the same type.
func.func @relu_grad_mismatch(%x: tensor<4x5xf32>, %dy: tensor<4x6xf32>) {
  // expected-error@+1 {{'ftc.relu_grad' op failed to verify that all of {input, grad} have same type}}
  %y = "ftc.relu_grad"(%x, %dy) : (tensor<4x5xf32>, tensor<4x6xf32>) -> tensor<4x5xf32>
  return
}

// -----

// add: the operands must broadcast (generic form).
func.func @add_mismatch(%a: tensor<4x5xf32>, %b: tensor<5x4xf32>) {
  // expected-error@+2 {{'ftc.add' operands do not broadcast: axis 0 is 4 and 5}}
  // expected-error@+1 {{'ftc.add' op failed to infer returned types}}
  %c = "ftc.add"(%a, %b) : (tensor<4x5xf32>, tensor<5x4xf32>) -> tensor<4x5xf32>
  return
}

// -----

// reduce_sum: an axis beyond the rank.
func.func @reduce_axis_out_of_range(%x: tensor<4x5xf32>) {
  // expected-error@+1 {{axis 2 out of range for rank 2}}
  %y = ftc.reduce_sum %x {axes = array<i64: 2>} : tensor<4x5xf32> -> tensor<4x5xf32>
  return
}

// -----

// reduce_mean: a negative axis.
func.func @reduce_negative_axis(%x: tensor<4x5xf32>) {
  // expected-error@+1 {{axis -1 out of range for rank 2}}
  %y = ftc.reduce_mean %x {axes = array<i64: -1>} : tensor<4x5xf32> -> tensor<4xf32>
  return
}

// -----

// reduce_sum: axes must be strictly increasing.
func.func @reduce_axes_not_increasing(%x: tensor<2x3x4xf32>) {
  // expected-error@+1 {{axes must be strictly increasing}}
  %y = ftc.reduce_sum %x {axes = array<i64: 2, 0>} : tensor<2x3x4xf32> -> tensor<3xf32>
  return
}

// -----

// reduce_sum: a repeated axis is not strictly increasing either.
func.func @reduce_axes_repeated(%x: tensor<2x3x4xf32>) {
  // expected-error@+1 {{axes must be strictly increasing}}
  %y = ftc.reduce_sum %x {axes = array<i64: 1, 1>} : tensor<2x3x4xf32> -> tensor<2x4xf32>
  return
}

// -----

// reduce_sum: the result keeps a reduced axis.
func.func @reduce_wrong_result(%x: tensor<4x5xf32>) {
  // expected-error@+1 {{'ftc.reduce_sum' op result shape must be the input shape without the reduced axes}}
  %y = ftc.reduce_sum %x {axes = array<i64: 0>} : tensor<4x5xf32> -> tensor<4xf32>
  return
}

// -----

// broadcast: the input must be the result without the broadcast axes.
func.func @broadcast_mismatch(%x: tensor<4xf32>) {
  // expected-error@+1 {{'ftc.broadcast' op input shape must be the result shape without the broadcast axes}}
  %y = ftc.broadcast %x {axes = array<i64: 0>} : tensor<4xf32> -> tensor<4x5xf32>
  return
}

// -----

// broadcast: axes are positions in the result and must be in range.
func.func @broadcast_axis_out_of_range(%x: tensor<5xf32>) {
  // expected-error@+1 {{axis 2 out of range for rank 2}}
  %y = ftc.broadcast %x {axes = array<i64: 2>} : tensor<5xf32> -> tensor<4x5xf32>
  return
}

// -----

// reshape: the element count must be preserved.
func.func @reshape_element_count(%x: tensor<2x3x4xf32>) {
  // expected-error@+1 {{'ftc.reshape' op cannot reshape 24 elements into 20}}
  %y = ftc.reshape %x {shape = array<i64: 4, 5>} : tensor<2x3x4xf32> -> tensor<4x5xf32>
  return
}

// -----

// reshape: the 'shape' attribute and the result type must agree.
func.func @reshape_shape_attr(%x: tensor<2x3x4xf32>) {
  // expected-error@+1 {{'ftc.reshape' op result type must have the 'shape' attribute's shape}}
  %y = ftc.reshape %x {shape = array<i64: 4, 6>} : tensor<2x3x4xf32> -> tensor<6x4xf32>
  return
}

// -----

// reshape: type inference rejects a zero dimension (the element counts agree,
// so the verifier proper accepts it).
func.func @reshape_non_positive(%x: tensor<0x3xf32>) {
  // expected-error@+2 {{'ftc.reshape' needs positive dimensions}}
  // expected-error@+1 {{'ftc.reshape' op failed to infer returned types}}
  %y = ftc.reshape %x {shape = array<i64: 0, 6>} : tensor<0x3xf32> -> tensor<0x6xf32>
  return
}

// -----

// softmax_cross_entropy: labels must be i32.
func.func @labels_not_i32(%l: tensor<4x3xf32>, %y: tensor<4xi64>) {
  // expected-error@+1 {{'ftc.softmax_cross_entropy' op operand #1 must be ranked tensor of 32-bit signless integer values}}
  %loss = ftc.softmax_cross_entropy %l, %y : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<f32>
  return
}

// -----

// softmax_cross_entropy: labels must match the logits' batch.
func.func @labels_wrong_batch(%l: tensor<4x3xf32>, %y: tensor<5xi32>) {
  // expected-error@+1 {{labels must be i32 [4] to match the logits' batch}}
  %loss = ftc.softmax_cross_entropy %l, %y : (tensor<4x3xf32>, tensor<5xi32>) -> tensor<f32>
  return
}

// -----

// softmax_cross_entropy: logits must be rank 2.
func.func @logits_rank(%l: tensor<4x3x2xf32>, %y: tensor<4xi32>) {
  // expected-error@+1 {{logits must be [batch, classes]}}
  %loss = ftc.softmax_cross_entropy %l, %y : (tensor<4x3x2xf32>, tensor<4xi32>) -> tensor<f32>
  return
}

// -----

// softmax_cross_entropy_grad: the result must have the logits' type.
func.func @sce_grad_result(%l: tensor<4x3xf32>, %y: tensor<4xi32>, %d: tensor<f32>) {
  // expected-error@+1 {{'ftc.softmax_cross_entropy_grad' op result must have the logits' type}}
  %g = ftc.softmax_cross_entropy_grad %l, %y, %d : (tensor<4x3xf32>, tensor<4xi32>, tensor<f32>) -> tensor<4x4xf32>
  return
}

// -----

// param: unknown init.
func.func @unknown_init() {
  // expected-error@+1 {{'ftc.param' op unknown init 'xavier'; expected zeros, ones, normal or uniform}}
  %w = ftc.param "w" {init = "xavier"} : tensor<4xf32>
  return
}

// -----

// param: an empty name.
func.func @empty_name() {
  // expected-error@+1 {{'ftc.param' op needs a non-empty parameter name}}
  %w = ftc.param "" : tensor<4xf32>
  return
}

// -----

// param: normal init with a negative std.
func.func @normal_negative_std() {
  // expected-error@+1 {{'ftc.param' op normal init needs a non-negative std (init_b)}}
  %w = ftc.param "w" {init = "normal", init_b = -1.0 : f64} : tensor<4xf32>
  return
}

// -----

// param: uniform init with an empty interval.
func.func @uniform_reversed() {
  // expected-error@+1 {{'ftc.param' op uniform init needs init_a <= init_b}}
  %w = ftc.param "w" {init = "uniform", init_a = 1.0 : f64, init_b = -1.0 : f64} : tensor<4xf32>
  return
}

// -----

// param: shapes are static.
func.func @param_dynamic() {
  // expected-error@+1 {{'ftc.param' op needs a static shape}}
  %w = ftc.param "w" : tensor<?xf32>
  return
}

// -----

// optim.sgd: the updated value must come from an ftc.param.
func.func @update_not_param(%w: tensor<4xf32>, %g: tensor<4xf32>, %lr: tensor<f32>, %s: tensor<f32>) {
  // expected-error@+1 {{'ftc.optim.sgd' op updates must target an 'ftc.param' value}}
  ftc.optim.sgd %w, %g, %lr, %s {momentum = 0.0 : f64, dampening = 0.0 : f64, weight_decay = 0.0 : f64, nesterov = false} : tensor<4xf32>
  return
}

// -----

// optim.adamw: the updated value must come from an ftc.param, not a computed value.
func.func @adamw_not_param(%g: tensor<4xf32>, %lr: tensor<f32>, %s: tensor<f32>) {
  %w = ftc.param "w" : tensor<4xf32>
  %r = ftc.relu %w : tensor<4xf32>
  // expected-error@+1 {{'ftc.optim.adamw' op updates must target an 'ftc.param' value}}
  ftc.optim.adamw %r, %g, %lr, %s {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : tensor<4xf32>
  return
}

// -----

// optim.sgd: Nesterov needs momentum.
func.func @nesterov_without_momentum(%g: tensor<4xf32>, %lr: tensor<f32>, %s: tensor<f32>) {
  %w = ftc.param "w" : tensor<4xf32>
  // expected-error@+1 {{'ftc.optim.sgd' op Nesterov momentum needs momentum > 0}}
  ftc.optim.sgd %w, %g, %lr, %s {momentum = 0.0 : f64, dampening = 0.0 : f64, weight_decay = 0.0 : f64, nesterov = true} : tensor<4xf32>
  return
}

// -----

// optim.sgd: Nesterov needs zero dampening (as torch.optim.SGD and the runtime contract).
func.func @nesterov_with_dampening(%g: tensor<4xf32>, %lr: tensor<f32>, %s: tensor<f32>) {
  %w = ftc.param "w" : tensor<4xf32>
  // expected-error@+1 {{'ftc.optim.sgd' op Nesterov momentum needs momentum > 0 and zero dampening}}
  ftc.optim.sgd %w, %g, %lr, %s {momentum = 0.9 : f64, dampening = 0.1 : f64, weight_decay = 0.0 : f64, nesterov = true} : tensor<4xf32>
  return
}

// -----

// optim.sgd: negative momentum.
func.func @negative_momentum(%g: tensor<4xf32>, %lr: tensor<f32>, %s: tensor<f32>) {
  %w = ftc.param "w" : tensor<4xf32>
  // expected-error@+1 {{'ftc.optim.sgd' op momentum and weight_decay must be non-negative}}
  ftc.optim.sgd %w, %g, %lr, %s {momentum = -0.5 : f64, dampening = 0.0 : f64, weight_decay = 0.0 : f64, nesterov = false} : tensor<4xf32>
  return
}

// -----

// optim.adamw: beta2 must be below 1.
func.func @beta2_out_of_range(%g: tensor<4xf32>, %lr: tensor<f32>, %s: tensor<f32>) {
  %w = ftc.param "w" : tensor<4xf32>
  // expected-error@+1 {{'ftc.optim.adamw' op betas must be in [0, 1)}}
  ftc.optim.adamw %w, %g, %lr, %s {beta1 = 0.9 : f64, beta2 = 1.0 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : tensor<4xf32>
  return
}

// -----

// optim.adamw: beta1 must not be negative.
func.func @beta1_negative(%g: tensor<4xf32>, %lr: tensor<f32>, %s: tensor<f32>) {
  %w = ftc.param "w" : tensor<4xf32>
  // expected-error@+1 {{'ftc.optim.adamw' op betas must be in [0, 1)}}
  ftc.optim.adamw %w, %g, %lr, %s {beta1 = -0.1 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : tensor<4xf32>
  return
}

// -----

// optim.adamw: the gradient must have the parameter's type.
func.func @adamw_grad_type(%g: tensor<5xf32>, %lr: tensor<f32>, %s: tensor<f32>) {
  %w = ftc.param "w" : tensor<4xf32>
  // expected-error@+1 {{'ftc.optim.adamw' op failed to verify that all of {param, grad} have same type}}
  "ftc.optim.adamw"(%w, %g, %lr, %s) {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-8 : f64, weight_decay = 0.0 : f64} : (tensor<4xf32>, tensor<5xf32>, tensor<f32>, tensor<f32>) -> ()
  return
}

// -----

// optim.sgd: lr must be a scalar.
func.func @lr_not_scalar(%g: tensor<4xf32>, %lr: tensor<1xf32>, %s: tensor<f32>) {
  %w = ftc.param "w" : tensor<4xf32>
  // expected-error@+1 {{'ftc.optim.sgd' op operand #2 must be 0D tensor of 32-bit float values}}
  "ftc.optim.sgd"(%w, %g, %lr, %s) {momentum = 0.0 : f64, dampening = 0.0 : f64, weight_decay = 0.0 : f64, nesterov = false} : (tensor<4xf32>, tensor<4xf32>, tensor<1xf32>, tensor<f32>) -> ()
  return
}

// -----

// Generic construction of a reduce without its 'axes' attribute.
func.func @reduce_missing_axes(%x: tensor<4x5xf32>) {
  // expected-error@+1 {{'ftc.reduce_sum' op requires attribute 'axes'}}
  %y = "ftc.reduce_sum"(%x) : (tensor<4x5xf32>) -> tensor<5xf32>
  return
}

// -----

// reshape: shapes must be static (the element count of `?x3` is unknown).
func.func @reshape_dynamic(%x: tensor<?x3xf32>) {
  // expected-error@+1 {{'ftc.reshape' op needs statically shaped operand and result}}
  %y = ftc.reshape %x {shape = array<i64: 6>} : tensor<?x3xf32> -> tensor<6xf32>
  return
}

// -----

// reduce_mean: type inference rejects an axis out of range for a plugin-built
// op whose declared result type is otherwise consistent (the verifier reports
// it first, with the same message).
func.func @reduce_mean_axis(%x: tensor<4xf32>) {
  // expected-error@+1 {{axis 1 out of range for rank 1}}
  %y = "ftc.reduce_mean"(%x) {axes = array<i64: 1>} : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// softmax_cross_entropy: the loss is a scalar f32.
func.func @sce_result_not_scalar(%l: tensor<4x3xf32>, %y: tensor<4xi32>) {
  // expected-error@+1 {{'ftc.softmax_cross_entropy' op result #0 must be 0D tensor of 32-bit float values}}
  %loss = "ftc.softmax_cross_entropy"(%l, %y) : (tensor<4x3xf32>, tensor<4xi32>) -> tensor<4xf32>
  return
}

// -----

// A group update: one gradient per parameter, of its type.
func.func @group_grad_type() {
  %lr = ftc.input "lr" : tensor<f32>
  %step = ftc.input "step" : tensor<f32>
  %one = ftc.fill {value = 1.0 : f64} : tensor<f32>
  %w = ftc.param "w" : tensor<4x3xf32>
  %g = ftc.input "g" : tensor<3x4xf32>
  // expected-error@+1 {{'ftc.optim.adamw_group' op gradient type must match the parameter type}}
  ftc.optim.adamw_group(%w), (%g), %lr, %step, %one {beta1 = 0.9 : f64, beta2 = 0.999 : f64, eps = 1.0e-08 : f64, weight_decay = 0.0 : f64} : (tensor<4x3xf32>), (tensor<3x4xf32>)
  return
}

// -----

func.func @group_twice() {
  %lr = ftc.input "lr" : tensor<f32>
  %step = ftc.input "step" : tensor<f32>
  %one = ftc.fill {value = 1.0 : f64} : tensor<f32>
  %w = ftc.param "w" : tensor<4x3xf32>
  %g = ftc.input "g" : tensor<4x3xf32>
  // expected-error@+1 {{'ftc.optim.sgd_group' op updates a parameter twice}}
  ftc.optim.sgd_group(%w, %w), (%g, %g), %lr, %step, %one {momentum = 0.0 : f64, dampening = 0.0 : f64, weight_decay = 0.0 : f64, nesterov = false} : (tensor<4x3xf32>, tensor<4x3xf32>), (tensor<4x3xf32>, tensor<4x3xf32>)
  return
}

// -----

func.func @add_layer_norm_gamma(%a: tensor<4x8xf32>, %g: tensor<4xf32>) {
  // expected-error@+1 {{'ftc.add_layer_norm' op gamma and beta must be [8]}}
  %y, %s = ftc.add_layer_norm %a, %a, %g, %g {eps = 1.0e-12 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>)
  return
}

// -----

func.func @strided_matmul_shapes(%a: tensor<2x5x3x4xf32>, %b: tensor<2x5x3x4xf32>) {
  // expected-error@+1 {{'ftc.strided_batch_matmul' op result must be [2, 3, 5, 5]}}
  %c = ftc.strided_batch_matmul %a, %b {lhs_perm = array<i64: 0, 2, 1, 3>, rhs_perm = array<i64: 0, 2, 3, 1>, result_perm = array<i64: 0, 1, 2, 3>} : (tensor<2x5x3x4xf32>, tensor<2x5x3x4xf32>) -> tensor<2x3x5x4xf32>
  return
}

// -----

func.func @strided_matmul_perm(%a: tensor<2x5x3x4xf32>, %b: tensor<2x5x3x4xf32>) {
  // expected-error@+1 {{'ftc.strided_batch_matmul' op permutations must be of [0, 4)}}
  %c = ftc.strided_batch_matmul %a, %b {lhs_perm = array<i64: 0, 2, 2, 3>, rhs_perm = array<i64: 0, 2, 3, 1>, result_perm = array<i64: 0, 1, 2, 3>} : (tensor<2x5x3x4xf32>, tensor<2x5x3x4xf32>) -> tensor<2x3x5x5xf32>
  return
}

// -----

func.func @gelu_form(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'ftc.gelu' op approximate must be "none" (erf) or "tanh", got "sigmoid"}}
  %y = ftc.gelu %x {approximate = "sigmoid"} : tensor<2x3xf32>
  return
}

// -----

func.func @causal_too_few_keys(%x: tensor<2x4x3xf32>) {
  // expected-error@+1 {{'ftc.masked_softmax' op a causal mask needs an input [..., queries, keys] with at least as many keys as queries}}
  %y = ftc.masked_softmax %x {scale = 1.0 : f64, causal = 1} : (tensor<2x4x3xf32>) -> tensor<2x4x3xf32>
  return
}

// -----

func.func @no_broadcast(%a: tensor<3x4xf32>, %b: tensor<2x4xf32>) {
  // expected-error@+2 {{'ftc.add' operands do not broadcast: axis 0 is 3 and 2}}
  // expected-error@+1 {{'ftc.add' op failed to infer returned types}}
  %c = ftc.add %a, %b : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @broadcast_rank(%a: tensor<3x4xf32>, %b: tensor<4xf32>) {
  // expected-error@+2 {{'ftc.mul' operands must have one rank, got 2 and 1 (reshape to add axes of size 1)}}
  // expected-error@+1 {{'ftc.mul' op failed to infer returned types}}
  %c = ftc.mul %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @compare_bad_predicate(%a: tensor<3x4xf32>) -> tensor<3x4xi32> {
  // expected-error@+1 {{'ftc.compare' op unknown predicate 'lesser'; expected eq, ne, lt, le, gt or ge}}
  %c = ftc.compare %a, %a {predicate = "lesser"} : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xi32>
  return %c : tensor<3x4xi32>
}

// -----

func.func @compare_mixed_types(%a: tensor<3x4xf32>, %b: tensor<3x4xi32>) -> tensor<3x4xi32> {
  // expected-error@+2 {{'ftc.compare' operand 1 must be f32}}
  // expected-error@+1 {{'ftc.compare' op failed to infer returned types}}
  %c = ftc.compare %a, %b {predicate = "lt"} : (tensor<3x4xf32>, tensor<3x4xi32>) -> tensor<3x4xi32>
  return %c : tensor<3x4xi32>
}

// -----

func.func @where_no_broadcast(%c: tensor<3x4xi32>, %a: tensor<3x4xf32>, %b: tensor<2x4xf32>) -> tensor<3x4xf32> {
  // expected-error@+2 {{'ftc.where' operands do not broadcast: axis 0 is 3 and 2}}
  // expected-error@+1 {{'ftc.where' op failed to infer returned types}}
  %w = ftc.where %c, %a, %b : (tensor<3x4xi32>, tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<3x4xf32>
  return %w : tensor<3x4xf32>
}

// -----

func.func @slice_out_of_range(%a: tensor<3x4xf32>) -> tensor<3x2xf32> {
  // expected-error@+2 {{'ftc.slice' range [3, 5) is not inside axis 1 of size 4}}
  // expected-error@+1 {{'ftc.slice' op failed to infer returned types}}
  %s = ftc.slice %a {axis = 1 : i64, start = 3 : i64, size = 2 : i64} : tensor<3x4xf32> -> tensor<3x2xf32>
  return %s : tensor<3x2xf32>
}

// -----

func.func @concat_mismatch(%a: tensor<3x4xf32>, %b: tensor<2x4xf32>) -> tensor<5x4xf32> {
  // expected-error@+2 {{'ftc.concat' operand 1 must match operand 0's element type and every axis but 1}}
  // expected-error@+1 {{'ftc.concat' op failed to infer returned types}}
  %c = ftc.concat %a, %b {axis = 1 : i64} : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<5x4xf32>
  return %c : tensor<5x4xf32>
}

// -----

func.func @slice_grad_misfit(%g: tensor<3x3xf32>) -> tensor<3x4xf32> {
  // expected-error@+1 {{'ftc.slice_grad' op the gradient must fit inside the result at 'start' along 'axis', with every other axis equal}}
  %d = ftc.slice_grad %g {axis = 1 : i64, start = 2 : i64} : tensor<3x3xf32> -> tensor<3x4xf32>
  return %d : tensor<3x4xf32>
}

// -----

// conv2d: the groups do not divide the input channels.
func.func @conv_groups(%x: tensor<1x3x8x8xf32>, %w: tensor<4x1x3x3xf32>) {
  // expected-error@+1 {{groups (2) must divide the input channels (3) and the output channels (4)}}
  %y = ftc.conv2d %x, %w {groups = 2 : i64} : (tensor<1x3x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

// conv2d: the window does not fit.
func.func @conv_window(%x: tensor<1x3x2x2xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+2 {{'ftc.conv2d' window does not fit the 2x2 input (output 0x0)}}
  // expected-error@+1 {{'ftc.conv2d' op failed to infer returned types}}
  %y = ftc.conv2d %x, %w : (tensor<1x3x2x2xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32>
  return
}

// -----

// max_pool2d: padding beyond half the window.
func.func @pool_padding(%x: tensor<1x3x8x8xf32>) {
  // expected-error@+1 {{padding must be at most half the window}}
  %y = ftc.max_pool2d %x {kernel = array<i64: 2, 2>, padding = array<i64: 2, 2>} : tensor<1x3x8x8xf32> -> tensor<1x3x11x11xf32>
  return
}

// -----

// batch_norm: the running statistics must be state, not computed values.
func.func @bn_stats(%x: tensor<2x3x4x4xf32>, %g: tensor<3xf32>, %m: tensor<3xf32>) {
  // expected-error@+1 {{running mean and variance must be ftc.running_stat values}}
  %y = ftc.batch_norm %x, %g, %g, %m, %m : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4x4xf32>
  return
}

// -----

// batch_norm: per-channel operands must be [C].
func.func @bn_shape(%x: tensor<2x3x4x4xf32>, %g: tensor<4xf32>) {
  %m = ftc.running_stat "bn.running_mean" : tensor<3xf32>
  // expected-error@+1 {{gamma, beta and the running statistics must be [3]}}
  %y = ftc.batch_norm %x, %g, %g, %m, %m : (tensor<2x3x4x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<2x3x4x4xf32>
  return
}

// -----

func.func @cast_to_itself(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{converts 'f32' to itself}}
  %y = ftc.cast %x : tensor<4x3xf32> to tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

func.func @cast_reshapes(%x: tensor<4x3xf32>) -> tensor<12xbf16> {
  // expected-error @+1 {{changes the shape from [4, 3] to [12]}}
  %y = ftc.cast %x : tensor<4x3xf32> to tensor<12xbf16>
  return %y : tensor<12xbf16>
}

// -----

func.func @mixed_multiplicands(%x: tensor<4x3xbf16>, %w: tensor<2x3xf32>) -> tensor<4x2xf32> {
  // expected-error @+1 {{multiplies operands of different element types ('bf16' and 'f32')}}
  %y = ftc.linear %x, %w : (tensor<4x3xbf16>, tensor<2x3xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

func.func @bf16_outside_products(%x: tensor<4x3xbf16>) -> tensor<4x3xbf16> {
  // expected-error @+1 {{operand #0 must be ranked tensor of 32-bit float values}}
  %y = ftc.relu %x : tensor<4x3xbf16>
  return %y : tensor<4x3xbf16>
}
