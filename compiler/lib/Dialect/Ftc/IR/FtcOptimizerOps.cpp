//===- FtcOptimizerOps.cpp - Parameter updates ----------------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// One op family in one file (docs/plugins.md, "When the op set lacks
// something"): SGD and AdamW updates, single and grouped, gradient accumulation
// and global-norm clipping. Each op's type inference and verifier, its
// vector-Jacobian product, its other interfaces and the kernel calls it lowers
// to, side by side.
//===----------------------------------------------------------------------===//
#include "OpSupport.h"

#include "ftc/Dialect/Ftc/IR/PlanEmitter.h"

using namespace mlir;
using namespace mlir::ftc;
using namespace mlir::ftc::support;
namespace plan = ::ftc::plan;

namespace {

template <typename UpdateOp> LogicalResult verifyUpdate(UpdateOp op) {
  if (!op.getParam().template getDefiningOp<ParamOp>())
    return op.emitOpError("updates must target an 'ftc.param' value");
  if (op.getParam().getType() != op.getGrad().getType())
    return op.emitOpError("gradient type must match the parameter type");
  return success();
}

/// SGD's hyperparameters, single or grouped: as torch.optim.SGD and the
/// runtime contract (plan::verify rejects the same).
template <typename Op> LogicalResult verifySgdAttrs(Op op) {
  if (op.getMomentum().convertToDouble() < 0 ||
      op.getWeightDecay().convertToDouble() < 0)
    return op.emitOpError("momentum and weight_decay must be non-negative");
  if (op.getNesterov() && (op.getMomentum().convertToDouble() <= 0 ||
                           op.getDampening().convertToDouble() != 0))
    return op.emitOpError("Nesterov momentum needs momentum > 0 and zero "
                          "dampening");
  return success();
}

/// AdamW's betas, single or grouped.
template <typename Op> LogicalResult verifyAdamWAttrs(Op op) {
  double b1 = op.getBeta1().convertToDouble(),
         b2 = op.getBeta2().convertToDouble();
  if (b1 < 0 || b1 >= 1 || b2 < 0 || b2 >= 1)
    return op.emitOpError("betas must be in [0, 1)");
  return success();
}

/// A group update: one gradient per parameter, each of its type, every
/// parameter an `ftc.param`, none twice.
template <typename GroupOp> LogicalResult verifyGroup(GroupOp op) {
  if (op.getParams().empty())
    return op.emitOpError("needs at least one parameter");
  if (op.getParams().size() != op.getGrads().size())
    return op.emitOpError("has ") << op.getParams().size() << " parameters but "
                                  << op.getGrads().size() << " gradients";
  llvm::SmallPtrSet<Operation *, 16> seen;
  for (auto [param, grad] : llvm::zip(op.getParams(), op.getGrads())) {
    Operation *def = param.getDefiningOp();
    if (!def || !isa<ParamOp>(def))
      return op.emitOpError("updates must target 'ftc.param' values");
    if (!seen.insert(def).second)
      return op.emitOpError("updates a parameter twice");
    if (param.getType() != grad.getType())
      return op.emitOpError("gradient type must match the parameter type");
  }
  return success();
}

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
// Types and verifiers
//===----------------------------------------------------------------------===//

LogicalResult AccumulateGradOp::verify() {
  if (!getAccumulator().getDefiningOp<GradAccumulatorOp>())
    return emitOpError("must accumulate into an 'ftc.grad_accumulator' value");
  return success();
}

LogicalResult SgdUpdateOp::verify() {
  return failure(failed(verifySgdAttrs(*this)) || failed(verifyUpdate(*this)));
}

LogicalResult AdamWUpdateOp::verify() {
  return failure(failed(verifyAdamWAttrs(*this)) ||
                 failed(verifyUpdate(*this)));
}

LogicalResult SgdGroupUpdateOp::verify() {
  return failure(failed(verifySgdAttrs(*this)) || failed(verifyGroup(*this)));
}

LogicalResult AdamWGroupUpdateOp::verify() {
  return failure(failed(verifyAdamWAttrs(*this)) || failed(verifyGroup(*this)));
}

LogicalResult GradNormScaleOp::verify() {
  if (getGrads().empty())
    return emitOpError("needs at least one gradient");
  if (getMaxNorm().convertToDouble() <= 0)
    return emitOpError("max_norm must be positive");
  return success();
}

//===----------------------------------------------------------------------===//
// Plan lowering
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
