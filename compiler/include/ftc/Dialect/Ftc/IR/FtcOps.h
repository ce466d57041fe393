//===- FtcOps.h - ftc dialect operations ------------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_DIALECT_FTC_IR_FTCOPS_H
#define FTC_DIALECT_FTC_IR_FTCOPS_H

#include "ftc/Dialect/Ftc/IR/FtcDialect.h"
#include "ftc/Dialect/Ftc/IR/FtcInterfaces.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "ftc/Dialect/Ftc/IR/FtcOps.h.inc"

#endif // FTC_DIALECT_FTC_IR_FTCOPS_H
