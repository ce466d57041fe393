//===- FtcPlanLowering.cpp - Each op's kernel calls in the runtime plan ---===//
// SPDX-License-Identifier: Apache-2.0
//
// PlanLowerableOpInterface::lowerToPlan for every op: the kernels and
// attributes of the runtime contract (docs/runtime-contract.md) that the op
// becomes. The plan verifier (runtime/src/plan/Plan.cpp) checks every call
// against the kernel's signature.
//===----------------------------------------------------------------------===//
#include "ftc/Dialect/Ftc/IR/FtcOps.h"

using namespace mlir;
using namespace mlir::ftc;
namespace plan = ::ftc::plan;

//===----------------------------------------------------------------------===//
// The emitter's shared helpers
//===----------------------------------------------------------------------===//

plan::Attr mlir::ftc::planInt(int64_t v) {
  plan::Attr a;
  a.kind = plan::Attr::Int;
  a.i = v;
  return a;
}

plan::Attr mlir::ftc::planFloat(double v) {
  plan::Attr a;
  a.kind = plan::Attr::Float;
  a.f = v;
  return a;
}

plan::Attr mlir::ftc::planFloat(const llvm::APFloat &v) {
  return planFloat(v.convertToDouble());
}

plan::Attr mlir::ftc::planInts(ArrayRef<int64_t> v) {
  plan::Attr a;
  a.kind = plan::Attr::Ints;
  a.ints.assign(v.begin(), v.end());
  return a;
}

plan::Attr mlir::ftc::planString(StringRef v) {
  plan::Attr a;
  a.kind = plan::Attr::String;
  a.s = v.str();
  return a;
}

LogicalResult PlanEmitter::simple(Operation *op, StringRef kernel,
                                  PlanAttrs attrs,
                                  ArrayRef<int32_t> extraInputs) {
  SmallVector<int32_t> inputs;
  for (Value v : op->getOperands())
    inputs.push_back(lookup(v));
  inputs.append(extraInputs.begin(), extraInputs.end());
  SmallVector<int32_t> outputs;
  for (unsigned i = 0; i < op->getNumResults(); ++i) {
    FailureOr<int32_t> out = temp(op, i);
    if (failed(out))
      return failure();
    bind(op->getResult(i), *out);
    outputs.push_back(*out);
  }
  emit(kernel, inputs, outputs, std::move(attrs));
  return success();
}

LogicalResult PlanEmitter::bindPersistent(Operation *op, plan::BufferKind kind,
                                          StringRef name) {
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  FailureOr<int32_t> id = persistent(op, kind, name, type);
  if (failed(id))
    return failure();
  bind(op->getResult(0), *id);
  return success();
}

