//===- CompileJob.cpp - Spec + plugins -> IR stages and a plan
//-------------===//
// SPDX-License-Identifier: Apache-2.0
#include "CompileJob.h"

#include "ftc/Conversion/FtcToPlan.h"
#include "ftc/Dialect/Ftc/IR/FtcOps.h"
#include "ftc/Dialect/Ftc/Transforms/FrozenPrefix.h"
#include "ftc/Pipelines/Pipelines.h"
#include "ftc/Plugin/ModelBuilder.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

#include <iostream>
#include <sstream>
#include <tuple>

using namespace ftc;
using namespace ftc::tool;
using namespace mlir;
namespace mf = mlir::ftc;

namespace {

/// Collects MLIR errors so they can be re-reported at a spec location.
struct DiagnosticCollector {
  explicit DiagnosticCollector(MLIRContext &ctx)
      : handler(&ctx, [this](Diagnostic &d) {
          if (d.getSeverity() == DiagnosticSeverity::Error)
            messages.push_back(d.str());
          return success();
        }) {}
  std::vector<std::string> messages;
  ScopedDiagnosticHandler handler;
};

mf::TrainingPipelineOptions pipelineOptions(const spec::Spec &s,
                                            const plugin::LoadedPlugin &model,
                                            int stage) {
  mf::TrainingPipelineOptions o;
  // The freeze keys: [freeze], or the stage's table of [[freeze.stages]].
  std::string f = stage < 0 ? std::string("freeze.")
                            : "freeze.stages[" + std::to_string(stage) + "].";
  o.freeze.policy = s.has(f + "policy") ? s.getString(f + "policy") : "none";
  if (s.has(f + "trainable"))
    for (const std::string &p : s.getStrings(f + "trainable"))
      o.freeze.trainable.push_back(p);
  if (s.has(f + "frozen"))
    for (const std::string &p : s.getStrings(f + "frozen"))
      o.freeze.frozen.push_back(p);
  if (s.has(f + "freeze_below"))
    o.freeze.freezeBelow = s.getInt(f + "freeze_below");
  o.freeze.batchNorm = s.getString("freeze.batch_norm");
  // A parameter unfrozen by a later stage starts its own step count at 1.
  o.optimizer.perParamStep = stage >= 0;
  o.optimizer.optimizer = s.getString("optimizer.type");
  o.optimizer.momentum = s.getFloat("optimizer.momentum");
  o.optimizer.dampening = s.getFloat("optimizer.dampening");
  o.optimizer.nesterov = s.getBool("optimizer.nesterov");
  o.optimizer.weightDecay = s.getFloat("optimizer.weight_decay");
  o.optimizer.beta1 = s.getFloat("optimizer.beta1");
  o.optimizer.beta2 = s.getFloat("optimizer.beta2");
  o.optimizer.eps = s.getFloat("optimizer.eps");
  for (const std::string &p : s.getStrings("optimizer.no_decay"))
    o.optimizer.noDecay.push_back(p);
  o.optimizer.layerLrDecay = s.getFloat("optimizer.layer_lr_decay");
  o.optimizer.clipGradNorm = s.getFloat("optimizer.clip_grad_norm");
  if (o.freeze.policy == "lora") {
    LoraSettings lora = loraSettings(s, model);
    o.freeze.loraRank = lora.rank;
    o.freeze.loraAlpha = lora.alpha;
    o.freeze.loraDropout = lora.dropout;
    for (const std::string &t : lora.targets)
      o.freeze.loraTargets.push_back(t);
    for (const std::string &m : lora.modulesToSave)
      o.freeze.modulesToSave.push_back(m);
  }
  o.fuse = s.getBool("train.fuse");
  o.cacheFrozenPrefix = s.getString("train.cache_frozen_prefix") != "off";
  int64_t accum = s.getInt("train.grad_accum");
  o.optimizer.gradAccum = accum;
  o.autodiff.lossWeight = accum > 1;
  return o;
}

/// The spec key a freeze failure is about.
std::string freezeKey(const spec::Spec &s, int stage) {
  if (stage >= 0)
    return "freeze.stages[" + std::to_string(stage) + "]";
  if (s.has("freeze.freeze_below"))
    return "freeze.freeze_below";
  if (s.has("freeze.trainable"))
    return "freeze.trainable";
  if (s.has("freeze.frozen"))
    return "freeze.frozen";
  return "freeze.policy";
}

std::string formatCount(int64_t n) {
  std::string s = std::to_string(n);
  for (int i = int(s.size()) - 3; i > 0; i -= 3)
    s.insert(size_t(i), ",");
  return s;
}

/// The trainable-set report: the printed proof of what the freeze policy
/// did, read from the optimized IR (updates and optimizer state included).
std::string trainableReport(ModuleOp module, const std::string &policy) {
  struct Row {
    std::string name;
    int64_t elements;
    bool trainable;
    int64_t stateBytes;
  };
  std::vector<Row> rows;
  llvm::StringMap<size_t> index;
  module.walk([&](mf::ParamOp p) {
    if (index.count(p.getName()))
      return;
    index[p.getName()] = rows.size();
    rows.push_back({p.getName().str(), p.getType().getNumElements(),
                    !p.getTrainable() || *p.getTrainable(), 0});
  });
  llvm::StringSet<llvm::MallocAllocator> updated;
  module.walk([&](Operation *op) {
    int64_t states =
        isa<mf::AdamWUpdateOp>(op) ? 2
        : isa<mf::SgdUpdateOp>(op)
            ? (cast<mf::SgdUpdateOp>(op).getMomentum().convertToDouble() != 0
                   ? 1
                   : 0)
            : -1;
    if (states < 0)
      return;
    auto p = op->getOperand(0).getDefiningOp<mf::ParamOp>();
    updated.insert(p.getName());
    Row &r = rows[index[p.getName()]];
    r.stateBytes = states * r.elements * 4;
  });
  std::ostringstream os;
  os << "trainable-set report (freeze policy '" << policy << "')\n";
  size_t width = 9;
  for (const Row &r : rows)
    width = std::max(width, r.name.size());
  char line[512];
  std::snprintf(line, sizeof line, "  %-*s  %-9s  %12s  %12s  %s\n", int(width),
                "parameter", "status", "elements", "optim bytes", "update");
  os << line;
  int64_t total = 0, trainable = 0, stateBytes = 0;
  for (const Row &r : rows) {
    bool upd = updated.contains(r.name);
    std::snprintf(line, sizeof line, "  %-*s  %-9s  %12s  %12s  %s\n",
                  int(width), r.name.c_str(),
                  r.trainable ? "trainable" : "frozen",
                  formatCount(r.elements).c_str(),
                  formatCount(r.stateBytes).c_str(), upd ? "yes" : "no");
    os << line;
    total += r.elements;
    trainable += r.trainable ? r.elements : 0;
    stateBytes += r.stateBytes;
  }
  os << "  total: " << formatCount(total) << " parameters, "
     << formatCount(trainable) << " trainable, "
     << formatCount(total - trainable) << " frozen; optimizer state "
     << formatCount(stateBytes) << " bytes\n";
  // Running statistics: state, never trained. A frozen batch norm in its
  // evaluation form (freeze.batch_norm = "eval") keeps them as they are.
  int64_t stats = 0, statElements = 0;
  llvm::StringSet<llvm::MallocAllocator> seenStats; // once, not per program
  module.walk([&](mf::RunningStatOp r) {
    if (!seenStats.insert(r.getName()).second)
      return;
    ++stats;
    statElements += r.getType().getNumElements();
  });
  if (stats) {
    auto modes = module->getAttrOfType<ArrayAttr>("ftc.frozen_eval_layers");
    int64_t evalForm = 0, trainForm = 0;
    if (modes && modes.size() == 2) {
      evalForm = cast<IntegerAttr>(modes[0]).getInt();
      trainForm = cast<IntegerAttr>(modes[1]).getInt();
    }
    os << "  running statistics: " << formatCount(stats) << " tensors, "
       << formatCount(statElements)
       << " elements (no gradient, no optimizer state, no weight decay)\n"
       << "  batch norm: " << trainForm
       << " in training mode (batch statistics, running statistics updated), "
       << evalForm
       << " frozen in eval mode (running statistics read, never updated)\n";
  }
  return os.str();
}

} // namespace

