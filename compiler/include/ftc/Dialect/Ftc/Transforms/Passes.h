//===- Passes.h - ftc training passes ---------------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_DIALECT_FTC_TRANSFORMS_PASSES_H
#define FTC_DIALECT_FTC_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::ftc {

#define GEN_PASS_DECL
#include "ftc/Dialect/Ftc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "ftc/Dialect/Ftc/Transforms/Passes.h.inc"

} // namespace mlir::ftc

#endif // FTC_DIALECT_FTC_TRANSFORMS_PASSES_H