namespace {

/// The eps attribute of the normalisation kernels.
PlanAttrs epsAttr(const llvm::APFloat &eps) {
  return {{"eps", planFloat(eps)}};
}

PlanAttrs ignoreIndex(std::optional<int64_t> index) {
  if (!index)
    return {};
  return {{"ignore_index", planInt(*index)}};
}

/// A dropout kernel: the op's operands and the trainer's random state.
template <typename DropoutLike>
LogicalResult dropoutKernel(DropoutLike o, PlanEmitter &e, StringRef kernel) {
  FailureOr<int32_t> rng = e.rngInput(o);
  if (failed(rng))
    return failure();
  return e.simple(
      o, kernel,
      {{"p", planFloat(o.getP())}, {"stream", planInt(o.getStream())}}, {*rng});
}

//===- Optimizer updates
//---------------------------------------------------===//

FailureOr<int32_t> optState(PlanEmitter &e, Operation *op, Value param,
                            StringRef suffix) {
  auto paramOp = param.getDefiningOp<ParamOp>();
  return e.persistent(op, plan::BufferKind::OptState,
                      (paramOp.getName() + "." + suffix).str(),
                      cast<RankedTensorType>(param.getType()));
}

/// The hyperparameters of an SGD update, single or grouped.
template <typename Op> PlanAttrs sgdAttrs(Op o) {
  return {{"momentum", planFloat(o.getMomentum())},
          {"dampening", planFloat(o.getDampening())},
          {"weight_decay", planFloat(o.getWeightDecay())},
          {"nesterov", planInt(o.getNesterov() ? 1 : 0)},
          {"lr_scale", planFloat(o.getLrScale())}};
}

/// The hyperparameters of an AdamW update, single or grouped.
template <typename Op> PlanAttrs adamwAttrs(Op o) {
  return {{"beta1", planFloat(o.getBeta1())},
          {"beta2", planFloat(o.getBeta2())},
          {"eps", planFloat(o.getEps())},
          {"weight_decay", planFloat(o.getWeightDecay())},
          {"lr_scale", planFloat(o.getLrScale())}};
}

/// grad, lr, step and, with clipping, the clip factor.
template <typename UpdateOp>
SmallVector<int32_t> updateInputs(UpdateOp o, PlanEmitter &e) {
  SmallVector<int32_t> inputs{e.lookup(o.getGrad()), e.lookup(o.getLr()),
                              e.lookup(o.getStep())};
  if (Value clip = o.getGradScale())
    inputs.push_back(e.lookup(clip));
  return inputs;
}

/// With `own_step`, the update's own step counter `<param>.step` (a rank-0
/// optimizer state) as its last output, and the attribute that says so.
template <typename UpdateOp>
LogicalResult ownStep(UpdateOp o, PlanEmitter &e,
                      SmallVectorImpl<int32_t> &outputs, PlanAttrs &attrs) {
  if (!o.getOwnStep())
    return success();
  auto paramOp = o.getParam().template getDefiningOp<ParamOp>();
  FailureOr<int32_t> id = e.persistent(
      o, plan::BufferKind::OptState, (paramOp.getName() + ".step").str(),
      RankedTensorType::get({}, Float32Type::get(o->getContext())));
  if (failed(id))
    return failure();
  outputs.push_back(*id);
  attrs["own_step"] = planInt(1);
  return success();
}

/// A group update: inputs grads..., lr, step, clip; outputs params... then
/// each state (`states`, in order) for every parameter.
template <typename GroupOp>
LogicalResult groupUpdate(GroupOp o, PlanEmitter &e, ArrayRef<StringRef> states,
                          StringRef kernel, PlanAttrs attrs) {
  SmallVector<int32_t> inputs, outputs;
  for (Value g : o.getGrads())
    inputs.push_back(e.lookup(g));
  inputs.push_back(e.lookup(o.getLr()));
  inputs.push_back(e.lookup(o.getStep()));
  inputs.push_back(e.lookup(o.getGradScale()));
  for (Value param : o.getParams())
    outputs.push_back(e.lookup(param));
  for (StringRef state : states)
    for (Value param : o.getParams()) {
      FailureOr<int32_t> id = optState(e, o, param, state);
      if (failed(id))
        return failure();
      outputs.push_back(*id);
    }
  attrs["tensors"] = planInt(int64_t(o.getParams().size()));
  e.emit(kernel, inputs, outputs, std::move(attrs));
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// Graph boundary
//===----------------------------------------------------------------------===//

LogicalResult ParamOp::lowerToPlan(PlanEmitter &e) {
  plan::Plan &p = e.plan();
  size_t before = p.buffers.size();
  if (failed(e.bindPersistent(*this, plan::BufferKind::Param, getName())))
    return failure();
  if (p.buffers.size() == before)
    return success(); // another program (or ftc.param op) declared it
  plan::ParamInfo info;
  info.buffer = e.lookup(getResult());
  info.trainable = !getTrainable().has_value() || *getTrainable();
  info.head = getHead();
  StringRef init = getInit();
  info.init = init == "ones"      ? plan::InitKind::Ones
              : init == "normal"  ? plan::InitKind::Normal
              : init == "uniform" ? plan::InitKind::Uniform
                                  : plan::InitKind::Zeros;
  info.initA = getInitA().convertToDouble();
  info.initB = getInitB().convertToDouble();
  p.params.push_back(info);
  return success();
}

LogicalResult InputOp::lowerToPlan(PlanEmitter &e) {
  if (failed(e.bindPersistent(*this, plan::BufferKind::Input, getName())))
    return failure();
  std::string name = getName().str();
  if (!plan::isTrainerScalar(name) && !plan::isCachedValueInput(name))
    e.plan().featureInputs[name] = e.lookup(getResult());
  return success();
}

LogicalResult OutputOp::lowerToPlan(PlanEmitter &e) {
  e.program().outputs[getRole().str()] = e.lookup(getValue());
  return success();
}

//===----------------------------------------------------------------------===//
// Forward
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "linear");
}
LogicalResult ReluOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "relu");
}
/// The tanh form says so; the erf form is the kernels' default.
static PlanAttrs geluForm(StringRef approximate) {
  if (approximate == "tanh")
    return {{"approximate", planString("tanh")}};
  return {};
}
LogicalResult GeluOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "gelu", geluForm(getApproximate()));
}
LogicalResult TanhOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "tanh");
}
LogicalResult AddOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "add");
}
LogicalResult SubOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "sub");
}
LogicalResult MulOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "mul");
}
LogicalResult ScaleOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "scale", {{"factor", planFloat(getFactor())}});
}
LogicalResult FillOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "fill", {{"value", planFloat(getValue())}});
}
LogicalResult ReduceSumOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "reduce_sum", {{"axes", planInts(getAxes())}});
}
LogicalResult ReduceMeanOp::lowerToPlan(PlanEmitter &e) {
  // The contract has no mean: a sum, then a scale in place.
  if (failed(e.simple(*this, "reduce_sum", {{"axes", planInts(getAxes())}})))
    return failure();
  double count = 1;
  for (int64_t axis : getAxes())
    count *= double(getInput().getType().getDimSize(axis));
  int32_t id = e.lookup(getResult());
  e.emit("scale", {id}, {id}, {{"factor", planFloat(1.0 / count)}});
  return success();
}
LogicalResult BroadcastOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "broadcast", {{"axes", planInts(getAxes())}});
}
LogicalResult ReshapeOp::lowerToPlan(PlanEmitter &e) {
  // ftc-plan-memory gave an aliasing reshape its input's slice: a second
  // view of the same bytes, with no kernel.
  if (!(*this)->hasAttr("ftc.alias"))
    return e.simple(*this, "copy");
  FailureOr<int32_t> view = e.temp(*this, 0);
  if (failed(view))
    return failure();
  e.bind(getResult(), *view);
  return success();
}
LogicalResult SoftmaxCrossEntropyOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "softmax_cross_entropy",
                  ignoreIndex(getIgnoreIndex()));
}
LogicalResult EmbeddingOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "embedding");
}
LogicalResult IotaOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "iota", {{"axis", planInt(getAxis())}});
}
LogicalResult LayerNormOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "layer_norm", epsAttr(getEps()));
}
LogicalResult TransposeOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "transpose", {{"perm", planInts(getPerm())}});
}
LogicalResult BatchMatmulOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "batch_matmul",
                  {{"transpose_a", planInt(getTransposeLhs() ? 1 : 0)},
                   {"transpose_b", planInt(getTransposeRhs() ? 1 : 0)}});
}
LogicalResult MaskedSoftmaxOp::lowerToPlan(PlanEmitter &e) {
  PlanAttrs attrs{{"scale", planFloat(getScale())}};
  if (getCausal())
    attrs["causal"] = planInt(1);
  return e.simple(*this, "masked_softmax", std::move(attrs));
}
LogicalResult DropoutOp::lowerToPlan(PlanEmitter &e) {
  return dropoutKernel(*this, e, "dropout");
}
LogicalResult SelectOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(
      *this, "select",
      {{"axis", planInt(getAxis())}, {"index", planInt(getIndex())}});
}

