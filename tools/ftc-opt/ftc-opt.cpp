//===- ftc-opt.cpp - Runs ftc passes on .mlir files (for lit) -------------===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::ftc::registerFtcDialects(registry);
  mlir::ftc::registerFtcPassesAndPipelines();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "ftc optimizer driver\n", registry));
}
