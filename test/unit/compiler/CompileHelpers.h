//===- CompileHelpers.h - @forward IR to a plan, for tests ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Shared by the compiler unit tests: parse a @forward module, run the real
// training pipeline up to a stage, convert it to a plan and bind it on the
// CPU backend. Below the Plan stage the memory planner is added on its own,
// since the conversion needs every step function memory-planned.
//===----------------------------------------------------------------------===//
#ifndef FTC_TEST_UNIT_COMPILER_COMPILEHELPERS_H
#define FTC_TEST_UNIT_COMPILER_COMPILEHELPERS_H

#include "ftc/Conversion/FtcToPlan.h"
#include "ftc/Pipelines/Pipelines.h"
#include "ftc/plan/Plan.h"
#include "ftc/runtime/Backend.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace ftc::test {

/// Compiles `ir` (a module with @forward) through the pipeline up to `last`
/// and converts the result to a plan. On failure returns nullopt and puts
/// the diagnostics in `error`.
inline std::optional<plan::Plan> compileToPlan(
    const std::string &ir, const mlir::ftc::TrainingPipelineOptions &options,
    mlir::ftc::Stage last, std::string &error, std::string *finalIr = nullptr) {
  mlir::DialectRegistry registry;
  mlir::ftc::registerFtcDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  context.disableMultithreading();
  llvm::raw_string_ostream errs(error);
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    errs << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(ir, &context);
  if (!module) {
    errs << "(parse failed)\n";
    return std::nullopt;
  }
  mlir::PassManager pm(&context);
  mlir::ftc::buildTrainingPipeline(pm, options, mlir::ftc::Stage::Ftc, last);
  if (last < mlir::ftc::Stage::Plan)
    pm.addPass(mlir::ftc::createFtcPlanMemory(options.memory));
  if (mlir::failed(pm.run(*module))) {
    errs << "(pipeline failed)\n";
    return std::nullopt;
  }
  if (finalIr) {
    llvm::raw_string_ostream os(*finalIr);
    module->print(os);
  }
  mlir::FailureOr<plan::Plan> p = mlir::ftc::convertToPlan(*module);
  if (mlir::failed(p)) {
    errs << "(conversion failed)\n";
    return std::nullopt;
  }
  return std::move(*p);
}

/// Uniform values in [lo, hi), deterministic per seed.
inline std::vector<float> randomFloats(size_t n, uint64_t seed, float lo = -1,
                                       float hi = 1) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(gen);
  return v;
}

/// Values with |x| in [0.25, 1): away from relu's kink at 0.
inline std::vector<float> awayFromZero(size_t n, uint64_t seed) {
  std::vector<float> v = randomFloats(n, seed, -1, 1);
  for (float &x : v)
    x = (x < 0 ? -1.f : 1.f) * (0.25f + 0.75f * std::abs(x));
  return v;
}

/// A seed from a buffer name, so that two plans of one model get the same
/// values whatever their buffer numbering.
inline uint64_t nameSeed(const std::string &name) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : name)
    h = (h ^ c) * 0x100000001b3ull;
  return h;
}

/// Fills every Input buffer of `p` but "lr" and "step": f32 features from
/// [-1, 1), i32 features as labels in [0, classes). The values depend on
/// the seed and the buffer's name only.
inline void fillInputs(const plan::Plan &p, rt::Backend &backend, uint64_t seed,
                       int32_t classes) {
  for (size_t i = 0; i < p.buffers.size(); ++i) {
    const plan::Buffer &b = p.buffers[i];
    if (b.kind != plan::BufferKind::Input || b.name == "lr" || b.name == "step")
      continue;
    size_t n = size_t(b.numElements());
    if (b.dtype == plan::DType::I32) {
      std::mt19937_64 gen(seed ^ nameSeed(b.name));
      std::vector<int32_t> labels(n);
      for (int32_t &l : labels)
        l = int32_t(gen() % uint64_t(classes));
      backend.write(int32_t(i), labels.data());
    } else {
      std::vector<float> v = randomFloats(n, seed ^ nameSeed(b.name));
      backend.write(int32_t(i), v.data());
    }
  }
}

inline std::vector<float> readFloats(const plan::Plan &p, rt::Backend &backend,
                                     int32_t id) {
  std::vector<float> v(size_t(p.buffers[id].numElements()));
  backend.read(id, v.data());
  return v;
}

inline void writeScalar(const plan::Plan &p, rt::Backend &backend,
                        const std::string &name, float value) {
  int32_t id = p.findBuffer(name);
  ASSERT_GE(id, 0) << "no buffer " << name;
  backend.write(id, &value);
}

inline float runLoss(const plan::Plan &p, rt::Backend &backend,
                     const std::string &program) {
  backend.run(program);
  const plan::Program *prog = p.findProgram(program);
  float loss = 0;
  backend.read(prog->outputs.at("loss"), &loss);
  return loss;
}

/// The MLP of the freeze, optimizer and memory tests: 8 samples of 6
/// features, a hidden layer of 16, 4 classes.
inline const char *kMlpIr = R"mlir(
func.func @forward() {
  %x = ftc.input "image" : tensor<8x6xf32>
  %labels = ftc.input "label" : tensor<8xi32>
  %w0 = ftc.param "layers.0.weight" {init = "uniform", init_a = -0.4 : f64, init_b = 0.4 : f64} : tensor<16x6xf32>
  %b0 = ftc.param "layers.0.bias" {init = "uniform", init_a = -0.1 : f64, init_b = 0.1 : f64} : tensor<16xf32>
  %h = ftc.linear %x, %w0, %b0 : (tensor<8x6xf32>, tensor<16x6xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %a = ftc.relu %h : tensor<8x16xf32>
  %w1 = ftc.param "layers.1.weight" {head, init = "uniform", init_a = -0.25 : f64, init_b = 0.25 : f64} : tensor<4x16xf32>
  %b1 = ftc.param "layers.1.bias" {head, init = "uniform", init_a = -0.1 : f64, init_b = 0.1 : f64} : tensor<4xf32>
  %logits = ftc.linear %a, %w1, %b1 : (tensor<8x16xf32>, tensor<4x16xf32>, tensor<4xf32>) -> tensor<8x4xf32>
  %loss = ftc.softmax_cross_entropy %logits, %labels : (tensor<8x4xf32>, tensor<8xi32>) -> tensor<f32>
  ftc.output "loss" %loss : tensor<f32>
  ftc.output "logits" %logits : tensor<8x4xf32>
  return
}
)mlir";
constexpr int64_t kMlpBatch = 8;
constexpr int32_t kMlpClasses = 4;

} // namespace ftc::test

#endif // FTC_TEST_UNIT_COMPILER_COMPILEHELPERS_H
