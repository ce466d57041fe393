//===- LowerOptimizer.cpp - Gradient outputs to in-place updates ---------===//
// SPDX-License-Identifier: Apache-2.0
//
// After this pass @train_step outputs only its loss: every `grad.<name>`
// becomes an update of that parameter. Frozen parameters have no gradient
// output, so they get no update and no optimizer state by construction.
//===----------------------------------------------------------------------===//
#include "ftc/Dialect/Ftc/IR/FtcOps.h"
#include "ftc/Dialect/Ftc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::ftc {
#define GEN_PASS_DEF_FTCLOWEROPTIMIZER
#include "ftc/Dialect/Ftc/Transforms/Passes.h.inc"
} // namespace mlir::ftc

using namespace mlir;
using namespace mlir::ftc;

namespace {

constexpr StringLiteral kGradPrefix = "grad.";

struct LowerOptimizer : mlir::ftc::impl::FtcLowerOptimizerBase<LowerOptimizer> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (optimizer != "sgd" && optimizer != "adamw") {
      module.emitError("unknown optimizer '") << optimizer << "'";
      return signalPassFailure();
    }
    auto fn = module.lookupSymbol<func::FuncOp>("train_step");
    if (!fn) {
      module.emitError("ftc-lower-optimizer needs @train_step (run "
                       "ftc-autodiff first)");
      return signalPassFailure();
    }

    llvm::StringMap<ParamOp> params;
    fn.walk([&](ParamOp p) { params.try_emplace(p.getName(), p); });

    Block &body = fn.getBody().front();
    OpBuilder b(&body, body.begin());
    Location loc = fn.getLoc();
    auto scalar = RankedTensorType::get({}, b.getF32Type());
    Value lr = InputOp::create(b, loc, scalar, "lr");
    Value step = InputOp::create(b, loc, scalar, "step");

    SmallVector<OutputOp> gradOutputs;
    fn.walk([&](OutputOp o) {
      if (o.getRole().starts_with(kGradPrefix))
        gradOutputs.push_back(o);
    });
    for (OutputOp out : gradOutputs) {
      StringRef name = out.getRole().drop_front(kGradPrefix.size());
      ParamOp param = params.lookup(name);
      if (!param) {
        out.emitOpError("names no parameter of @train_step: ") << name;
        return signalPassFailure();
      }
      b.setInsertionPoint(out);
      if (optimizer == "sgd")
        SgdUpdateOp::create(b, out.getLoc(), param, out.getValue(), lr, step,
                            b.getF64FloatAttr(momentum),
                            b.getF64FloatAttr(dampening),
                            b.getF64FloatAttr(weightDecay),
                            b.getBoolAttr(nesterov));
      else
        AdamWUpdateOp::create(b, out.getLoc(), param, out.getValue(), lr, step,
                              b.getF64FloatAttr(beta1), b.getF64FloatAttr(beta2),
                              b.getF64FloatAttr(eps),
                              b.getF64FloatAttr(weightDecay));
      out.erase();
    }
    module->setAttr("ftc.optimizer", b.getStringAttr(optimizer));
  }
};

} // namespace