//===----------------------------------------------------------------------===//
// Gradient
//===----------------------------------------------------------------------===//

LogicalResult LinearGradDataOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "linear_bwd_data");
}
LogicalResult LinearGradWeightOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "linear_bwd_weights");
}
LogicalResult ReluGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "relu_bwd");
}
LogicalResult GeluGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "gelu_bwd", geluForm(getApproximate()));
}
LogicalResult TanhGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "tanh_bwd");
}
LogicalResult SoftmaxCrossEntropyGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "softmax_cross_entropy_bwd",
                  ignoreIndex(getIgnoreIndex()));
}
LogicalResult EmbeddingGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "embedding_bwd");
}
LogicalResult LayerNormGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "layer_norm_bwd", epsAttr(getEps()));
}
LogicalResult SoftmaxGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "softmax_bwd", {{"scale", planFloat(getScale())}});
}
LogicalResult DropoutGradOp::lowerToPlan(PlanEmitter &e) {
  return dropoutKernel(*this, e, "dropout_bwd");
}
LogicalResult SelectGradOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(
      *this, "select_bwd",
      {{"axis", planInt(getAxis())}, {"index", planInt(getIndex())}});
}

//===----------------------------------------------------------------------===//
// Fused (ftc-fuse)
//===----------------------------------------------------------------------===//

