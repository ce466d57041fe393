//===- Autodiff.cpp - Reverse-mode differentiation of @forward -----------===//
// SPDX-License-Identifier: Apache-2.0
//
// Builds @train_step (forward + backward, outputs `loss` and `grad.<name>`),
// @eval_step (forward, outputs `loss` and `logits`) and @predict_step (the
// forward without the loss, outputs `logits`) from @forward.
//
// Pruning is structural: a value "needs a gradient" only if it depends on a
// trainable parameter, and vector-Jacobian products are emitted only for
// operands that need one. Everything below the lowest trainable parameter
// (and every frozen branch) gets no backward op at all.
//===----------------------------------------------------------------------===//
#include "ftc/Dialect/Ftc/IR/FtcOps.h"
#include "ftc/Dialect/Ftc/Transforms/Passes.h"
#include "ftc/plan/Plan.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::ftc {
#define GEN_PASS_DEF_FTCAUTODIFF
#include "ftc/Dialect/Ftc/Transforms/Passes.h.inc"
} // namespace mlir::ftc

using namespace mlir;
using namespace mlir::ftc;

namespace {

bool isTrainable(ParamOp p) {
  return !p.getTrainable().has_value() || *p.getTrainable();
}

OutputOp findOutput(func::FuncOp fn, StringRef role) {
  OutputOp found;
  fn.walk([&](OutputOp o) {
    if (o.getRole() == role)
      found = o;
  });
  return found;
}

/// Removes unused side-effect-free ops, last first. Parameters stay even
/// when unread: a trainable one still has a (zero) gradient output that
/// ftc-lower-optimizer turns into an update of it, and the plan must know
/// every parameter of the model.
void eraseDeadOps(func::FuncOp fn, bool keepParams = true) {
  SmallVector<Operation *> ops;
  for (Operation &op : fn.getBody().front())
    ops.push_back(&op);
  for (Operation *op : llvm::reverse(ops))
    if ((!keepParams || !isa<ParamOp>(op)) && isOpTriviallyDead(op))
      op->erase();
}

/// Adds `contribution` to the running gradient of `v`.
void accumulate(OpBuilder &b, Location loc, llvm::DenseMap<Value, Value> &grads,
                Value v, Value contribution) {
  auto it = grads.find(v);
  if (it == grads.end()) {
    grads[v] = contribution;
    return;
  }
  it->second =
      AddOp::create(b, loc, contribution.getType(), it->second, contribution);
}

struct Autodiff : mlir::ftc::impl::FtcAutodiffBase<Autodiff> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>("forward");
    if (!forward) {
      module.emitError("ftc-autodiff needs a @forward function");
      return signalPassFailure();
    }
    if (!forward.getBody().hasOneBlock()) {
      forward.emitError("@forward must have a single block");
      return signalPassFailure();
    }
    if (!findOutput(forward, "loss")) {
      forward.emitError("@forward has no 'loss' output");
      return signalPassFailure();
    }

    // eval_step: the forward pass as written.
    auto evalStep = cast<func::FuncOp>(forward->clone());
    evalStep.setSymName(::ftc::plan::programs::kEval);
    module.push_back(evalStep);
    // Evaluation runs the model deterministically: every op that behaves
    // differently in training (dropout) takes its evaluation form.
    evalStep.walk([](TrainOnlyOpInterface op) {
      op->getResult(0).replaceAllUsesWith(op.getEvalValue());
      op->erase();
    });

    // predict_step: eval_step without the loss, so that inputs without
    // labels can run (the labels input is then dead and disappears).
    auto predictStep = cast<func::FuncOp>(evalStep->clone());
    predictStep.setSymName(::ftc::plan::programs::kPredict);
    module.push_back(predictStep);
    if (OutputOp loss = findOutput(predictStep, "loss"))
      loss.erase();
    if (!findOutput(predictStep, "logits"))
      predictStep.erase();
    else
      eraseDeadOps(predictStep, /*keepParams=*/false);

    auto trainStep = cast<func::FuncOp>(forward->clone());
    trainStep.setSymName(::ftc::plan::programs::kTrain);
    module.push_back(trainStep);
    forward.erase();