bool ::ftc::tool::isEmitStage(const std::string &stage) {
  return stage == "report" || mf::parseStage(stage).has_value();
}

bool ::ftc::tool::compileJob(Job &job, const std::optional<std::string> &emit,
                             std::string &text, plan::Plan &plan,
                             bool withOptimizer, int stage) {
  const spec::Spec &s = job.spec();
  if (stage < 0 && numStages(s) > 0)
    stage = 0; // a staged job's first plan
  MLIRContext context;
  context.loadDialect<mf::FtcDialect, func::FuncDialect>();
  DiagnosticCollector diags(context);

  spec::SourceLoc modelLoc = s.locate("model.family");
  Location loc = FileLineColLoc::get(&context, modelLoc.file, modelLoc.line,
                                     modelLoc.column);

  // The model sees the train split's features with the batch dimension.
  const ftc_dataset_info_t &info = job.trainSplit().info();
  ftc_model_context_t mctx = {};
  mctx.batch_size = s.getInt("train.batch_size");
  mctx.features = info.features;
  mctx.num_features = info.num_features;
  mctx.label_feature = info.label_feature;
  mctx.num_labels = job.numLabels();
  std::string checkpoint =
      s.has("model.checkpoint") ? s.getString("model.checkpoint") : "";
  mctx.checkpoint = checkpoint.empty() ? nullptr : checkpoint.c_str();

  mf::ModelBuildError buildError;
  OwningOpRef<ModuleOp> module = mf::buildForwardModule(
      context, loc, *job.model().model, job.modelConfig(), mctx, buildError);
  if (!module) {
    job.error(buildError.key.empty() ? "model.family"
                                     : "model." + buildError.key,
              "model plugin '" + job.model().name + "': " + buildError.message);
    return false;
  }

  std::optional<mf::Stage> last = mf::Stage::Plan;
  if (emit)
    last = *emit == "report" ? mf::Stage::Optim : mf::parseStage(*emit);
  mf::TrainingPipelineOptions options = pipelineOptions(s, job.model(), stage);
  options.bf16 = job.bf16();
  if (options.freeze.policy == "lora" && options.freeze.loraTargets.empty()) {
    job.error("freeze.policy",
              "LoRA needs freeze.lora_targets: the model family '" +
                  job.model().name + "' names no default targets");
    return false;
  }

  // Freezing first, so its errors point at the [freeze] keys.
  if (*last >= mf::Stage::Freeze) {
    PassManager pm(&context);
    mf::buildTrainingPipeline(pm, options, mf::Stage::Ftc, mf::Stage::Freeze);
    if (failed(pm.run(*module))) {
      for (const std::string &m : diags.messages)
        job.error(freezeKey(s, stage), m);
      return false;
    }
  }
  if (*last > mf::Stage::Freeze) {
    PassManager rest(&context);
    if (withOptimizer) {
      mf::buildTrainingPipeline(rest, options, mf::Stage::Freeze, *last);
    } else {
      // Gradients as they are (seeded with 1), for inspection.
      options.autodiff.lossWeight = false;
      mf::buildTrainingPipeline(rest, options, mf::Stage::Freeze,
                                mf::Stage::Train);
      if (options.bf16)
        rest.addPass(mf::createFtcMixedPrecision());
      rest.addPass(mf::createFtcPlanMemory(options.memory));
    }
    if (failed(rest.run(*module))) {
      for (const std::string &m : diags.messages)
        job.error("model.family", "compiling the model failed: " + m);
      return false;
    }
  }

  if (emit && *emit == "report") {
    text = trainableReport(*module, options.freeze.policy);
    std::string setting = s.getString("train.cache_frozen_prefix");
    text += "\nfrozen-prefix cache (train.cache_frozen_prefix = \"" + setting +
            "\")\n";
    for (auto [fn, split, input] :
         {std::tuple{plan::programs::kTrain, "training",
                     plan::programs::kCacheInput},
          std::tuple{plan::programs::kEval, "evaluation",
                     plan::programs::kEvalCacheInput}})
      if (auto step = module->lookupSymbol<func::FuncOp>(fn))
        text += mf::frozenPrefixReport(mf::analyzeFrozenPrefix(step), split,
                                       setting, input);
    return true;
  }
  if (emit && *emit != "plan") {
    llvm::raw_string_ostream os(text);
    module->print(os);
    return true;
  }
  FailureOr<plan::Plan> converted = mf::convertToPlan(*module);
  if (failed(converted)) {
    for (const std::string &m : diags.messages)
      job.error("model.family", "converting to a plan failed: " + m);
    return false;
  }
  plan = std::move(*converted);
  plan.batchSize = s.getInt("train.batch_size");
  plan.compilerVersion = FTC_VERSION;
  plan.resolvedSpec = s.toToml();
  if (emit)
    text = plan::dump(plan);
  return true;
}