LogicalResult LinearGeluOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "linear", {{"activation", planString("gelu")}});
}
LogicalResult LinearGradWeightBiasOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "linear_bwd_weights");
}
LogicalResult AddLayerNormOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "add_layer_norm", epsAttr(getEps()));
}
LogicalResult StridedBatchMatmulOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "batch_matmul",
                  {{"a_perm", planInts(getLhsPerm())},
                   {"b_perm", planInts(getRhsPerm())},
                   {"c_perm", planInts(getResultPerm())}});
}

//===----------------------------------------------------------------------===//
// Optimizer
//===----------------------------------------------------------------------===//

LogicalResult SgdUpdateOp::lowerToPlan(PlanEmitter &e) {
  e.plan().optimizer = "sgd";
  SmallVector<int32_t> outputs{e.lookup(getParam())};
  if (getMomentum().convertToDouble() != 0) {
    FailureOr<int32_t> buf = optState(e, *this, getParam(), "momentum_buffer");
    if (failed(buf))
      return failure();
    outputs.push_back(*buf);
  }
  PlanAttrs attrs = sgdAttrs(*this);
  if (failed(ownStep(*this, e, outputs, attrs)))
    return failure();
  e.emit("sgd_update", updateInputs(*this, e), outputs, std::move(attrs));
  return success();
}

LogicalResult SgdGroupUpdateOp::lowerToPlan(PlanEmitter &e) {
  e.plan().optimizer = "sgd";
  SmallVector<StringRef, 1> states;
  if (getMomentum().convertToDouble() != 0)
    states.push_back("momentum_buffer");
  return groupUpdate(*this, e, states, "sgd_group", sgdAttrs(*this));
}

LogicalResult AdamWUpdateOp::lowerToPlan(PlanEmitter &e) {
  e.plan().optimizer = "adamw";
  FailureOr<int32_t> m = optState(e, *this, getParam(), "exp_avg");
  FailureOr<int32_t> v = optState(e, *this, getParam(), "exp_avg_sq");
  if (failed(m) || failed(v))
    return failure();
  SmallVector<int32_t> outputs{e.lookup(getParam()), *m, *v};
  PlanAttrs attrs = adamwAttrs(*this);
  if (failed(ownStep(*this, e, outputs, attrs)))
    return failure();
  e.emit("adamw_update", updateInputs(*this, e), outputs, std::move(attrs));
  return success();
}

LogicalResult AdamWGroupUpdateOp::lowerToPlan(PlanEmitter &e) {
  e.plan().optimizer = "adamw";
  return groupUpdate(*this, e, {"exp_avg", "exp_avg_sq"}, "adamw_group",
                     adamwAttrs(*this));
}

LogicalResult GradAccumulatorOp::lowerToPlan(PlanEmitter &e) {
  return e.bindPersistent(*this, plan::BufferKind::GradAccum,
                          (getName() + ".grad_accum").str());
}

LogicalResult AccumulateGradOp::lowerToPlan(PlanEmitter &e) {
  e.emit("accumulate_grad", {e.lookup(getGrad()), e.lookup(getKeep())},
         {e.lookup(getAccumulator())});
  return success();
}

LogicalResult GradNormScaleOp::lowerToPlan(PlanEmitter &e) {
  return e.simple(*this, "grad_norm_scale",
                  {{"max_norm", planFloat(getMaxNorm())}});
}
