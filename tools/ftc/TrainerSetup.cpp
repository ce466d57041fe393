//===- TrainerSetup.cpp - The trainer options of a job --------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// The spec's keys as rt::TrainerOptions, for ftc run and for the saved-model
// commands (eval, predict), and the job hash that guards resuming.
//===----------------------------------------------------------------------===//
#include "TrainerSetup.h"
#include "CompileJob.h"
#include "Export.h"

#include "ftc/runtime/AtomicFile.h"
#include "ftc/runtime/Checkpoint.h"
#include "ftc/runtime/Trainer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <unistd.h>

using namespace ftc;
using namespace ftc::tool;
namespace fs = std::filesystem;

/// What identifies a job for resuming: the resolved spec without the keys
/// that cannot change the trained model (where outputs go, how often and how
/// many checkpoints are kept, logging, threads).
std::string tool::jobHash(const spec::Spec &s) {
  toml::table t = toml::parse(s.toToml());
  auto drop = [&](const char *section,
                  std::initializer_list<const char *> keys) {
    if (toml::table *sec = t[section].as_table())
      for (const char *k : keys)
        sec->erase(k);
  };
  drop("pipeline", {"output_dir", "name"});
  drop("checkpoint", {"every", "keep", "resume"});
  drop("eval", {"train_metrics", "overfit_evals"}); // they only observe
  drop("train", {"log_every", "threads", "memory_limit", "cache_frozen_prefix",
                 "cache_memory", "cache_disk"});
  t.erase("plugins");
  std::ostringstream os;
  os << t;
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : os.str())
    h = (h ^ c) * 0x100000001b3ull;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
  return hex;
}

int64_t tool::envSteps(const char *name) {
  const char *v = std::getenv(name);
  return v && *v ? std::atoll(v) : 0;
}

/// The LoRA output settings, when the job's freeze policy is LoRA.
void tool::setAdapterOptions(rt::TrainerOptions &o, Job &job,
                             const plan::Plan &p) {
  const spec::Spec &s = job.spec();
  if (s.getString("freeze.policy") != "lora")
    return;
  LoraSettings lora = loraSettings(s, job.model());
  o.adapter.enabled = true;
  o.adapter.scale = lora.scale();
  o.adapter.merge = lora.merge;
  o.adapter.configJson = adapterConfigJson(job, p);
}

rt::TrainerOptions tool::trainerOptions(Job &job) {
  const spec::Spec &s = job.spec();
  rt::TrainerOptions o;
  o.seed = uint64_t(s.getInt("pipeline.seed"));
  o.epochs = s.getInt("train.epochs");
  o.maxSteps = s.getInt("train.max_steps");
  o.logEvery = s.getInt("train.log_every");
  o.shuffle = s.getBool("train.shuffle");
  o.lr = s.getFloat("optimizer.lr");
  o.schedule.type = s.getString("schedule.type");
  o.schedule.warmupSteps = s.getInt("schedule.warmup_steps");
  o.schedule.warmupRatio = s.getFloat("schedule.warmup_ratio");
  o.schedule.minLrRatio = s.getFloat("schedule.min_lr_ratio");
  o.evalEverySteps = s.isInt("eval.every") ? s.getInt("eval.every") : 0;
  o.evalMetrics = s.getStrings("eval.metrics");
  o.checkpointEvery = s.isInt("checkpoint.every")
                          ? std::to_string(s.getInt("checkpoint.every"))
                          : s.getString("checkpoint.every");
  o.checkpointKeep = s.getInt("checkpoint.keep");
  o.prefixCache.memoryBytes =
      spec::parseBytes(s.getString("train.cache_memory")).value_or(0);
  o.prefixCache.diskBytes =
      spec::parseBytes(s.getString("train.cache_disk")).value_or(0);
  o.resume = s.getString("checkpoint.resume");
  o.specHash = jobHash(s);
  o.bestMetric = s.has("eval.best") ? s.getString("eval.best") : "";
  o.patience = s.getInt("eval.patience");
  o.minDelta = s.getFloat("eval.min_delta");
  o.trainMetrics = s.getBool("eval.train_metrics");
  o.overfitEvals = s.getInt("eval.overfit_evals");
  // Testing hooks: a deterministic SIGINT after step N; a crash inside the
  // checkpoint written at step N.
  o.stopAfterStep = envSteps("FTC_STOP_AFTER_STEP");
  o.crashInCheckpointAt = envSteps("FTC_CRASH_IN_CHECKPOINT");
  o.outputDir = job.outputDir();
  o.initCheckpoint =
      s.has("model.checkpoint") ? s.getString("model.checkpoint") : "";
  o.baseModelPrefix = job.model().baseModelPrefix();
  o.storedTransposed = [&model = job.model()](const std::string &name) {
    return model.storedTransposed(name);
  };
  o.configJson = modelConfigJson(job);
  o.extraFiles = tokenizerFiles(job);
  // Token-level tasks (masked-LM, token classification) read `labels`.
  if (job.trainSplit().info().label_feature)
    o.labelFeature = job.trainSplit().info().label_feature;
  else if (job.trainSplit().feature("masked_labels"))
    o.labelFeature = "masked_labels"; // masked-lm with max_predictions
  else if (job.trainSplit().feature("labels"))
    o.labelFeature = "labels";
  o.progressBar = isatty(STDERR_FILENO);
  return o;
}

/// Trainer options that load the saved model `checkpoint` (a weights
/// directory or file, or a LoRA run's adapter over the spec's base).
rt::TrainerOptions tool::savedModelOptions(Job &job,
                                           const std::string &checkpoint) {
  std::error_code ec;
  bool adapter =
      fs::exists(fs::path(checkpoint) / "adapter_model.safetensors", ec);
  if (!fs::exists(checkpoint, ec) ||
      (fs::is_directory(checkpoint, ec) &&
       !rt::Checkpoint::isCheckpointDir(checkpoint) && !adapter))
    throw rt::Error("checkpoint '" + checkpoint +
                    "' is not a model.safetensors file or a directory "
                    "holding one (or a LoRA adapter)");
  rt::TrainerOptions options = trainerOptions(job);
  if (job.spec().getString("freeze.policy") == "lora" && adapter)
    options.adapterCheckpoint = checkpoint;
  else
    options.initCheckpoint = checkpoint;
  options.resume = "never"; // exactly the weights asked for
  options.requireAllParams = true;
  return options;
}
