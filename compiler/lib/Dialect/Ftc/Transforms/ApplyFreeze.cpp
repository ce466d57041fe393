//===- ApplyFreeze.cpp - Freeze policy to per-parameter trainability -----===//
// SPDX-License-Identifier: Apache-2.0
//
// Freezing is decided here, once, at compile time: every later pass reads the
// `trainable` attribute, so a frozen parameter can never get a gradient,
// optimizer state or an update.
//===----------------------------------------------------------------------===//
#include "LoraRewrite.h"

#include "ftc/Dialect/Ftc/IR/FtcOps.h"
#include "ftc/Dialect/Ftc/Transforms/Passes.h"
#include "ftc/Support/Glob.h"

#include "mlir/IR/Builders.h"

#include <set>

namespace mlir::ftc {
#define GEN_PASS_DEF_FTCAPPLYFREEZE
#include "ftc/Dialect/Ftc/Transforms/Passes.h.inc"
} // namespace mlir::ftc

using namespace mlir;
using namespace mlir::ftc;

namespace {

bool isBias(StringRef name) {
  return name == "bias" || name.ends_with(".bias");
}

struct ApplyFreeze : mlir::ftc::impl::FtcApplyFreezeBase<ApplyFreeze> {
  using Base::Base;

  /// A layer whose parameters are all frozen and that asks for it (batch
  /// norm: its statistics stay as they are) takes its evaluation form in
  /// training too, under batch-norm = "eval". The count of each form goes
  /// on the module for the trainable-set report.
  LogicalResult applyFrozenModes(ModuleOp module) {
    if (batchNorm != "eval" && batchNorm != "train")
      return module.emitError("batch-norm must be \"eval\" or \"train\", not '")
             << batchNorm << "'";
    SmallVector<TrainOnlyOpInterface> frozenLayers;
    int64_t training = 0;
    module.walk([&](TrainOnlyOpInterface op) {
      if (!op.evalWhenFrozen())
        return;
      bool frozen = llvm::all_of(op->getOperands(), [](Value v) {
        auto p = v.getDefiningOp<ParamOp>();
        return !p || (p.getTrainable() && !*p.getTrainable());
      });
      if (frozen && batchNorm == "eval")
        frozenLayers.push_back(op);
      else
        ++training;
    });
    for (TrainOnlyOpInterface op : frozenLayers) {
      op->getResult(0).replaceAllUsesWith(op.getEvalValue());
      op->erase();
    }
    Builder b(module.getContext());
    if (!frozenLayers.empty() || training)
      module->setAttr(
          "ftc.frozen_eval_layers",
          b.getI64ArrayAttr({int64_t(frozenLayers.size()), training}));
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<ParamOp> params;
    module.walk([&](ParamOp p) { params.push_back(p); });

    std::function<bool(ParamOp)> decide;
    if (policy == "none") {
      decide = [](ParamOp) { return true; };
    } else if (policy == "head-only") {
      if (llvm::none_of(params, [](ParamOp p) { return p.getHead(); })) {
        module.emitError("freeze policy 'head-only': the model marks no "
                         "parameter as part of its head");
        return signalPassFailure();
      }
      decide = [](ParamOp p) { return p.getHead(); };
    } else if (policy == "bitfit") {
      decide = [](ParamOp p) { return p.getHead() || isBias(p.getName()); };
    } else if (policy == "patterns") {
      if (trainable.empty() == frozen.empty()) {
        module.emitError("freeze policy 'patterns' needs exactly one of "
                         "'trainable' and 'frozen'");
        return signalPassFailure();
      }
      bool listTrainable = !trainable.empty();
      SmallVector<::ftc::GlobPattern> globs;
      for (const std::string &text : listTrainable ? trainable : frozen) {
        std::string error;
        std::optional<::ftc::GlobPattern> glob =
            ::ftc::GlobPattern::compile(text, error);
        if (!glob) {
          module.emitError("invalid freeze pattern '")
              << text << "': " << error;
          return signalPassFailure();
        }
        // A pattern that selects nothing is almost always a typo; saying so
        // beats silently training (or freezing) everything.
        if (llvm::none_of(params, [&](ParamOp p) {
              return glob->match(p.getName().str());
            })) {
          module.emitError("freeze pattern '")
              << text << "' matches no parameter of the model";
          return signalPassFailure();
        }
        globs.push_back(std::move(*glob));
      }
      decide = [globs, listTrainable](ParamOp p) {
        bool hit = llvm::any_of(globs, [&](const ::ftc::GlobPattern &g) {
          return g.match(p.getName().str());
        });
        return listTrainable ? hit : !hit;
      };
    } else if (policy == "lora") {
      LoraOptions lora;
      lora.rank = loraRank;
      lora.alpha = loraAlpha;
      lora.dropout = loraDropout;
      lora.targets.assign(loraTargets.begin(), loraTargets.end());
      std::vector<std::string> loraNames;
      if (failed(applyLoraRewrite(module, lora, loraNames)))
        return signalPassFailure();
      params.clear();
      module.walk([&](ParamOp p) { params.push_back(p); });
      // What trains besides the adapters: modules_to_save, else the head.
      SmallVector<::ftc::GlobPattern> save;
      for (const std::string &text : modulesToSave) {
        std::string error;
        std::optional<::ftc::GlobPattern> glob =
            ::ftc::GlobPattern::compile(text, error);
        if (!glob) {
          module.emitError("invalid modules_to_save pattern '")
              << text << "': " << error;
          return signalPassFailure();
        }
        if (llvm::none_of(params, [&](ParamOp p) {
              return glob->match(p.getName().str());
            })) {
          module.emitError("modules_to_save pattern '")
              << text << "' matches no parameter of the model";
          return signalPassFailure();
        }
        save.push_back(std::move(*glob));
      }
      std::set<std::string> adapters(loraNames.begin(), loraNames.end());
      bool headDefault = modulesToSave.empty();
      decide = [adapters, save, headDefault](ParamOp p) {
        std::string name = p.getName().str();
        if (adapters.count(name))
          return true;
        if (headDefault)
          return bool(p.getHead());
        return llvm::any_of(
            save, [&](const ::ftc::GlobPattern &g) { return g.match(name); });
      };
      Builder b(module.getContext());
      module->setAttr("ftc.lora_scale",
                      b.getF64FloatAttr(double(loraAlpha) / double(loraRank)));
    } else {
      module.emitError("unknown freeze policy '") << policy << "'";
      return signalPassFailure();
    }

    if (freezeBelow >= 0) {
      // The blocks are the model family's to say (ftc.param's `layer`,
      // from the plugin's layer_of).
      bool layered = llvm::any_of(params, [](ParamOp p) {
        std::optional<int64_t> layer = p.getBlockIndex();
        return layer && *layer >= 0;
      });
      if (!layered) {
        module.emitError("freeze_below needs a layered model: the model "
                         "family puts no parameter in a numbered block");
        return signalPassFailure();
      }
      decide = [inner = decide, below = int64_t(freezeBelow)](ParamOp p) {
        // Before every block (-1, the embeddings) or below `below`.
        if (std::optional<int64_t> layer = p.getBlockIndex();
            layer && *layer < below)
          return false;
        return inner(p);
      };
    }

    Builder b(module.getContext());
    bool anyTrainable = false;
    for (ParamOp p : params) {
      bool t = decide(p);
      anyTrainable |= t;
      p.setTrainableAttr(b.getBoolAttr(t));
    }
    if (!params.empty() && !anyTrainable) {
      module.emitError("freeze policy '")
          << policy << "' leaves no parameter trainable";
      return signalPassFailure();
    }
    if (failed(applyFrozenModes(module)))
      return signalPassFailure();
    module->setAttr("ftc.freeze_policy", b.getStringAttr(policy));
  }
};

} // namespace
