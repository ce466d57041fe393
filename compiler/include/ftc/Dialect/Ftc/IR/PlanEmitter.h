//===- PlanEmitter.h - What an op's plan lowering may call ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The conversion to the runtime plan (FtcToPlan) hands each op this
// emitter; the op's PlanLowerableOpInterface::lowerToPlan says which kernel
// calls of the runtime contract (docs/runtime-contract.md) it becomes. So a
// new op brings its lowering with it instead of a case in the conversion.
//===----------------------------------------------------------------------===//
#ifndef FTC_DIALECT_FTC_IR_PLANEMITTER_H
#define FTC_DIALECT_FTC_IR_PLANEMITTER_H

#include "ftc/plan/Plan.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"

#include <map>
#include <string>

namespace mlir::ftc {

using PlanAttrs = std::map<std::string, ::ftc::plan::Attr>;

::ftc::plan::Attr planInt(int64_t v);
::ftc::plan::Attr planFloat(double v);
::ftc::plan::Attr planFloat(const llvm::APFloat &v);
::ftc::plan::Attr planInts(ArrayRef<int64_t> v);
::ftc::plan::Attr planString(StringRef v);

class PlanEmitter {
public:
  virtual ~PlanEmitter() = default;

  /// The plan being built (its optimizer name, parameter table, feature
  /// inputs and the current program's outputs).
  virtual ::ftc::plan::Plan &plan() = 0;
  virtual ::ftc::plan::Program &program() = 0;

  /// The buffer that holds `v` (converted earlier in the program).
  virtual int32_t lookup(Value v) = 0;
  virtual void bind(Value v, int32_t buffer) = 0;
  /// The arena slice ftc-plan-memory gave result `result` of `op`.
  virtual FailureOr<int32_t> temp(Operation *op, unsigned result) = 0;
  /// The persistent buffer `name` of `kind`, shared by all programs.
  virtual FailureOr<int32_t> persistent(Operation *op,
                                        ::ftc::plan::BufferKind kind,
                                        StringRef name,
                                        RankedTensorType type) = 0;
  /// The trainer's per-step random state {seed, step}: dropout masks are a
  /// function of it, so forward and backward agree without storing masks.
  virtual FailureOr<int32_t> rngInput(Operation *op) = 0;

  virtual void emit(StringRef kernel, ArrayRef<int32_t> inputs,
                    ArrayRef<int32_t> outputs, PlanAttrs attrs = {}) = 0;

  /// `kernel` reading the op's operands (then `extraInputs`) into fresh
  /// arena results: how most ops lower.
  LogicalResult simple(Operation *op, StringRef kernel, PlanAttrs attrs = {},
                       ArrayRef<int32_t> extraInputs = {});
  /// Binds the op's single result to persistent buffer `name` of `kind`.
  LogicalResult bindPersistent(Operation *op, ::ftc::plan::BufferKind kind,
                               StringRef name);
};

} // namespace mlir::ftc

#endif // FTC_DIALECT_FTC_IR_PLANEMITTER_H
