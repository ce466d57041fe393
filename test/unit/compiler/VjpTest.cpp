//===- VjpTest.cpp - Autodiff gradients vs central finite differences ----===//
// SPDX-License-Identifier: Apache-2.0
//
// Every differentiable op goes through the real compiler (freeze, autodiff,
// memory planning, conversion) and the CPU runtime: train_step's
// `grad.<name>` outputs are compared with central differences of the loss
// computed by eval_step with perturbed parameters. Each case also checks
// that the comparison is sharp enough to reject a gradient with the wrong
// sign or off by a factor of two.
//===----------------------------------------------------------------------===//

#include "CompileHelpers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>

using namespace ftc;
using mlir::ftc::Stage;
using mlir::ftc::TrainingPipelineOptions;

namespace {

struct VjpCase {
  std::string name;
  std::string ir;
  int32_t classes = 2;             // label range for i32 inputs
  std::vector<std::string> frozen; // freeze patterns (empty: all train)
  // The loss differs between training and evaluation (batch norm's batch
  // statistics): differences of train_step's loss, not eval_step's.
  bool trainModeLoss = false;
  // Parameters get distinct values 2/n apart (shuffled), well beyond the
  // finite-difference step: max pooling's argmax and ReLU6's kinks stay put.
  bool spread = false;
};

std::ostream &operator<<(std::ostream &os, const VjpCase &c) {
  return os << c.name;
}

/// `func.func @forward() {` + body + the loss `reduce_sum(value * r)` where
/// r is the input "r" (a fixed random tensor of `type`, rank `rank`).
std::string weightedSum(const std::string &body, const std::string &value,
                        const std::string &type, int rank) {
  std::string axes;
  for (int d = 0; d < rank; ++d)
    axes += (d ? ", " : "") + std::to_string(d);
  return "func.func @forward() {\n" + body +
         "  %r = ftc.input \"r\" : " + type + "\n  %wy = ftc.mul " + value +
         ", %r : " + type +
         "\n  %loss = ftc.reduce_sum %wy {axes = array<i64: " + axes +
         ">} : " + type +
         " -> tensor<f32>\n"
         "  ftc.output \"loss\" %loss : tensor<f32>\n  return\n}\n";
}

/// `func.func @forward() {` + body (which defines %loss) + the output.
std::string withLoss(const std::string &body) {
  return "func.func @forward() {\n" + body +
         "  ftc.output \"loss\" %loss : tensor<f32>\n  return\n}\n";
}

std::vector<VjpCase> cases() {
  std::vector<VjpCase> c;
  // linear, with and without bias; the input is a parameter too so that
  // linear_grad_data is exercised.
  c.push_back(
      {"linear_bias",
       weightedSum(
           "  %x = ftc.param \"x\" : tensor<3x5xf32>\n"
           "  %w = ftc.param \"w\" : tensor<4x5xf32>\n"
           "  %b = ftc.param \"b\" : tensor<4xf32>\n"
           "  %y = ftc.linear %x, %w, %b : (tensor<3x5xf32>, tensor<4x5xf32>, "
           "tensor<4xf32>) -> tensor<3x4xf32>\n",
           "%y", "tensor<3x4xf32>", 2)});
  c.push_back({"linear_nobias",
               weightedSum("  %x = ftc.param \"x\" : tensor<3x5xf32>\n"
                           "  %w = ftc.param \"w\" : tensor<4x5xf32>\n"
                           "  %y = ftc.linear %x, %w : (tensor<3x5xf32>, "
                           "tensor<4x5xf32>) -> tensor<3x4xf32>\n",
                           "%y", "tensor<3x4xf32>", 2)});
  // linear on a frozen input: only the weight and bias get gradients.
  c.push_back(
      {"linear_frozen_input",
       weightedSum(
           "  %x = ftc.param \"fixed.x\" : tensor<3x5xf32>\n"
           "  %w = ftc.param \"w\" : tensor<4x5xf32>\n"
           "  %b = ftc.param \"b\" : tensor<4xf32>\n"
           "  %y = ftc.linear %x, %w, %b : (tensor<3x5xf32>, tensor<4x5xf32>, "
           "tensor<4xf32>) -> tensor<3x4xf32>\n",
           "%y", "tensor<3x4xf32>", 2),
       2,
       {"fixed.*"}});
  c.push_back({"relu", weightedSum("  %p = ftc.param \"p\" : tensor<3x4xf32>\n"
                                   "  %y = ftc.relu %p : tensor<3x4xf32>\n",
                                   "%y", "tensor<3x4xf32>", 2)});
  c.push_back({"gelu", weightedSum("  %p = ftc.param \"p\" : tensor<3x4xf32>\n"
                                   "  %y = ftc.gelu %p : tensor<3x4xf32>\n",
                                   "%y", "tensor<3x4xf32>", 2)});
  // Broadcasting: the gradient of a broadcast operand is summed over the
  // axes it was broadcast along.
  c.push_back(
      {"add_broadcast", weightedSum("  %a = ftc.param \"a\" : tensor<3x4xf32>\n"
                                    "  %b = ftc.param \"b\" : tensor<1x4xf32>\n"
                                    "  %y = ftc.add %a, %b : (tensor<3x4xf32>, "
                                    "tensor<1x4xf32>) -> tensor<3x4xf32>\n",
                                    "%y", "tensor<3x4xf32>", 2)});
  c.push_back({"sub_broadcast_lhs",
               weightedSum("  %a = ftc.param \"a\" : tensor<3x1xf32>\n"
                           "  %b = ftc.param \"b\" : tensor<3x4xf32>\n"
                           "  %y = ftc.sub %a, %b : (tensor<3x1xf32>, "
                           "tensor<3x4xf32>) -> tensor<3x4xf32>\n",
                           "%y", "tensor<3x4xf32>", 2)});
  c.push_back({"mul_broadcast_both",
               weightedSum("  %a = ftc.param \"a\" : tensor<2x1x4xf32>\n"
                           "  %b = ftc.param \"b\" : tensor<2x3x1xf32>\n"
                           "  %y = ftc.mul %a, %b : (tensor<2x1x4xf32>, "
                           "tensor<2x3x1xf32>) -> tensor<2x3x4xf32>\n",
                           "%y", "tensor<2x3x4xf32>", 3)});
  // A causal softmax over [queries, keys] with more keys than queries.
  c.push_back({"masked_softmax_causal",
               weightedSum("  %p = ftc.param \"p\" : tensor<2x3x4xf32>\n"
                           "  %y = ftc.masked_softmax %p {scale = 0.5 : f64, "
                           "causal = 1} : (tensor<2x3x4xf32>) -> "
                           "tensor<2x3x4xf32>\n",
                           "%y", "tensor<2x3x4xf32>", 3)});
  c.push_back(
      {"gelu_tanh", weightedSum("  %p = ftc.param \"p\" : tensor<3x4xf32>\n"
                                "  %y = ftc.gelu %p {approximate = \"tanh\"} : "
                                "tensor<3x4xf32>\n",
                                "%y", "tensor<3x4xf32>", 2)});
  c.push_back({"add", weightedSum("  %a = ftc.param \"a\" : tensor<3x4xf32>\n"
                                  "  %b = ftc.param \"b\" : tensor<3x4xf32>\n"
                                  "  %y = ftc.add %a, %b : tensor<3x4xf32>\n",
                                  "%y", "tensor<3x4xf32>", 2)});
  c.push_back({"add_same_operand",
               weightedSum("  %a = ftc.param \"a\" : tensor<3x4xf32>\n"
                           "  %y = ftc.add %a, %a : tensor<3x4xf32>\n",
                           "%y", "tensor<3x4xf32>", 2)});
  c.push_back({"sub", weightedSum("  %a = ftc.param \"a\" : tensor<3x4xf32>\n"
                                  "  %b = ftc.param \"b\" : tensor<3x4xf32>\n"
                                  "  %y = ftc.sub %a, %b : tensor<3x4xf32>\n",
                                  "%y", "tensor<3x4xf32>", 2)});
  c.push_back({"mul", weightedSum("  %a = ftc.param \"a\" : tensor<3x4xf32>\n"
                                  "  %b = ftc.param \"b\" : tensor<3x4xf32>\n"
                                  "  %y = ftc.mul %a, %b : tensor<3x4xf32>\n",
                                  "%y", "tensor<3x4xf32>", 2)});
  c.push_back({"mul_same_operand",
               weightedSum("  %a = ftc.param \"a\" : tensor<3x4xf32>\n"
                           "  %y = ftc.mul %a, %a : tensor<3x4xf32>\n",
                           "%y", "tensor<3x4xf32>", 2)});
  c.push_back({"mul_frozen_operand",
               weightedSum("  %c = ftc.param \"fixed.c\" : tensor<3x4xf32>\n"
                           "  %a = ftc.param \"a\" : tensor<3x4xf32>\n"
                           "  %y = ftc.mul %c, %a : tensor<3x4xf32>\n",
                           "%y", "tensor<3x4xf32>", 2),
               2,
               {"fixed.*"}});
  c.push_back(
      {"scale", weightedSum("  %a = ftc.param \"a\" : tensor<3x4xf32>\n"
                            "  %y = ftc.scale %a {factor = -2.5 : f64} : "
                            "tensor<3x4xf32>\n",
                            "%y", "tensor<3x4xf32>", 2)});
  // A parameter read twice, on two paths: the contributions are summed.
  c.push_back(
      {"fanout", weightedSum("  %a = ftc.param \"a\" : tensor<3x4xf32>\n"
                             "  %b = ftc.param \"b\" : tensor<3x4xf32>\n"
                             "  %m = ftc.mul %a, %b : tensor<3x4xf32>\n"
                             "  %y = ftc.add %m, %a : tensor<3x4xf32>\n",
                             "%y", "tensor<3x4xf32>", 2)});
  // Two ftc.param ops reading one parameter: one summed gradient.
  c.push_back({"param_read_twice",
               weightedSum("  %a1 = ftc.param \"a\" : tensor<3x4xf32>\n"
                           "  %a2 = ftc.param \"a\" : tensor<3x4xf32>\n"
                           "  %y = ftc.mul %a1, %a2 : tensor<3x4xf32>\n",
                           "%y", "tensor<3x4xf32>", 2)});
  // Centring by a row mean: reduce_mean, broadcast and sub with fan-out.
  c.push_back(
      {"centered_rows",
       weightedSum("  %p = ftc.param \"p\" : tensor<3x4xf32>\n"
                   "  %g = ftc.gelu %p : tensor<3x4xf32>\n"
                   "  %mu = ftc.reduce_mean %g {axes = array<i64: 1>} : "
                   "tensor<3x4xf32> -> tensor<3xf32>\n"
                   "  %mub = ftc.broadcast %mu {axes = array<i64: 1>} : "
                   "tensor<3xf32> -> tensor<3x4xf32>\n"
                   "  %c = ftc.sub %g, %mub : tensor<3x4xf32>\n"
                   "  %y = ftc.mul %c, %c : tensor<3x4xf32>\n",
                   "%y", "tensor<3x4xf32>", 2)});
  // Reductions over several axis sets.
  struct Reduce {
    const char *op, *axes, *resultType, *suffix;
    int rank;
  };
  for (const char *op : {"reduce_sum", "reduce_mean"}) {
    for (Reduce r : {Reduce{op, "1", "tensor<2x4xf32>", "axis1", 2},
                     Reduce{op, "0, 2", "tensor<3xf32>", "axes02", 1},
                     Reduce{op, "2", "tensor<2x3xf32>", "axis2", 2},
                     Reduce{op, "0", "tensor<3x4xf32>", "axis0", 2}}) {
      c.push_back(
          {std::string(op) + "_" + r.suffix,
           weightedSum(std::string("  %p = ftc.param \"p\" : "
                                   "tensor<2x3x4xf32>\n  %y = ftc.") +
                           op + " %p {axes = array<i64: " + r.axes +
                           ">} : tensor<2x3x4xf32> -> " + r.resultType + "\n",
                       "%y", r.resultType, r.rank)});
    }
    // Everything reduced to a scalar, squared for a non-constant gradient.
    c.push_back({std::string(op) + "_all",
                 withLoss(std::string("  %p = ftc.param \"p\" : "
                                      "tensor<2x3x4xf32>\n  %s = ftc.") +
                          op +
                          " %p {axes = array<i64: 0, 1, 2>} : "
                          "tensor<2x3x4xf32> -> tensor<f32>\n"
                          "  %t = ftc.scale %s {factor = 10.0 : f64} : "
                          "tensor<f32>\n"
                          "  %loss = ftc.mul %t, %t : tensor<f32>\n")});
  }
  c.push_back({"broadcast_axis0",
               weightedSum("  %p = ftc.param \"p\" : tensor<4xf32>\n"
                           "  %y = ftc.broadcast %p {axes = array<i64: 0>} : "
                           "tensor<4xf32> -> tensor<3x4xf32>\n",
                           "%y", "tensor<3x4xf32>", 2)});
  c.push_back(
      {"broadcast_axes02",
       weightedSum("  %p = ftc.param \"p\" : tensor<3xf32>\n"
                   "  %y = ftc.broadcast %p {axes = array<i64: 0, 2>} : "
                   "tensor<3xf32> -> tensor<2x3x4xf32>\n",
                   "%y", "tensor<2x3x4xf32>", 3)});
  c.push_back({"broadcast_axis2",
               weightedSum("  %p = ftc.param \"p\" : tensor<3x4xf32>\n"
                           "  %y = ftc.broadcast %p {axes = array<i64: 2>} : "
                           "tensor<3x4xf32> -> tensor<3x4x2xf32>\n",
                           "%y", "tensor<3x4x2xf32>", 3)});
  c.push_back(
      {"broadcast_scalar",
       weightedSum("  %p = ftc.param \"p\" : tensor<f32>\n"
                   "  %y = ftc.broadcast %p {axes = array<i64: 0, 1>} : "
                   "tensor<f32> -> tensor<3x4xf32>\n",
                   "%y", "tensor<3x4xf32>", 2)});
  c.push_back({"reshape_2d",
               weightedSum("  %p = ftc.param \"p\" : tensor<2x6xf32>\n"
                           "  %y = ftc.reshape %p {shape = array<i64: 3, 4>} : "
                           "tensor<2x6xf32> -> tensor<3x4xf32>\n",
                           "%y", "tensor<3x4xf32>", 2)});
  c.push_back({"reshape_3d_to_2d",
               weightedSum("  %p = ftc.param \"p\" : tensor<2x3x4xf32>\n"
                           "  %y = ftc.reshape %p {shape = array<i64: 6, 4>} : "
                           "tensor<2x3x4xf32> -> tensor<6x4xf32>\n",
                           "%y", "tensor<6x4xf32>", 2)});
  c.push_back({"softmax_cross_entropy",
               withLoss("  %logits = ftc.param \"logits\" : tensor<3x5xf32>\n"
                        "  %labels = ftc.input \"label\" : tensor<3xi32>\n"
                        "  %loss = ftc.softmax_cross_entropy %logits, %labels "
                        ": (tensor<3x5xf32>, tensor<3xi32>) -> tensor<f32>\n"),
               5});
  // A multi-result op: add_layer_norm's normalised result and its sum, each
  // read by the loss (the sum through a square, so that its own gradient
  // is not constant), or only one of them.
  const std::string addLn =
      "  %a = ftc.param \"a\" : tensor<3x4xf32>\n"
      "  %c = ftc.param \"c\" : tensor<3x4xf32>\n"
      "  %g = ftc.param \"g\" {init = \"ones\"} : tensor<4xf32>\n"
      "  %be = ftc.param \"be\" : tensor<4xf32>\n"
      "  %y, %s = ftc.add_layer_norm %a, %c, %g, %be {eps = 1.0e-5 : f64} : "
      "(tensor<3x4xf32>, tensor<3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> "
      "(tensor<3x4xf32>, tensor<3x4xf32>)\n"
      "  %r = ftc.input \"r\" : tensor<3x4xf32>\n";
  const std::string sumAll = "{axes = array<i64: 0, 1>} : tensor<3x4xf32> -> "
                             "tensor<f32>\n";
  c.push_back({"add_layer_norm_both_results",
               withLoss(addLn +
                        "  %ry = ftc.mul %y, %r : tensor<3x4xf32>\n"
                        "  %ss = ftc.mul %s, %s : tensor<3x4xf32>\n"
                        "  %t = ftc.add %ry, %ss : tensor<3x4xf32>\n"
                        "  %loss = ftc.reduce_sum %t " +
                        sumAll)});
  c.push_back({"add_layer_norm_result_only",
               withLoss(addLn +
                        "  %ry = ftc.mul %y, %r : tensor<3x4xf32>\n"
                        "  %loss = ftc.reduce_sum %ry " +
                        sumAll)});
  // Only the sum read: gamma and beta do not reach the loss (their zero
  // gradients are checked in test/Transforms/autodiff_multi_result.mlir).
  c.push_back({"add_layer_norm_sum_only",
               withLoss(addLn +
                        "  %ss = ftc.mul %s, %r : tensor<3x4xf32>\n"
                        "  %sq = ftc.mul %ss, %s : tensor<3x4xf32>\n"
                        "  %loss = ftc.reduce_sum %sq " +
                        sumAll),
               2,
               {"g", "be"}});
  // A general additive attention mask (a learned bias per query and key, as
  // ALiBi or T5's relative positions): a broadcasting add before the
  // softmax; both the scores and the bias get gradients.
  c.push_back({"additive_attention_mask",
               weightedSum("  %s = ftc.param \"s\" : tensor<2x3x4xf32>\n"
                           "  %bias = ftc.param \"bias\" : tensor<1x3x4xf32>\n"
                           "  %sc = ftc.scale %s {factor = 0.5 : f64} : "
                           "tensor<2x3x4xf32>\n"
                           "  %a = ftc.add %sc, %bias : (tensor<2x3x4xf32>, "
                           "tensor<1x3x4xf32>) -> tensor<2x3x4xf32>\n"
                           "  %y = ftc.masked_softmax %a {scale = 1.0 : f64} : "
                           "(tensor<2x3x4xf32>) -> tensor<2x3x4xf32>\n",
                           "%y", "tensor<2x3x4xf32>", 3)});
  // Selection: where picks the gradient's destination by a data mask (a
  // broadcast one, and one computed by compare, whose own gradient is zero);
  // slice and concat route ranges of it.
  c.push_back({"where_broadcast",
               weightedSum("  %m = ftc.input \"m\" : tensor<3x1xi32>\n"
                           "  %a = ftc.param \"a\" : tensor<3x4xf32>\n"
                           "  %b = ftc.param \"b\" : tensor<1x4xf32>\n"
                           "  %y = ftc.where %m, %a, %b : (tensor<3x1xi32>, "
                           "tensor<3x4xf32>, tensor<1x4xf32>) -> "
                           "tensor<3x4xf32>\n",
                           "%y", "tensor<3x4xf32>", 2)});
  c.push_back({"where_compare",
               weightedSum("  %x = ftc.input \"x\" : tensor<3x4xf32>\n"
                           "  %zero = ftc.fill {value = 0.0 : f64} : "
                           "tensor<1x1xf32>\n"
                           "  %m = ftc.compare %x, %zero {predicate = \"gt\"} "
                           ": (tensor<3x4xf32>, tensor<1x1xf32>) -> "
                           "tensor<3x4xi32>\n"
                           "  %p = ftc.param \"p\" : tensor<3x4xf32>\n"
                           "  %q = ftc.param \"q\" : tensor<3x1xf32>\n"
                           "  %y = ftc.where %m, %q, %p : (tensor<3x4xi32>, "
                           "tensor<3x1xf32>, tensor<3x4xf32>) -> "
                           "tensor<3x4xf32>\n",
                           "%y", "tensor<3x4xf32>", 2)});
  c.push_back({"slice_middle",
               weightedSum("  %p = ftc.param \"p\" : tensor<2x6x3xf32>\n"
                           "  %y = ftc.slice %p {axis = 1 : i64, start = 2 : "
                           "i64, size = 3 : i64} : tensor<2x6x3xf32> -> "
                           "tensor<2x3x3xf32>\n",
                           "%y", "tensor<2x3x3xf32>", 3)});
  c.push_back({"concat_three",
               weightedSum("  %a = ftc.param \"a\" : tensor<3x2xf32>\n"
                           "  %b = ftc.param \"b\" : tensor<3x1xf32>\n"
                           "  %d = ftc.param \"d\" : tensor<3x3xf32>\n"
                           "  %y = ftc.concat %a, %b, %d {axis = 1 : i64} : "
                           "(tensor<3x2xf32>, tensor<3x1xf32>, "
                           "tensor<3x3xf32>) -> tensor<3x6xf32>\n",
                           "%y", "tensor<3x6xf32>", 2)});
  // Ranges of one tensor swapped and joined again (fan-out of slices).
  c.push_back({"slice_concat_swap",
               weightedSum("  %p = ftc.param \"p\" : tensor<4x3xf32>\n"
                           "  %h = ftc.slice %p {axis = 0 : i64, start = 0 : "
                           "i64, size = 1 : i64} : tensor<4x3xf32> -> "
                           "tensor<1x3xf32>\n"
                           "  %t = ftc.slice %p {axis = 0 : i64, start = 1 : "
                           "i64, size = 3 : i64} : tensor<4x3xf32> -> "
                           "tensor<3x3xf32>\n"
                           "  %s = ftc.mul %p, %p : tensor<4x3xf32>\n"
                           "  %y = ftc.concat %t, %h, %s {axis = 0 : i64} : "
                           "(tensor<3x3xf32>, tensor<1x3xf32>, "
                           "tensor<4x3xf32>) -> tensor<8x3xf32>\n",
                           "%y", "tensor<8x3xf32>", 2)});
  // Convolutions: strided and padded with a bias; grouped, dilated and
  // asymmetrically padded; depthwise with TensorFlow's "same" padding.
  c.push_back(
      {"conv2d_bias_stride",
       weightedSum(
           "  %x = ftc.param \"x\" : tensor<2x3x5x5xf32>\n"
           "  %w = ftc.param \"w\" : tensor<4x3x3x3xf32>\n"
           "  %b = ftc.param \"b\" : tensor<4xf32>\n"
           "  %y = ftc.conv2d %x, %w, %b {stride = array<i64: 2, 2>, "
           "padding = array<i64: 1, 1>} : (tensor<2x3x5x5xf32>, "
           "tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<2x4x3x3xf32>\n",
           "%y", "tensor<2x4x3x3xf32>", 4)});
  c.push_back(
      {"conv2d_grouped_dilated",
       weightedSum("  %x = ftc.param \"x\" : tensor<2x4x6x6xf32>\n"
                   "  %w = ftc.param \"w\" : tensor<4x2x3x3xf32>\n"
                   "  %y = ftc.conv2d %x, %w {groups = 2 : i64, dilation = "
                   "array<i64: 2, 2>, padding = array<i64: 0, 1, 2, 1>} : "
                   "(tensor<2x4x6x6xf32>, tensor<4x2x3x3xf32>) -> "
                   "tensor<2x4x4x4xf32>\n",
                   "%y", "tensor<2x4x4x4xf32>", 4)});
  c.push_back(
      {"conv2d_depthwise_same",
       weightedSum("  %x = ftc.param \"x\" : tensor<1x3x5x5xf32>\n"
                   "  %w = ftc.param \"w\" : tensor<3x1x3x3xf32>\n"
                   "  %y = ftc.conv2d %x, %w {groups = 3 : i64, stride = "
                   "array<i64: 2, 2>, padding = array<i64: 0, 0, 1, 1>} : "
                   "(tensor<1x3x5x5xf32>, tensor<3x1x3x3xf32>) -> "
                   "tensor<1x3x2x2xf32>\n",
                   "%y", "tensor<1x3x2x2xf32>", 4)});
  // A 5x5 depthwise window with stride 2 and "same" padding (EfficientNet's;
  // its weight gradient is ftc's own kernel, oneDNN's covers 3x3 only) and a
  // dilated one.
  c.push_back(
      {"conv2d_depthwise_5x5",
       weightedSum("  %x = ftc.param \"x\" : tensor<2x3x8x8xf32>\n"
                   "  %w = ftc.param \"w\" : tensor<3x1x5x5xf32>\n"
                   "  %y = ftc.conv2d %x, %w {groups = 3 : i64, stride = "
                   "array<i64: 2, 2>, padding = array<i64: 1, 1, 2, 2>} : "
                   "(tensor<2x3x8x8xf32>, tensor<3x1x5x5xf32>) -> "
                   "tensor<2x3x4x4xf32>\n",
                   "%y", "tensor<2x3x4x4xf32>", 4)});
  c.push_back(
      {"conv2d_depthwise_dilated",
       weightedSum("  %x = ftc.param \"x\" : tensor<1x2x7x7xf32>\n"
                   "  %w = ftc.param \"w\" : tensor<2x1x3x3xf32>\n"
                   "  %y = ftc.conv2d %x, %w {groups = 2 : i64, dilation = "
                   "array<i64: 2, 2>, padding = array<i64: 2, 1, 2, 1>} : "
                   "(tensor<1x2x7x7xf32>, tensor<2x1x3x3xf32>) -> "
                   "tensor<1x2x7x5xf32>\n",
                   "%y", "tensor<1x2x7x5xf32>", 4)});
  c.push_back(
      {"max_pool2d",
       weightedSum("  %x = ftc.param \"x\" : tensor<2x2x5x5xf32>\n"
                   "  %y = ftc.max_pool2d %x {kernel = array<i64: 3, 3>, "
                   "stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : "
                   "tensor<2x2x5x5xf32> -> tensor<2x2x3x3xf32>\n",
                   "%y", "tensor<2x2x3x3xf32>", 4),
       2,
       {},
       false,
       /*spread=*/true});
  c.push_back(
      {"avg_pool2d_include_pad",
       weightedSum("  %x = ftc.param \"x\" : tensor<1x2x5x5xf32>\n"
                   "  %y = ftc.avg_pool2d %x {kernel = array<i64: 3, 3>, "
                   "stride = array<i64: 2, 2>, padding = array<i64: 1, 1>} : "
                   "tensor<1x2x5x5xf32> -> tensor<1x2x3x3xf32>\n",
                   "%y", "tensor<1x2x3x3xf32>", 4)});
  c.push_back(
      {"avg_pool2d_exclude_pad",
       weightedSum("  %x = ftc.param \"x\" : tensor<1x2x5x5xf32>\n"
                   "  %y = ftc.avg_pool2d %x {kernel = array<i64: 3, 2>, "
                   "stride = array<i64: 2, 1>, padding = array<i64: 1, 1>, "
                   "count_include_pad = 0 : i64} : "
                   "tensor<1x2x5x5xf32> -> tensor<1x2x3x6xf32>\n",
                   "%y", "tensor<1x2x3x6xf32>", 4)});
  c.push_back(
      {"relu6",
       weightedSum(
           "  %p = ftc.param \"p\" : tensor<3x4xf32>\n"
           "  %s = ftc.scale %p {factor = 9.0 : f64} : tensor<3x4xf32>\n"
           "  %y = ftc.relu6 %s : tensor<3x4xf32>\n",
           "%y", "tensor<3x4xf32>", 2),
       2,
       {},
       false,
       /*spread=*/true});
  // Batch norm in training (batch statistics) and with running statistics.
  const std::string bnParams =
      "  %x = ftc.param \"x\" : tensor<4x3x2x2xf32>\n"
      "  %g = ftc.param \"bn.weight\" : tensor<3xf32>\n"
      "  %b = ftc.param \"bn.bias\" : tensor<3xf32>\n"
      "  %rm = ftc.running_stat \"bn.running_mean\" : tensor<3xf32>\n"
      "  %rv = ftc.running_stat \"bn.running_var\" {init = \"ones\"} : "
      "tensor<3xf32>\n";
  const std::string bnTypes =
      " : (tensor<4x3x2x2xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, "
      "tensor<3xf32>) -> tensor<4x3x2x2xf32>\n";
  c.push_back(
      {"batch_norm_train",
       weightedSum(bnParams + "  %y = ftc.batch_norm %x, %g, %b, %rm, %rv" +
                       bnTypes,
                   "%y", "tensor<4x3x2x2xf32>", 4),
       2,
       {},
       /*trainModeLoss=*/true});
  c.push_back({"batch_norm_inference",
               weightedSum(bnParams +
                               "  %y = ftc.batch_norm_inference %x, %g, %b, "
                               "%rm, %rv" +
                               bnTypes,
                           "%y", "tensor<4x3x2x2xf32>", 4)});
  // Sixteen channels: the plan keeps conv -> batch norm -> add -> depthwise
  // 5x5 conv in the blocked nChw16c layout (the blocked batch norm and
  // depthwise weight-gradient kernels; an add, not a relu, whose kinks the
  // finite differences would straddle).
  c.push_back(
      {"blocked_conv_bn_add_depthwise",
       weightedSum(
           "  %x = ftc.input \"image\" : tensor<2x3x6x6xf32>\n"
           "  %w = ftc.param \"w\" : tensor<16x3x3x3xf32>\n"
           "  %g = ftc.param \"bn.weight\" : tensor<16xf32>\n"
           "  %b = ftc.param \"bn.bias\" : tensor<16xf32>\n"
           "  %rm = ftc.running_stat \"bn.running_mean\" : tensor<16xf32>\n"
           "  %rv = ftc.running_stat \"bn.running_var\" {init = \"ones\"} : "
           "tensor<16xf32>\n"
           "  %c = ftc.conv2d %x, %w {padding = array<i64: 1, 1>} : "
           "(tensor<2x3x6x6xf32>, tensor<16x3x3x3xf32>) -> "
           "tensor<2x16x6x6xf32>\n"
           "  %n = ftc.batch_norm %c, %g, %b, %rm, %rv : "
           "(tensor<2x16x6x6xf32>, "
           "tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> "
           "tensor<2x16x6x6xf32>\n"
           "  %a = ftc.add %n, %c : tensor<2x16x6x6xf32>\n"
           "  %d = ftc.param \"dw\" : tensor<16x1x5x5xf32>\n"
           "  %y = ftc.conv2d %a, %d {groups = 16 : i64, padding = array<i64: "
           "2, 2>} : (tensor<2x16x6x6xf32>, tensor<16x1x5x5xf32>) -> "
           "tensor<2x16x6x6xf32>\n",
           "%y", "tensor<2x16x6x6xf32>", 4),
       2,
       {},
       /*trainModeLoss=*/true});
  // A small network: linear + gelu + linear head + cross-entropy.
  c.push_back(
      {"gelu_mlp_cross_entropy",
       withLoss("  %x = ftc.input \"image\" : tensor<3x5xf32>\n"
                "  %labels = ftc.input \"label\" : tensor<3xi32>\n"
                "  %w0 = ftc.param \"w0\" : tensor<6x5xf32>\n"
                "  %b0 = ftc.param \"b0\" : tensor<6xf32>\n"
                "  %w1 = ftc.param \"w1\" : tensor<4x6xf32>\n"
                "  %h = ftc.linear %x, %w0, %b0 : (tensor<3x5xf32>, "
                "tensor<6x5xf32>, tensor<6xf32>) -> tensor<3x6xf32>\n"
                "  %a = ftc.gelu %h : tensor<3x6xf32>\n"
                "  %logits = ftc.linear %a, %w1 : (tensor<3x6xf32>, "
                "tensor<4x6xf32>) -> tensor<3x4xf32>\n"
                "  %scaled = ftc.scale %logits {factor = 3.0 : f64} : "
                "tensor<3x4xf32>\n"
                "  %loss = ftc.softmax_cross_entropy %scaled, %labels : "
                "(tensor<3x4xf32>, tensor<3xi32>) -> tensor<f32>\n"),
       4});
  return c;
}

constexpr float kEps = 1e-2f;
constexpr double kAbsTol = 2e-3, kRelTol = 1e-2;

/// True when every element of `g` agrees with `fd`.
bool agrees(const std::vector<double> &g, const std::vector<double> &fd) {
  for (size_t i = 0; i < g.size(); ++i)
    if (!(std::abs(g[i] - fd[i]) <= kAbsTol + kRelTol * std::abs(fd[i])))
      return false;
  return true;
}

class VjpTest : public ::testing::TestWithParam<VjpCase> {};

TEST_P(VjpTest, MatchesFiniteDifferences) {
  const VjpCase &c = GetParam();
  TrainingPipelineOptions options;
  if (!c.frozen.empty()) {
    options.freeze.policy = "patterns";
    options.freeze.frozen.assign(c.frozen.begin(), c.frozen.end());
  }
  std::string error, ir;
  std::optional<plan::Plan> p =
      test::compileToPlan(c.ir, options, Stage::Train, error, &ir);
  ASSERT_TRUE(p) << error << "\nin:\n" << c.ir;
  p->batchSize = 3;
  SCOPED_TRACE(ir);

  std::unique_ptr<rt::Backend> be = rt::createCpuBackend(1);
  be->load(*p);
  test::fillInputs(*p, *be, 1234, c.classes);
  for (size_t i = 0; i < p->params.size(); ++i) {
    const plan::Buffer &b = p->buffers[p->params[i].buffer];
    std::vector<float> v =
        test::awayFromZero(size_t(b.numElements()), 77 + 31 * i);
    if (c.spread) {
      size_t n = v.size();
      for (size_t k = 0; k < n; ++k)
        v[k] = -1.f + (float(k) + 0.5f) * 2.f / float(n);
      for (size_t k = n; k-- > 1;) // a fixed shuffle
        std::swap(v[k], v[(k * 7919 + 13) % (k + 1)]);
    }
    // Running variances must be positive.
    if (p->params[i].runningStat)
      for (float &x : v)
        x = 0.5f + std::abs(x);
    be->write(p->params[i].buffer, v.data());
  }

  const plan::Program *train = p->findProgram("train_step");
  ASSERT_NE(train, nullptr);
  ASSERT_NE(p->findProgram("eval_step"), nullptr);
  float trainLoss = test::runLoss(*p, *be, "train_step");
  ASSERT_TRUE(std::isfinite(trainLoss));

  // Gradients (Temp buffers: read them before the next run).
  std::map<int32_t, std::vector<float>> grads;
  int trainable = 0;
  for (const plan::ParamInfo &info : p->params) {
    const std::string &name = p->buffers[info.buffer].name;
    auto it = train->outputs.find("grad." + name);
    if (!info.trainable) {
      EXPECT_EQ(it, train->outputs.end())
          << "frozen parameter " << name << " has a gradient output";
      continue;
    }
    ++trainable;
    ASSERT_NE(it, train->outputs.end()) << "no gradient for " << name;
    ASSERT_EQ(p->buffers[it->second].shape, p->buffers[info.buffer].shape);
    grads[info.buffer] = test::readFloats(*p, *be, it->second);
  }
  ASSERT_GT(trainable, 0);
  // The forward of eval_step computes the same loss (unless the op set
  // behaves differently in evaluation).
  const char *lossProgram = c.trainModeLoss ? "train_step" : "eval_step";
  if (!c.trainModeLoss)
    EXPECT_FLOAT_EQ(test::runLoss(*p, *be, "eval_step"), trainLoss);

  for (auto &[id, g32] : grads) {
    const std::string &name = p->buffers[id].name;
    std::vector<float> x = test::readFloats(*p, *be, id);
    std::vector<double> g(g32.begin(), g32.end()), fd(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      std::vector<float> probe = x;
      probe[i] = x[i] + kEps;
      float hi = probe[i];
      be->write(id, probe.data());
      double lossHi = test::runLoss(*p, *be, lossProgram);
      probe[i] = x[i] - kEps;
      float lo = probe[i];
      be->write(id, probe.data());
      double lossLo = test::runLoss(*p, *be, lossProgram);
      fd[i] = (lossHi - lossLo) / (double(hi) - double(lo));
    }
    be->write(id, x.data());

    for (size_t i = 0; i < x.size(); ++i)
      EXPECT_LE(std::abs(g[i] - fd[i]), kAbsTol + kRelTol * std::abs(fd[i]))
          << c.name << ": d loss / d " << name << "[" << i << "]: autodiff "
          << g[i] << ", finite difference " << fd[i];

    // The comparison must be able to fail: a gradient that is off by a
    // factor of two, halved, negated or zero does not pass.
    double largest = 0;
    for (double v : fd)
      largest = std::max(largest, std::abs(v));
    EXPECT_GT(largest, 0.05) << name << ": gradient too small to be checked";
    for (double factor : {2.0, 0.5, -1.0, 0.0}) {
      std::vector<double> wrong(g.size());
      for (size_t i = 0; i < g.size(); ++i)
        wrong[i] = factor * g[i];
      EXPECT_FALSE(agrees(wrong, fd))
          << name << ": a gradient scaled by " << factor << " would pass";
    }
  }
}

const std::string kUnreachableIr =
    weightedSum("  %a = ftc.param \"a\" : tensor<3x4xf32>\n"
                "  %u = ftc.param \"unused\" : tensor<5xf32>\n"
                "  %y = ftc.scale %a {factor = 2.0 : f64} : "
                "tensor<3x4xf32>\n",
                "%y", "tensor<3x4xf32>", 2);

// A trainable parameter that cannot reach the loss gets a zero gradient.
TEST(VjpUnreachable, TrainableParamOffThePathGetsZeroGradient) {
  std::string error;
  std::optional<plan::Plan> p = test::compileToPlan(
      kUnreachableIr, TrainingPipelineOptions(), Stage::Train, error);
  ASSERT_TRUE(p) << error;
  ASSERT_GE(p->findBuffer("unused"), 0) << "the plan lost a parameter";
  std::unique_ptr<rt::Backend> be = rt::createCpuBackend(1);
  be->load(*p);
  test::fillInputs(*p, *be, 9, 2);
  std::vector<float> ones(5, 1.f);
  be->write(p->findBuffer("unused"), ones.data());
  be->run("train_step");
  const plan::Program *train = p->findProgram("train_step");
  ASSERT_TRUE(train->outputs.count("grad.unused"));
  ASSERT_TRUE(train->outputs.count("grad.a"));
  std::vector<float> g =
      test::readFloats(*p, *be, train->outputs.at("grad.unused"));
  EXPECT_EQ(g, std::vector<float>(5, 0.f));
  std::vector<float> ga =
      test::readFloats(*p, *be, train->outputs.at("grad.a"));
  std::vector<float> r = test::readFloats(*p, *be, p->findBuffer("r"));
  for (size_t i = 0; i < ga.size(); ++i)
    EXPECT_FLOAT_EQ(ga[i], 2 * r[i]);
}

// ... and the full pipeline compiles it: the parameter keeps its place in
// the plan and gets the same (zero-gradient) update as every other one.
TEST(VjpUnreachable, TrainableParamOffThePathCompilesToPlan) {
  std::string error;
  TrainingPipelineOptions options;
  options.optimizer.optimizer = "sgd";
  options.optimizer.weightDecay = 0.5;
  std::optional<plan::Plan> p =
      test::compileToPlan(kUnreachableIr, options, Stage::Plan, error);
  ASSERT_TRUE(p) << error;
  int32_t unused = p->findBuffer("unused");
  ASSERT_GE(unused, 0) << "the plan lost a parameter";
  EXPECT_EQ(p->buffers[unused].kind, plan::BufferKind::Param);
  int updates = 0;
  for (const plan::Step &s : p->findProgram("train_step")->steps) {
    // A single update's first output is its parameter; a group's first
    // `tensors` outputs are.
    int64_t params = s.kernel == "sgd_update"  ? 1
                     : s.kernel == "sgd_group" ? s.getInt("tensors", 0)
                                               : 0;
    for (int64_t i = 0; i < params; ++i)
      updates += s.args[size_t(s.numInputs + i)] == unused;
  }
  EXPECT_EQ(updates, 1);
  std::unique_ptr<rt::Backend> be = rt::createCpuBackend(1);
  be->load(*p);
  test::fillInputs(*p, *be, 9, 2);
  std::vector<float> ones(5, 1.f);
  be->write(unused, ones.data());
  test::writeScalar(*p, *be, "lr", 0.1f);
  test::writeScalar(*p, *be, "step", 1.f);
  be->run("train_step");
  // Zero gradient plus L2 weight decay: p -= lr * wd * p.
  EXPECT_EQ(test::readFloats(*p, *be, unused),
            std::vector<float>(5, 1.f - 0.1f * (0.f + 0.5f * 1.f)));
}

INSTANTIATE_TEST_SUITE_P(Ops, VjpTest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<VjpCase> &info) {
                           return info.param.name;
                         });

} // namespace
