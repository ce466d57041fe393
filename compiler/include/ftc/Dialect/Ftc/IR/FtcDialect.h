//===- FtcDialect.h - The ftc dialect ---------------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_DIALECT_FTC_IR_FTCDIALECT_H
#define FTC_DIALECT_FTC_IR_FTCDIALECT_H

#include "mlir/IR/Dialect.h"

#include "ftc/Dialect/Ftc/IR/FtcOpsDialect.h.inc"

#endif // FTC_DIALECT_FTC_IR_FTCDIALECT_H
