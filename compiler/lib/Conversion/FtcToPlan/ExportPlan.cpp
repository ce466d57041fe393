//===- ExportPlan.cpp - Print the runtime plan of a planned module -------===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/Conversion/FtcToPlan.h"
#include "ftc/Conversion/Passes.h"

#include "llvm/Support/raw_ostream.h"

namespace mlir::ftc {
#define GEN_PASS_DEF_FTCEXPORTPLAN
#include "ftc/Conversion/Passes.h.inc"
} // namespace mlir::ftc

using namespace mlir;

namespace {
struct ExportPlan : mlir::ftc::impl::FtcExportPlanBase<ExportPlan> {
  void runOnOperation() override {
    FailureOr<::ftc::plan::Plan> p = mlir::ftc::convertToPlan(getOperation());
    if (failed(p))
      return signalPassFailure();
    llvm::outs() << ::ftc::plan::dump(*p);
    markAllAnalysesPreserved();
  }
};
} // namespace
