//===- LowerOptimizer.cpp - Gradient outputs to in-place updates ---------===//
// SPDX-License-Identifier: Apache-2.0
//
// After this pass @train_step outputs only its loss: every `grad.<name>`
// becomes an update of that parameter. Frozen parameters have no gradient
// output, so they get no update and no optimizer state by construction.
//===----------------------------------------------------------------------===//
#include "ftc/Dialect/Ftc/IR/FtcOps.h"
#include "ftc/Dialect/Ftc/Transforms/Passes.h"

#include "ftc/Support/Glob.h"
#include "ftc/plan/Plan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>

namespace mlir::ftc {
#define GEN_PASS_DEF_FTCLOWEROPTIMIZER
#include "ftc/Dialect/Ftc/Transforms/Passes.h.inc"
} // namespace mlir::ftc

using namespace mlir;
using namespace mlir::ftc;

namespace {

constexpr StringLiteral kGradPrefix = "grad.";
/// The no_decay entry for every normalisation's scale and shift.
constexpr StringLiteral kNormEntry = "@norm";

struct LowerOptimizer : mlir::ftc::impl::FtcLowerOptimizerBase<LowerOptimizer> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (optimizer != "sgd" && optimizer != "adamw") {
      module.emitError("unknown optimizer '") << optimizer << "'";
      return signalPassFailure();
    }
    auto fn = module.lookupSymbol<func::FuncOp>(::ftc::plan::programs::kTrain);
    if (!fn) {
      module.emitError("ftc-lower-optimizer needs @train_step (run "
                       "ftc-autodiff first)");
      return signalPassFailure();
    }

    llvm::StringMap<ParamOp> params;
    fn.walk([&](ParamOp p) { params.try_emplace(p.getName(), p); });

    if (gradAccum < 1) {
      module.emitError("grad-accum must be at least 1");
      return signalPassFailure();
    }

    SmallVector<::ftc::GlobPattern> noDecayGlobs;
    // `@norm`: the parameters that scale and shift a normalisation, found
    // from the ops (whatever the family names them).
    llvm::StringSet<> normParams;
    for (const std::string &text : noDecay) {
      if (text == kNormEntry) {
        fn.walk([&](NormalizationOpInterface norm) {
          for (Value v : norm.getAffineOperands())
            if (auto p = v.getDefiningOp<ParamOp>())
              normParams.insert(p.getName());
        });
        continue;
      }
      std::string error;
      std::optional<::ftc::GlobPattern> glob =
          ::ftc::GlobPattern::compile(text, error);
      if (!glob) {
        module.emitError("invalid no_decay pattern '")
            << text << "': " << error;
        return signalPassFailure();
      }
      noDecayGlobs.push_back(std::move(*glob));
    }
    // Layer-wise lr decay: the head is depth 0, the top layer 1, ...,
    // the embeddings numLayers + 1.
    // The blocks are the family's to say (ftc.param's `layer`).
    int64_t numLayers = 0;
    for (auto &entry : params)
      if (std::optional<int64_t> layer = entry.getValue().getBlockIndex())
        numLayers = std::max(numLayers, *layer + 1);
    auto lrScale = [&](StringRef name) {
      if (layerLrDecay == 1.0)
        return 1.0;
      std::optional<int64_t> layer = params.lookup(name).getBlockIndex();
      int64_t depth = !layer       ? 0
                      : *layer < 0 ? numLayers + 1
                                   : numLayers - *layer;
      return std::pow(double(layerLrDecay), double(depth));
    };

    SmallVector<OutputOp> gradOutputs;
    fn.walk([&](OutputOp o) {
      if (o.getRole().starts_with(kGradPrefix))
        gradOutputs.push_back(o);
    });
    // (name, parameter, gradient) of each update, in gradient-output order.
    struct Update {
      StringRef name;
      ParamOp param;
      Value grad;
      Location loc;
    };
    SmallVector<Update> updates;
    for (OutputOp out : gradOutputs) {
      StringRef name = out.getRole().drop_front(kGradPrefix.size());
      ParamOp param = params.lookup(name);
      if (!param) {
        out.emitOpError("names no parameter of @train_step: ") << name;
        return signalPassFailure();
      }
      updates.push_back({name, param, out.getValue(), out.getLoc()});
    }

    Location loc = fn.getLoc();
    auto scalar = RankedTensorType::get({}, OpBuilder(module).getF32Type());
    // The updates go after the last gradient: at the end of @train_step, or
    // with accumulation into @optimizer_step reading the accumulators.
    OpBuilder b(module.getContext());
    Block *updateBlock = &fn.getBody().front();
    if (gradAccum > 1) {
      Block &body = fn.getBody().front();
      b.setInsertionPoint(&body, body.begin());
      Value keep = InputOp::create(b, loc, scalar, "accum_keep");
      for (Update &u : updates) {
        b.setInsertionPoint(body.getTerminator());
        Value acc =
            GradAccumulatorOp::create(b, u.loc, u.grad.getType(), u.name);
        AccumulateGradOp::create(b, u.loc, acc, u.grad, keep);
      }
      b.setInsertionPointToEnd(module.getBody());
      auto opt = func::FuncOp::create(b, loc, ::ftc::plan::programs::kOptimizer,
                                      b.getFunctionType({}, {}));
      updateBlock = opt.addEntryBlock();
      b.setInsertionPointToStart(updateBlock);
      func::ReturnOp::create(b, loc);
      b.setInsertionPoint(updateBlock->getTerminator());
      for (Update &u : updates) {
        auto param = cast<ParamOp>(b.clone(*u.param));
        Value acc =
            GradAccumulatorOp::create(b, u.loc, u.grad.getType(), u.name);
        u.param = param;
        u.grad = acc;
      }
    }
    for (OutputOp out : gradOutputs)
      out.erase();

    b.setInsertionPointToStart(updateBlock);
    Value lr = InputOp::create(b, loc, scalar, "lr");
    Value step = InputOp::create(b, loc, scalar, "step");
    b.setInsertionPoint(updateBlock->getTerminator());
    Value clip;
    if (clipGradNorm > 0 && !updates.empty()) {
      SmallVector<Value> grads;
      for (Update &u : updates)
        grads.push_back(u.grad);
      clip = GradNormScaleOp::create(b, loc, scalar, grads,
                                     b.getF64FloatAttr(clipGradNorm));
    }

    for (Update &u : updates) {
      std::string n = u.name.str();
      double decay = normParams.contains(n) ||
                             llvm::any_of(noDecayGlobs,
                                          [&](const ::ftc::GlobPattern &g) {
                                            return g.match(n);
                                          })
                         ? 0.0
                         : double(weightDecay);
      FloatAttr scale = b.getF64FloatAttr(lrScale(u.name));
      if (optimizer == "sgd")
        SgdUpdateOp::create(b, u.loc, u.param, u.grad, lr, step, clip,
                            b.getF64FloatAttr(momentum),
                            b.getF64FloatAttr(dampening),
                            b.getF64FloatAttr(decay), b.getBoolAttr(nesterov),
                            scale, b.getBoolAttr(perParamStep));
      else
        AdamWUpdateOp::create(
            b, u.loc, u.param, u.grad, lr, step, clip, b.getF64FloatAttr(beta1),
            b.getF64FloatAttr(beta2), b.getF64FloatAttr(eps),
            b.getF64FloatAttr(decay), scale, b.getBoolAttr(perParamStep));
    }
    module->setAttr("ftc.optimizer", b.getStringAttr(optimizer));
    if (gradAccum > 1)
      module->setAttr("ftc.grad_accum", b.getI64IntegerAttr(gradAccum));
  }
};

} // namespace
