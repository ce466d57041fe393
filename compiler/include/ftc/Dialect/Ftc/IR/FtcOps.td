//===- FtcOps.td - ftc dialect operations ------------------*- tablegen -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The ops, one file per kind. Each declares its own knowledge through the
// interfaces of FtcInterfaces.td.
//===----------------------------------------------------------------------===//
#ifndef FTC_OPS
#define FTC_OPS

include "ftc/Dialect/Ftc/IR/FtcForwardOps.td"
include "ftc/Dialect/Ftc/IR/FtcGradientOps.td"
include "ftc/Dialect/Ftc/IR/FtcFusedOps.td"
include "ftc/Dialect/Ftc/IR/FtcOptimizerOps.td"
include "ftc/Dialect/Ftc/IR/FtcPrecisionOps.td"

#endif // FTC_OPS
