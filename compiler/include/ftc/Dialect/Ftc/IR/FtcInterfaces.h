//===- FtcInterfaces.h - What an ftc op knows about itself ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_DIALECT_FTC_IR_FTCINTERFACES_H
#define FTC_DIALECT_FTC_IR_FTCINTERFACES_H

#include "ftc/Dialect/Ftc/IR/PlanEmitter.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"

namespace mlir::ftc::OpTrait {
/// Ftc_PluginBuildable: a model plugin may build the op by name.
template <typename ConcreteType>
class PluginBuildable
    : public ::mlir::OpTrait::TraitBase<ConcreteType, PluginBuildable> {};
} // namespace mlir::ftc::OpTrait

namespace mlir::ftc {
/// A tensor value's first dimension (its rows; -1 for a scalar).
int64_t leadingDim(Value v);
/// Whether every value of `values` has `result`'s leading dimension (the
/// examples' rows stay where they were).
bool sameLeadingDim(Value result, ArrayRef<Value> values);
/// A matrix product's multiplicands share one element type (f32 or bf16),
/// and only a product with a bf16 form has bf16 ones.
LogicalResult verifyMultiplicands(Operation *op);
} // namespace mlir::ftc

#include "ftc/Dialect/Ftc/IR/FtcInterfaces.h.inc"

#endif // FTC_DIALECT_FTC_IR_FTCINTERFACES_H
