//===- FtcDialect.cpp - ftc dialect registration ------------------*- C++
//-*-===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/Dialect/Ftc/IR/FtcDialect.h"
#include "ftc/Dialect/Ftc/IR/FtcOps.h"

using namespace mlir;
using namespace mlir::ftc;

#include "ftc/Dialect/Ftc/IR/FtcOpsDialect.cpp.inc"

void FtcDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ftc/Dialect/Ftc/IR/FtcOps.cpp.inc"
      >();
}
