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
#include "ftc/Support/LayerDepth.h"

#include "mlir/IR/Builders.h"

#include <cmath>

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

    SmallVector<::ftc::GlobPattern> noDecayGlobs;
    for (const std::string &text : noDecay) {
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
    int64_t numLayers = 0;
    for (auto &entry : params)
      if (auto layer = ::ftc::layerIndex(entry.getKey().str()))
        numLayers = std::max(numLayers, *layer + 1);
    auto lrScale = [&](StringRef name) {
      if (layerLrDecay == 1.0)
        return 1.0;
      std::string n = name.str();
      int64_t depth = ::ftc::isEmbedding(n)  ? numLayers + 1
                      : ::ftc::layerIndex(n) ? numLayers - *::ftc::layerIndex(n)
                                             : 0;
      return std::pow(double(layerLrDecay), double(depth));
    };

    Value clip;
    if (clipGradNorm > 0 && !gradOutputs.empty()) {
      SmallVector<Value> grads;
      for (OutputOp out : gradOutputs)
        grads.push_back(out.getValue());
      b.setInsertionPoint(gradOutputs.front());
      clip = GradNormScaleOp::create(b, loc, scalar, grads,
                                     b.getF64FloatAttr(clipGradNorm));
    }

    for (OutputOp out : gradOutputs) {
      StringRef name = out.getRole().drop_front(kGradPrefix.size());
      ParamOp param = params.lookup(name);
      if (!param) {
        out.emitOpError("names no parameter of @train_step: ") << name;
        return signalPassFailure();
      }
      b.setInsertionPoint(out);
      std::string n = name.str();
      double decay =
          llvm::any_of(noDecayGlobs,
                       [&](const ::ftc::GlobPattern &g) { return g.match(n); })
              ? 0.0
              : double(weightDecay);
      FloatAttr scale = b.getF64FloatAttr(lrScale(name));
      if (optimizer == "sgd")
        SgdUpdateOp::create(
            b, out.getLoc(), param, out.getValue(), lr, step, clip,
            b.getF64FloatAttr(momentum), b.getF64FloatAttr(dampening),
            b.getF64FloatAttr(decay), b.getBoolAttr(nesterov), scale);
      else
        AdamWUpdateOp::create(b, out.getLoc(), param, out.getValue(), lr, step,
                              clip, b.getF64FloatAttr(beta1),
                              b.getF64FloatAttr(beta2), b.getF64FloatAttr(eps),
                              b.getF64FloatAttr(decay), scale);
      out.erase();
    }
    module->setAttr("ftc.optimizer", b.getStringAttr(optimizer));
  }
};

} // namespace
