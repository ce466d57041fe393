//===- FtcInterfaces.h - What an ftc op knows about itself ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_DIALECT_FTC_IR_FTCINTERFACES_H
#define FTC_DIALECT_FTC_IR_FTCINTERFACES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"

#include "ftc/Dialect/Ftc/IR/FtcInterfaces.h.inc"

#endif // FTC_DIALECT_FTC_IR_FTCINTERFACES_H
