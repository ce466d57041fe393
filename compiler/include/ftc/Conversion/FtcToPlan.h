//===- FtcToPlan.h - Memory-planned ftc IR to the runtime plan --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_CONVERSION_FTCTOPLAN_H
#define FTC_CONVERSION_FTCTOPLAN_H

#include "ftc/plan/Plan.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

namespace mlir::ftc {

/// Converts @train_step and @eval_step (after ftc-plan-memory) into explicit
/// kernel calls on named buffers and arena slices. Emits a diagnostic and
/// fails on any op outside the runtime contract.
FailureOr<::ftc::plan::Plan> convertToPlan(ModuleOp module);

} // namespace mlir::ftc

#endif // FTC_CONVERSION_FTCTOPLAN_H
