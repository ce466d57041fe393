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
#include "llvm/ADT/TypeSwitch.h"

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

class GradientBuilder {
public:
  GradientBuilder(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  /// Emits the VJPs of `op` given the gradient of its result. Returns the
  /// gradient contributions for operands in `needed` (null when not needed).
  FailureOr<SmallVector<Value>> vjp(Operation *op, Value g,
                                    ArrayRef<bool> needed) {
    SmallVector<Value> out(op->getNumOperands());
    auto want = [&](unsigned i) { return i < needed.size() && needed[i]; };
    LogicalResult result =
        llvm::TypeSwitch<Operation *, LogicalResult>(op)
            .Case([&](LinearOp o) {
              if (want(0))
                out[0] = LinearGradDataOp::create(
                    b, loc, o.getInput().getType(), g, o.getWeight());
              if (want(1))
                out[1] = LinearGradWeightOp::create(
                    b, loc, o.getWeight().getType(), o.getInput(), g);
              if (o.getBias() && want(2))
                out[2] = ReduceSumOp::create(b, loc, o.getBias().getType(), g,
                                             b.getDenseI64ArrayAttr({0}));
              return success();
            })
            .Case([&](ReluOp o) {
              out[0] = ReluGradOp::create(b, loc, o.getType(), o.getInput(), g);
              return success();
            })
            .Case([&](GeluOp o) {
              out[0] = GeluGradOp::create(b, loc, o.getType(), o.getInput(), g);
              return success();
            })
            .Case([&](AddOp) {
              out[0] = out[1] = g;
              return success();
            })
            .Case([&](SubOp o) {
              out[0] = g;
              if (want(1))
                out[1] = ScaleOp::create(b, loc, o.getType(), g,
                                         b.getF64FloatAttr(-1.0));
              return success();
            })
            .Case([&](MulOp o) {
              if (want(0))
                out[0] = MulOp::create(b, loc, o.getType(), g, o.getRhs());
              if (want(1))
                out[1] = MulOp::create(b, loc, o.getType(), g, o.getLhs());
              return success();
            })
            .Case([&](ScaleOp o) {
              out[0] =
                  ScaleOp::create(b, loc, o.getType(), g, o.getFactorAttr());
              return success();
            })
            .Case([&](ReduceSumOp o) {
              out[0] = BroadcastOp::create(b, loc, o.getInput().getType(), g,
                                           o.getAxesAttr());
              return success();
            })
            .Case([&](ReduceMeanOp o) {
              auto type = o.getInput().getType();
              double count = 1;
              for (int64_t axis : o.getAxes())
                count *= double(type.getDimSize(axis));
              Value spread =
                  BroadcastOp::create(b, loc, type, g, o.getAxesAttr());
              out[0] = ScaleOp::create(b, loc, type, spread,
                                       b.getF64FloatAttr(1.0 / count));
              return success();
            })
            .Case([&](BroadcastOp o) {
              out[0] = ReduceSumOp::create(b, loc, o.getInput().getType(), g,
                                           o.getAxesAttr());
              return success();
            })
            .Case([&](ReshapeOp o) {
              auto type = o.getInput().getType();
              out[0] = ReshapeOp::create(
                  b, loc, type, g, b.getDenseI64ArrayAttr(type.getShape()));
              return success();
            })
            .Case([&](SoftmaxCrossEntropyOp o) {
              out[0] = SoftmaxCrossEntropyGradOp::create(
                  b, loc, o.getLogits().getType(), o.getLogits(), o.getLabels(),
                  g, o.getIgnoreIndexAttr());
              return success();
            })
            .Case([&](EmbeddingOp o) {
              out[0] = EmbeddingGradOp::create(b, loc, o.getTable().getType(),
                                               o.getIds(), g);
              return success();
            })
            .Case([&](LayerNormOp o) {
              auto grads = LayerNormGradOp::create(
                  b, loc,
                  TypeRange{o.getInput().getType(), o.getGamma().getType(),
                            o.getBeta().getType()},
                  o.getInput(), o.getGamma(), g, o.getEpsAttr());
              for (unsigned i = 0; i < 3; ++i)
                out[i] = grads->getResult(i);
              return success();
            })
            .Case([&](TransposeOp o) {
              SmallVector<int64_t> inverse(o.getPerm().size());
              for (auto [i, p] : llvm::enumerate(o.getPerm()))
                inverse[p] = int64_t(i);
              out[0] = TransposeOp::create(b, loc, o.getInput().getType(), g,
                                           b.getDenseI64ArrayAttr(inverse));
              return success();
            })
            .Case([&](BatchMatmulOp o) {
              // C = op(A)·op(B); each case keeps the transposes in the
              // kernel call instead of materialising transposed copies.
              bool ta = o.getTransposeLhs(), tb = o.getTransposeRhs();
              Value a = o.getLhs(), bv = o.getRhs();
              auto mm = [&](Type t, Value x, Value y, bool tx, bool ty) {
                return BatchMatmulOp::create(b, loc, t, x, y,
                                             b.getI64IntegerAttr(tx),
                                             b.getI64IntegerAttr(ty))
                    .getResult();
              };
              Type at = a.getType(), bt = bv.getType();
              if (!ta && !tb) {
                out[0] = want(0) ? mm(at, g, bv, false, true) : Value();
                out[1] = want(1) ? mm(bt, a, g, true, false) : Value();
              } else if (!ta && tb) {
                out[0] = want(0) ? mm(at, g, bv, false, false) : Value();
                out[1] = want(1) ? mm(bt, g, a, true, false) : Value();
              } else if (ta && !tb) {
                out[0] = want(0) ? mm(at, bv, g, false, true) : Value();
                out[1] = want(1) ? mm(bt, a, g, false, false) : Value();
              } else {
                out[0] = want(0) ? mm(at, bv, g, true, true) : Value();
                out[1] = want(1) ? mm(bt, g, a, true, true) : Value();
              }
              return success();
            })
            .Case([&](MaskedSoftmaxOp o) {
              out[0] = SoftmaxGradOp::create(b, loc, o.getType(), o.getResult(),
                                             g, o.getScaleAttr());
              return success();
            })
            .Case([&](TanhOp o) {
              out[0] =
                  TanhGradOp::create(b, loc, o.getType(), o.getResult(), g);
              return success();
            })
            .Case([&](DropoutOp o) {
              out[0] = DropoutGradOp::create(b, loc, o.getType(), g,
                                             o.getPAttr(), o.getStreamAttr());
              return success();
            })
            .Case([&](SelectOp o) {
              out[0] = SelectGradOp::create(b, loc, o.getInput().getType(), g,
                                            o.getAxisAttr(), o.getIndexAttr());
              return success();
            })
            .Default([&](Operation *other) {
              return other->emitOpError("is not differentiable, but a "
                                        "trainable parameter flows through it");
            });
    if (failed(result))
      return failure();
    for (unsigned i = 0; i < out.size(); ++i)
      if (!want(i))
        out[i] = Value();
    return out;
  }

  /// Adds `contribution` to the running gradient of `v`.
  void accumulate(llvm::DenseMap<Value, Value> &grads, Value v,
                  Value contribution) {
    auto it = grads.find(v);
    if (it == grads.end()) {
      grads[v] = contribution;
      return;
    }
    it->second =
        AddOp::create(b, loc, contribution.getType(), it->second, contribution);
  }

private:
  OpBuilder &b;
  Location loc;
};

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
    // Evaluation runs the model deterministically: no dropout.
    evalStep.walk([](DropoutOp d) {
      d.getResult().replaceAllUsesWith(d.getInput());
      d.erase();
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

    // Forward sweep: which values depend on a trainable parameter.
    llvm::DenseSet<Value> needsGrad;
    SmallVector<Operation *> forwardOps;
    for (Operation &op : body) {
      forwardOps.push_back(&op);
      if (auto p = dyn_cast<ParamOp>(op)) {
        if (isTrainable(p))
          needsGrad.insert(p.getResult());
        continue;
      }
      if (llvm::any_of(op.getOperands(),
                       [&](Value v) { return needsGrad.contains(v); }))
        for (Value r : op.getResults())
          needsGrad.insert(r);
    }

    OpBuilder b(body.getTerminator());
    Location loc = fn.getLoc();
    GradientBuilder gb(b, loc);
    llvm::DenseMap<Value, Value> grads;
    if (needsGrad.contains(loss))
      grads[loss] =
          lossWeight
              ? InputOp::create(b, loc, loss.getType(), "loss_weight")
                    .getResult()
              : FillOp::create(b, loc, loss.getType(), b.getF64FloatAttr(1.0))
                    .getResult();

    // Reverse sweep over the original ops only.
    for (Operation *op : llvm::reverse(forwardOps)) {
      if (op->getNumResults() != 1 || isa<ParamOp, InputOp>(op))
        continue;
      auto it = grads.find(op->getResult(0));
      if (it == grads.end())
        continue;
      SmallVector<bool> needed;
      for (Value operand : op->getOperands())
        needed.push_back(needsGrad.contains(operand));
      FailureOr<SmallVector<Value>> contributions =
          gb.vjp(op, it->second, needed);
      if (failed(contributions))
        return failure();
      for (auto [operand, contribution] :
           llvm::zip(op->getOperands(), *contributions))
        if (contribution)
          gb.accumulate(grads, operand, contribution);
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
