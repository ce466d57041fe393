//===- Passes.h - Conversions out of the ftc dialect ------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_CONVERSION_PASSES_H
#define FTC_CONVERSION_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::ftc {

#define GEN_PASS_DECL
#include "ftc/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "ftc/Conversion/Passes.h.inc"

} // namespace mlir::ftc

#endif // FTC_CONVERSION_PASSES_H
