//===- FtcToPlan.cpp - Memory-planned ftc IR to the runtime plan ----------===//
// SPDX-License-Identifier: Apache-2.0
//
// The last compiler step: every op becomes kernel calls from the runtime
// contract (docs/runtime-contract.md) on buffers, as its own
// PlanLowerableOpInterface says (each op family's Ftc*Ops.cpp); this file only
// keeps the buffers. Parameters, optimizer state and inputs are persistent
// named buffers shared by the programs; every other value is the arena slice
// ftc-plan-memory assigned to it.
//===----------------------------------------------------------------------===//
#include "ftc/Conversion/FtcToPlan.h"
#include "ftc/Dialect/Ftc/IR/FtcOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <cstdlib>

using namespace mlir;
using namespace mlir::ftc;
namespace plan = ::ftc::plan;

namespace {

class PlanBuilder : public PlanEmitter {
public:
  explicit PlanBuilder(plan::Plan &p) : p(p) {}

  LogicalResult addProgram(func::FuncOp fn) {
    programIndex = int32_t(p.programs.size());
    p.programs.emplace_back();
    plan::Program &prog = p.programs.back();
    prog.name = fn.getSymName().str();
    auto arena = fn->getAttrOfType<IntegerAttr>("ftc.arena_bytes");
    if (!arena)
      return fn.emitError("missing ftc.arena_bytes: run ftc-plan-memory "
                          "before converting to a plan");
    prog.arenaBytes = arena.getInt();
    values.clear();
    for (Operation &op : fn.getBody().front())
      if (failed(convert(&op)))
        return failure();
    return success();
  }

  plan::Plan &plan() override { return p; }
  plan::Program &program() override { return p.programs[programIndex]; }
  int32_t lookup(Value v) override { return values.lookup(v); }
  void bind(Value v, int32_t buffer) override { values[v] = buffer; }

private:
  FailureOr<plan::DType> dtypeOf(Operation *op, Type t) {
    auto type = dyn_cast<RankedTensorType>(t);
    if (type && type.getElementType().isF32())
      return plan::DType::F32;
    if (type && type.getElementType().isInteger(32))
      return plan::DType::I32;
    if (type && type.getElementType().isBF16())
      return plan::DType::BF16;
    return op->emitOpError("has a type the runtime does not support: ") << t;
  }

  static std::string persistentKey(plan::BufferKind kind, StringRef name) {
    return std::to_string(int(kind)) + ":" + name.str();
  }

  int32_t addBuffer(plan::Buffer buffer) {
    p.buffers.push_back(std::move(buffer));
    return int32_t(p.buffers.size() - 1);
  }

  /// A persistent buffer shared across programs, found by kind and name.
public:
  FailureOr<int32_t> persistent(Operation *op, plan::BufferKind kind,
                                StringRef name,
                                RankedTensorType type) override {
    std::string key = persistentKey(kind, name);
    auto it = persistentIds.find(key);
    if (it != persistentIds.end()) {
      if (ArrayRef<int64_t>(p.buffers[it->second].shape) != type.getShape())
        return op->emitOpError("'")
               << name << "' has a different shape than elsewhere";
      return it->second;
    }
    FailureOr<plan::DType> dtype = dtypeOf(op, type);
    if (failed(dtype))
      return failure();
    plan::Buffer b;
    b.name = name.str();
    b.kind = kind;
    b.dtype = *dtype;
    b.shape.assign(type.getShape().begin(), type.getShape().end());
    int32_t id = addBuffer(std::move(b));
    persistentIds[key] = id;
    return id;
  }

  FailureOr<int32_t> temp(Operation *op, unsigned result) override {
    int64_t offset;
    if (auto single = op->getAttrOfType<IntegerAttr>("ftc.offset");
        single && op->getNumResults() == 1) {
      offset = single.getInt();
    } else if (auto many = op->getAttrOfType<DenseI64ArrayAttr>("ftc.offsets");
               many && many.size() == int64_t(op->getNumResults())) {
      offset = many[result];
    } else {
      return op->emitOpError("has no ftc.offset: run ftc-plan-memory first");
    }
    auto type = cast<RankedTensorType>(op->getResult(result).getType());
    FailureOr<plan::DType> dtype = dtypeOf(op, type);
    if (failed(dtype))
      return failure();
    plan::Buffer b;
    b.name = p.programs[programIndex].name + "." +
             op->getName().stripDialect().str() + "." +
             std::to_string(p.buffers.size());
    b.kind = plan::BufferKind::Temp;
    b.dtype = *dtype;
    b.shape.assign(type.getShape().begin(), type.getShape().end());
    b.program = programIndex;
    b.offset = offset;
    return addBuffer(std::move(b));
  }

  void emit(StringRef kernel, ArrayRef<int32_t> inputs,
            ArrayRef<int32_t> outputs, PlanAttrs attrs = {}) override {
    plan::Step s;
    s.kernel = kernel.str();
    s.args.assign(inputs.begin(), inputs.end());
    s.args.insert(s.args.end(), outputs.begin(), outputs.end());
    s.numInputs = int32_t(inputs.size());
    s.attrs = std::move(attrs);
    p.programs[programIndex].steps.push_back(std::move(s));
  }

  FailureOr<int32_t> rngInput(Operation *op) override {
    auto type =
        RankedTensorType::get({2}, IntegerType::get(op->getContext(), 32));
    return persistent(op, plan::BufferKind::Input, "rng", type);
  }

private:
  LogicalResult convert(Operation *op) {
    if (auto lowerable = dyn_cast<PlanLowerableOpInterface>(op))
      return lowerable.lowerToPlan(*this);
    if (isa<func::ReturnOp>(op))
      return success();
    return op->emitOpError(
        "is outside the runtime contract and cannot be converted");
  }

  plan::Plan &p;
  int32_t programIndex = -1;
  llvm::DenseMap<Value, int32_t> values;
  std::map<std::string, int32_t> persistentIds;
};

} // namespace

FailureOr<plan::Plan> mlir::ftc::convertToPlan(ModuleOp module) {
  plan::Plan p;
  if (auto accum = module->getAttrOfType<IntegerAttr>("ftc.grad_accum"))
    p.gradAccum = accum.getInt();
  PlanBuilder builder(p);
  bool any = false;
  namespace names = plan::programs;
  for (StringRef name : {names::kTrain, names::kOptimizer, names::kEval,
                         names::kPredict, names::kPrefix, names::kTrainCached,
                         names::kEvalPrefix, names::kEvalCached}) {
    auto fn = module.lookupSymbol<func::FuncOp>(name);
    if (!fn)
      continue;
    any = true;
    if (failed(builder.addProgram(fn)))
      return failure();
  }
  if (!any)
    return module.emitError("no @train_step or @eval_step to convert");
  // Activations between convolutions stay in oneDNN's blocked layout
  // (FTC_PLAIN_LAYOUTS=1 keeps every buffer plain: for measuring it).
  if (!std::getenv("FTC_PLAIN_LAYOUTS"))
    plan::assignLayouts(p);
  std::string problem = plan::verify(p);
  if (!problem.empty())
    return module.emitError("internal error: the converted plan is invalid: ")
           << problem;
  return p;
}