    if (failed(differentiate(trainStep)))
      return signalPassFailure();
    eraseDeadOps(trainStep);
    eraseDeadOps(evalStep);
  }

  LogicalResult differentiate(func::FuncOp fn) {
    Block &body = fn.getBody().front();
    OutputOp lossOutput = findOutput(fn, "loss");
    Value loss = lossOutput.getValue();
    // Training reports the loss only; other outputs would keep their values
    // alive in the arena for nothing.
    SmallVector<OutputOp> outputs;
    fn.walk([&](OutputOp o) { outputs.push_back(o); });
    for (OutputOp o : outputs)
      if (o != lossOutput)
        o.erase();

    // Forward sweep: which values depend on a trainable parameter, and on
    // which one (the first found), to name it when a VJP is missing.
    llvm::DenseMap<Value, StringRef> needsGrad;
    SmallVector<Operation *> forwardOps;
    for (Operation &op : body) {
      forwardOps.push_back(&op);
      if (auto p = dyn_cast<ParamOp>(op)) {
        if (isTrainable(p))
          needsGrad[p.getResult()] = p.getName();
        continue;
      }
      for (Value v : op.getOperands())
        if (auto it = needsGrad.find(v); it != needsGrad.end()) {
          StringRef param = it->second;
          for (Value r : op.getResults())
            needsGrad[r] = param;
          break;
        }
    }

    OpBuilder b(body.getTerminator());
    Location loc = fn.getLoc();
    llvm::DenseMap<Value, Value> grads;
    if (needsGrad.contains(loss))
      grads[loss] =
          lossWeight
              ? InputOp::create(b, loc, loss.getType(), "loss_weight")
                    .getResult()
              : FillOp::create(b, loc, loss.getType(), b.getF64FloatAttr(1.0))
                    .getResult();

    // Reverse sweep over the original ops only, through each op's own VJP
    // (DifferentiableOpInterface): every result's gradient, null where the
    // loss does not read that result.
    for (Operation *op : llvm::reverse(forwardOps)) {
      if (isa<ParamOp, InputOp>(op))
        continue;
      SmallVector<Value> resultGrads;
      for (Value r : op->getResults())
        resultGrads.push_back(grads.lookup(r));
      if (llvm::all_of(resultGrads, [](Value g) { return !g; }))
        continue;
      SmallVector<bool> needed;
      for (Value operand : op->getOperands())
        needed.push_back(needsGrad.contains(operand));
      auto differentiable = dyn_cast<DifferentiableOpInterface>(op);
      if (!differentiable) {
        StringRef param = needsGrad.lookup(op->getResult(0));
        return op->emitOpError("has no vector-Jacobian product, but the "
                               "gradient of trainable parameter '")
               << param << "' flows through it";
      }
      SmallVector<Value> contributions;
      if (failed(
              differentiable.buildVjp(b, resultGrads, needed, contributions)))
        return failure();
      if (contributions.size() != op->getNumOperands())
        return op->emitOpError("VJP returned ")
               << contributions.size() << " gradients for "
               << op->getNumOperands() << " operands";
      for (auto [operand, contribution, want] :
           llvm::zip(op->getOperands(), contributions, needed))
        if (contribution && want)
          accumulate(b, loc, grads, operand, contribution);
    }

    // One gradient output per trainable parameter name (a parameter read
    // twice gets the sum). A trainable parameter that cannot reach the loss
    // gets a zero gradient, which keeps the update semantics uniform.
    llvm::MapVector<StringRef, Value> byName;
    for (Operation *op : forwardOps) {
      auto p = dyn_cast<ParamOp>(op);
      if (!p || !isTrainable(p))
        continue;
      Value g = grads.lookup(p.getResult());
      if (!g)
        g = FillOp::create(b, loc, p.getType(), b.getF64FloatAttr(0.0));
      auto [slot, inserted] = byName.insert({p.getName(), g});
      if (!inserted)
        slot->second = AddOp::create(b, loc, g.getType(), slot->second, g);
    }
    for (auto &[name, g] : byName)
      OutputOp::create(b, loc, b.getStringAttr("grad." + name.str()), g);
    return success();
  }
};

} // namespace
