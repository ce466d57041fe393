//===- FtcToPlan.cpp - Memory-planned ftc IR to the runtime plan ----------===//
// SPDX-License-Identifier: Apache-2.0
//
// The last compiler step: every op becomes a kernel call from the runtime
// contract (docs/runtime-contract.md) on buffers. Parameters, optimizer state
// and inputs are persistent named buffers shared by the programs; every other
// value is the arena slice ftc-plan-memory assigned to it.
//===----------------------------------------------------------------------===//
#include "ftc/Conversion/FtcToPlan.h"
#include "ftc/Dialect/Ftc/IR/FtcOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::ftc;
namespace plan = ::ftc::plan;

namespace {

plan::Attr intAttr(int64_t v) {
  plan::Attr a;
  a.kind = plan::Attr::Int;
  a.i = v;
  return a;
}
plan::Attr floatAttr(double v) {
  plan::Attr a;
  a.kind = plan::Attr::Float;
  a.f = v;
  return a;
}
plan::Attr intsAttr(ArrayRef<int64_t> v) {
  plan::Attr a;
  a.kind = plan::Attr::Ints;
  a.ints.assign(v.begin(), v.end());
  return a;
}
plan::Attr stringAttr(StringRef v) {
  plan::Attr a;
  a.kind = plan::Attr::String;
  a.s = v.str();
  return a;
}

/// The hyperparameters of an SGD update, single or grouped.
template <typename Op> std::map<std::string, plan::Attr> sgdAttrs(Op o) {
  return {{"momentum", floatAttr(o.getMomentum().convertToDouble())},
          {"dampening", floatAttr(o.getDampening().convertToDouble())},
          {"weight_decay", floatAttr(o.getWeightDecay().convertToDouble())},
          {"nesterov", intAttr(o.getNesterov() ? 1 : 0)},
          {"lr_scale", floatAttr(o.getLrScale().convertToDouble())}};
}

/// The hyperparameters of an AdamW update, single or grouped.
template <typename Op> std::map<std::string, plan::Attr> adamwAttrs(Op o) {
  return {{"beta1", floatAttr(o.getBeta1().convertToDouble())},
          {"beta2", floatAttr(o.getBeta2().convertToDouble())},
          {"eps", floatAttr(o.getEps().convertToDouble())},
          {"weight_decay", floatAttr(o.getWeightDecay().convertToDouble())},
          {"lr_scale", floatAttr(o.getLrScale().convertToDouble())}};
}

class PlanBuilder {
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

private:
  FailureOr<plan::DType> dtypeOf(Operation *op, Type t) {
    auto type = dyn_cast<RankedTensorType>(t);
    if (type && type.getElementType().isF32())
      return plan::DType::F32;
    if (type && type.getElementType().isInteger(32))
      return plan::DType::I32;
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
  FailureOr<int32_t> persistent(Operation *op, plan::BufferKind kind,
                                StringRef name, RankedTensorType type) {
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

  FailureOr<int32_t> temp(Operation *op, unsigned result) {
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
            ArrayRef<int32_t> outputs,
            std::map<std::string, plan::Attr> attrs = {}) {
    plan::Step s;
    s.kernel = kernel.str();
    s.args.assign(inputs.begin(), inputs.end());
    s.args.insert(s.args.end(), outputs.begin(), outputs.end());
    s.numInputs = int32_t(inputs.size());
    s.attrs = std::move(attrs);
    p.programs[programIndex].steps.push_back(std::move(s));
  }

  /// Emits `kernel` reading the op's operands into a fresh temp result.
  LogicalResult simple(Operation *op, StringRef kernel,
                       std::map<std::string, plan::Attr> attrs = {},
                       ArrayRef<int32_t> extraInputs = {}) {
    SmallVector<int32_t> inputs;
    for (Value v : op->getOperands())
      inputs.push_back(values.lookup(v));
    for (int32_t id : extraInputs)
      inputs.push_back(id);
    SmallVector<int32_t> outputs;
    for (unsigned i = 0; i < op->getNumResults(); ++i) {
      FailureOr<int32_t> out = temp(op, i);
      if (failed(out))
        return failure();
      values[op->getResult(i)] = *out;
      outputs.push_back(*out);
    }
    emit(kernel, inputs, outputs, std::move(attrs));
    return success();
  }

  LogicalResult bindPersistent(Operation *op, plan::BufferKind kind,
                               StringRef name) {
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    FailureOr<int32_t> id = persistent(op, kind, name, type);
    if (failed(id))
      return failure();
    values[op->getResult(0)] = *id;
    return success();
  }

  LogicalResult convertParam(ParamOp op) {
    bool isNew = !persistentIds.count(
        persistentKey(plan::BufferKind::Param, op.getName()));
    if (failed(bindPersistent(op, plan::BufferKind::Param, op.getName())))
      return failure();
    if (!isNew)
      return success();
    plan::ParamInfo info;
    info.buffer = values.lookup(op.getResult());
    info.trainable = !op.getTrainable().has_value() || *op.getTrainable();
    info.head = op.getHead();
    StringRef init = op.getInit();
    info.init = init == "ones"      ? plan::InitKind::Ones
                : init == "normal"  ? plan::InitKind::Normal
                : init == "uniform" ? plan::InitKind::Uniform
                                    : plan::InitKind::Zeros;
    info.initA = op.getInitA().convertToDouble();
    info.initB = op.getInitB().convertToDouble();
    p.params.push_back(info);
    return success();
  }

  FailureOr<int32_t> optState(Operation *op, Value param, StringRef suffix) {
    auto paramOp = param.getDefiningOp<ParamOp>();
    return persistent(op, plan::BufferKind::OptState,
                      (paramOp.getName() + "." + suffix).str(),
                      cast<RankedTensorType>(param.getType()));
  }

  static std::map<std::string, plan::Attr>
  ignoreIndex(std::optional<int64_t> index) {
    if (!index)
      return {};
    return {{"ignore_index", intAttr(*index)}};
  }

  /// The trainer's per-step random state {seed, step}: dropout masks are a
  /// function of it, so forward and backward agree without storing masks.
  FailureOr<int32_t> rngInput(Operation *op) {
    auto type =
        RankedTensorType::get({2}, IntegerType::get(op->getContext(), 32));
    return persistent(op, plan::BufferKind::Input, "rng", type);
  }

  /// With `own_step`, the update's own step counter `<param>.step` (a
  /// rank-0 optimizer state) as its last output.
  template <typename UpdateOp>
  LogicalResult ownStep(UpdateOp o, SmallVectorImpl<int32_t> &outputs) {
    if (!o.getOwnStep())
      return success();
    auto paramOp = o.getParam().template getDefiningOp<ParamOp>();
    FailureOr<int32_t> id = persistent(
        o, plan::BufferKind::OptState, (paramOp.getName() + ".step").str(),
        RankedTensorType::get({}, Float32Type::get(o->getContext())));
    if (failed(id))
      return failure();
    outputs.push_back(*id);
    return success();
  }

  /// {"own_step": 1} for an update with its own step count, else nothing.
  template <typename UpdateOp>
  static std::map<std::string, plan::Attr> ownStepAttr(UpdateOp o) {
    if (!o.getOwnStep())
      return {};
    return {{"own_step", intAttr(1)}};
  }

  /// grad, lr, step and, with clipping, the clip factor.
  template <typename UpdateOp> SmallVector<int32_t> updateInputs(UpdateOp o) {
    SmallVector<int32_t> inputs{values.lookup(o.getGrad()),
                                values.lookup(o.getLr()),
                                values.lookup(o.getStep())};
    if (Value clip = o.getGradScale())
      inputs.push_back(values.lookup(clip));
    return inputs;
  }

  /// A group update: inputs grads..., lr, step, clip; outputs params...
  /// then each state (`states`, in order) for every parameter.
  template <typename GroupOp>
  LogicalResult group(GroupOp o, ArrayRef<StringRef> states, StringRef kernel,
                      std::map<std::string, plan::Attr> attrs) {
    SmallVector<int32_t> inputs, outputs;
    for (Value g : o.getGrads())
      inputs.push_back(values.lookup(g));
    inputs.push_back(values.lookup(o.getLr()));
    inputs.push_back(values.lookup(o.getStep()));
    inputs.push_back(values.lookup(o.getGradScale()));
    for (Value param : o.getParams())
      outputs.push_back(values.lookup(param));
    for (StringRef state : states)
      for (Value param : o.getParams()) {
        FailureOr<int32_t> id = optState(o, param, state);
        if (failed(id))
          return failure();
        outputs.push_back(*id);
      }
    attrs["tensors"] = intAttr(int64_t(o.getParams().size()));
    emit(kernel, inputs, outputs, std::move(attrs));
    return success();
  }

  LogicalResult convert(Operation *op) {
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .Case([&](ParamOp o) { return convertParam(o); })
        .Case([&](InputOp o) {
          if (failed(bindPersistent(o, plan::BufferKind::Input, o.getName())))
            return failure();
          if (!plan::isTrainerScalar(o.getName().str()) &&
              !plan::isCachedValueInput(o.getName().str()))
            p.featureInputs[o.getName().str()] = values.lookup(o.getResult());
          return success();
        })
        .Case([&](OutputOp o) {
          p.programs[programIndex].outputs[o.getRole().str()] =
              values.lookup(o.getValue());
          return success();
        })
        .Case([&](LinearOp o) { return simple(o, "linear"); })
        .Case([&](LinearGeluOp o) {
          return simple(o, "linear", {{"activation", stringAttr("gelu")}});
        })
        .Case([&](LinearGradDataOp o) { return simple(o, "linear_bwd_data"); })
        .Case([&](LinearGradWeightOp o) {
          return simple(o, "linear_bwd_weights");
        })
        .Case([&](LinearGradWeightBiasOp o) {
          return simple(o, "linear_bwd_weights");
        })
        .Case([&](ReluOp o) { return simple(o, "relu"); })
        .Case([&](GeluOp o) { return simple(o, "gelu"); })
        .Case([&](ReluGradOp o) { return simple(o, "relu_bwd"); })
        .Case([&](GeluGradOp o) { return simple(o, "gelu_bwd"); })
        .Case([&](AddOp o) { return simple(o, "add"); })
        .Case([&](SubOp o) { return simple(o, "sub"); })
        .Case([&](MulOp o) { return simple(o, "mul"); })
        .Case([&](ScaleOp o) {
          return simple(
              o, "scale",
              {{"factor", floatAttr(o.getFactor().convertToDouble())}});
        })
        .Case([&](FillOp o) {
          return simple(o, "fill",
                        {{"value", floatAttr(o.getValue().convertToDouble())}});
        })
        .Case([&](ReduceSumOp o) {
          return simple(o, "reduce_sum", {{"axes", intsAttr(o.getAxes())}});
        })
        .Case([&](ReduceMeanOp o) {
          if (failed(
                  simple(o, "reduce_sum", {{"axes", intsAttr(o.getAxes())}})))
            return failure();
          double count = 1;
          for (int64_t axis : o.getAxes())
            count *= double(o.getInput().getType().getDimSize(axis));
          int32_t id = values.lookup(o.getResult());
          emit("scale", {id}, {id}, {{"factor", floatAttr(1.0 / count)}});
          return success();
        })
        .Case([&](BroadcastOp o) {
          return simple(o, "broadcast", {{"axes", intsAttr(o.getAxes())}});
        })
        .Case([&](ReshapeOp o) {
          // ftc-plan-memory gave an aliasing reshape its input's slice: a
          // second view of the same bytes, with no kernel.
          if (!o->hasAttr("ftc.alias"))
            return simple(o, "copy");
          FailureOr<int32_t> view = temp(o, 0);
          if (failed(view))
            return failure();
          values[o.getResult()] = *view;
          return success();
        })
        .Case([&](SoftmaxCrossEntropyOp o) {
          return simple(o, "softmax_cross_entropy",
                        ignoreIndex(o.getIgnoreIndex()));
        })
        .Case([&](SoftmaxCrossEntropyGradOp o) {
          return simple(o, "softmax_cross_entropy_bwd",
                        ignoreIndex(o.getIgnoreIndex()));
        })
        .Case([&](EmbeddingOp o) { return simple(o, "embedding"); })
        .Case([&](EmbeddingGradOp o) { return simple(o, "embedding_bwd"); })
        .Case([&](IotaOp o) {
          return simple(o, "iota", {{"axis", intAttr(o.getAxis())}});
        })
        .Case([&](LayerNormOp o) {
          return simple(o, "layer_norm",
                        {{"eps", floatAttr(o.getEps().convertToDouble())}});
        })
        .Case([&](AddLayerNormOp o) {
          return simple(o, "add_layer_norm",
                        {{"eps", floatAttr(o.getEps().convertToDouble())}});
        })
        .Case([&](LayerNormGradOp o) {
          return simple(o, "layer_norm_bwd",
                        {{"eps", floatAttr(o.getEps().convertToDouble())}});
        })
        .Case([&](TransposeOp o) {
          return simple(o, "transpose", {{"perm", intsAttr(o.getPerm())}});
        })
        .Case([&](BatchMatmulOp o) {
          return simple(
              o, "batch_matmul",
              {{"transpose_a", intAttr(o.getTransposeLhs() ? 1 : 0)},
               {"transpose_b", intAttr(o.getTransposeRhs() ? 1 : 0)}});
        })
        .Case([&](StridedBatchMatmulOp o) {
          return simple(o, "batch_matmul",
                        {{"a_perm", intsAttr(o.getLhsPerm())},
                         {"b_perm", intsAttr(o.getRhsPerm())},
                         {"c_perm", intsAttr(o.getResultPerm())}});
        })
        .Case([&](MaskedSoftmaxOp o) {
          return simple(o, "masked_softmax",
                        {{"scale", floatAttr(o.getScale().convertToDouble())}});
        })
        .Case([&](SoftmaxGradOp o) {
          return simple(o, "softmax_bwd",
                        {{"scale", floatAttr(o.getScale().convertToDouble())}});
        })
        .Case([&](TanhOp o) { return simple(o, "tanh"); })
        .Case([&](TanhGradOp o) { return simple(o, "tanh_bwd"); })
        .Case([&](DropoutOp o) {
          FailureOr<int32_t> rng = rngInput(o);
          if (failed(rng))
            return failure();
          return simple(o, "dropout",
                        {{"p", floatAttr(o.getP().convertToDouble())},
                         {"stream", intAttr(o.getStream())}},
                        {*rng});
        })
        .Case([&](DropoutGradOp o) {
          FailureOr<int32_t> rng = rngInput(o);
          if (failed(rng))
            return failure();
          return simple(o, "dropout_bwd",
                        {{"p", floatAttr(o.getP().convertToDouble())},
                         {"stream", intAttr(o.getStream())}},
                        {*rng});
        })
        .Case([&](SelectOp o) {
          return simple(o, "select",
                        {{"axis", intAttr(o.getAxis())},
                         {"index", intAttr(o.getIndex())}});
        })
        .Case([&](SelectGradOp o) {
          return simple(o, "select_bwd",
                        {{"axis", intAttr(o.getAxis())},
                         {"index", intAttr(o.getIndex())}});
        })
        .Case([&](SgdUpdateOp o) {
          p.optimizer = "sgd";
          SmallVector<int32_t> outputs{values.lookup(o.getParam())};
          double momentum = o.getMomentum().convertToDouble();
          if (momentum != 0) {
            FailureOr<int32_t> buf =
                optState(o, o.getParam(), "momentum_buffer");
            if (failed(buf))
              return failure();
            outputs.push_back(*buf);
          }
          if (failed(ownStep(o, outputs)))
            return failure();
          std::map<std::string, plan::Attr> attrs = sgdAttrs(o);
          std::map<std::string, plan::Attr> extra = ownStepAttr(o);
          attrs.insert(extra.begin(), extra.end());
          emit("sgd_update", updateInputs(o), outputs, std::move(attrs));
          return success();
        })
        .Case([&](SgdGroupUpdateOp o) {
          p.optimizer = "sgd";
          SmallVector<StringRef, 1> states;
          if (o.getMomentum().convertToDouble() != 0)
            states.push_back("momentum_buffer");
          return group(o, states, "sgd_group", sgdAttrs(o));
        })
        .Case([&](AdamWUpdateOp o) {
          p.optimizer = "adamw";
          FailureOr<int32_t> m = optState(o, o.getParam(), "exp_avg");
          FailureOr<int32_t> v = optState(o, o.getParam(), "exp_avg_sq");
          if (failed(m) || failed(v))
            return failure();
          SmallVector<int32_t> outputs{values.lookup(o.getParam()), *m, *v};
          if (failed(ownStep(o, outputs)))
            return failure();
          std::map<std::string, plan::Attr> attrs = adamwAttrs(o);
          std::map<std::string, plan::Attr> extra = ownStepAttr(o);
          attrs.insert(extra.begin(), extra.end());
          emit("adamw_update", updateInputs(o), outputs, std::move(attrs));
          return success();
        })
        .Case([&](AdamWGroupUpdateOp o) {
          p.optimizer = "adamw";
          return group(o, {"exp_avg", "exp_avg_sq"}, "adamw_group",
                       adamwAttrs(o));
        })
        .Case([&](GradAccumulatorOp o) {
          return bindPersistent(o, plan::BufferKind::GradAccum,
                                (o.getName() + ".grad_accum").str());
        })
        .Case([&](AccumulateGradOp o) {
          emit("accumulate_grad",
               {values.lookup(o.getGrad()), values.lookup(o.getKeep())},
               {values.lookup(o.getAccumulator())});
          return success();
        })
        .Case([&](GradNormScaleOp o) {
          return simple(
              o, "grad_norm_scale",
              {{"max_norm", floatAttr(o.getMaxNorm().convertToDouble())}});
        })
        .Case([&](func::ReturnOp) { return success(); })
        .Default([&](Operation *other) {
          return other->emitOpError(
              "is outside the runtime contract and cannot be converted");
        });
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
  std::string problem = plan::verify(p);
  if (!problem.empty())
    return module.emitError("internal error: the converted plan is invalid: ")
           << problem;
  return p;
}
