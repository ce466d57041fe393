//===- Passes.td - Conversions out of the ftc dialect ------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_CONVERSION_PASSES
#define FTC_CONVERSION_PASSES

include "mlir/Pass/PassBase.td"

def FtcExportPlan : Pass<"ftc-export-plan", "mlir::ModuleOp"> {
  let summary = "Convert to the runtime plan and print its readable dump";
  let description = [{
    Runs the conversion to the executable plan (explicit kernel calls on
    arena slices, see docs/runtime-contract.md) and prints `plan::dump`.
    Expects memory-planned step functions.
  }];
}

#endif // FTC_CONVERSION_PASSES
