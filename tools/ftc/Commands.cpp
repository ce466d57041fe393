//===- Commands.cpp - ftc subcommands -----------------------------------===//
// SPDX-License-Identifier: Apache-2.0
#include "Commands.h"
#include "Calibration.h"
#include "CompileJob.h"
#include "CostReport.h"
#include "Export.h"
#include "MemoryReport.h"
#include "OutputLock.h"
#include "PlanCache.h"
#include "RunReport.h"
#include "TrainerSetup.h"

#include "ftc/runtime/AtomicFile.h"
#include "ftc/runtime/Backend.h"
#include "ftc/runtime/Checkpoint.h"
#include "ftc/runtime/DataReport.h"
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

/// Runs `body`, turning runtime failures into exit code 1.
int tool::guarded(const std::function<int()> &body) {
  try {
    return body();
  } catch (const rt::Error &e) {
    std::cerr << "ftc: error: " << e.what() << "\n";
    return kUserError;
  } catch (const fs::filesystem_error &e) {
    // Unwritable output directories, full disks: the user's to fix.
    std::cerr << "ftc: error: " << e.code().message() << ": "
              << e.path1().string() << "\n";
    return kUserError;
  } catch (const std::exception &e) {
    std::cerr << "ftc: internal error: " << e.what() << "\n";
    return kUserError;
  }
}

namespace {
const char *keyTypeName(uint32_t type, uint32_t flags) {
  bool scalarOk = flags & FTC_KEY_SCALAR_OR_ARRAY;
  switch (type) {
  case FTC_KEY_INT:
    return "integer";
  case FTC_KEY_FLOAT:
    return "float";
  case FTC_KEY_BOOL:
    return "boolean";
  case FTC_KEY_INT_ARRAY:
    return scalarOk ? "integer(s)" : "integer array";
  case FTC_KEY_FLOAT_ARRAY:
    return scalarOk ? "float(s)" : "float array";
  case FTC_KEY_STRING_ARRAY:
    return "string array";
  default:
    return "string";
  }
}

/// The keys a plugin adds to its spec section, one line each.
void printKeys(const plugin::LoadedPlugin &p) {
  const ftc_key_decl_t *keys = p.model     ? p.model->keys
                               : p.dataset ? p.dataset->keys
                                           : nullptr;
  size_t n = p.model ? p.model->num_keys : p.dataset ? p.dataset->num_keys : 0;
  std::printf("%s (%s, [%s]): %s\n", p.name.c_str(),
              plugin::PluginRegistry::kindName(p.kind),
              p.kind == FTC_PLUGIN_KIND_MODEL ? "model" : "dataset",
              p.description.c_str());
  for (size_t i = 0; keys && i < n; ++i) {
    const ftc_key_decl_t &k = keys[i];
    std::string extra;
    if (k.flags & FTC_KEY_REQUIRED)
      extra = "required";
    else if (k.default_toml)
      extra = "default " + std::string(k.default_toml);
    if (k.choices)
      extra += std::string(extra.empty() ? "" : "; ") + "one of " + k.choices;
    else if (k.min <= k.max &&
             (k.type == FTC_KEY_INT || k.type == FTC_KEY_FLOAT ||
              k.type == FTC_KEY_INT_ARRAY || k.type == FTC_KEY_FLOAT_ARRAY)) {
      char range[96];
      std::snprintf(range, sizeof range, "%s%g..%g", extra.empty() ? "" : "; ",
                    k.min, k.max);
      extra += range;
    }
    std::printf("  %-28s %-14s %s%s%s%s\n", k.name,
                keyTypeName(k.type, k.flags), k.doc ? k.doc : "",
                extra.empty() ? "" : " (", extra.c_str(),
                extra.empty() ? "" : ")");
  }
}
} // namespace

bool tool::loadOrCompilePlan(Job &job, plan::Plan &p, bool &fromCache,
                             std::string &cachePath, int stage) {
  PlanCache cache(job, stage);
  cachePath = cache.path();
  std::optional<plan::Plan> cached = cache.load();
  fromCache = cached.has_value();
  if (cached) {
    p = std::move(*cached);
    return true;
  }
  std::string unused;
  if (!compileJob(job, std::nullopt, unused, p, /*withOptimizer=*/true, stage))
    return false;
  cache.store(plan::serialize(p));
  return true;
}

bool tool::loadSavedModel(Job &job, const rt::TrainerOptions &options,
                          SavedModel &model) {
  model.plan = std::make_unique<plan::Plan>();
  bool fromCache;
  std::string cachePath;
  if (!loadOrCompilePlan(job, *model.plan, fromCache, cachePath))
    return false;
  model.backend = rt::createCpuBackend(int(job.spec().getInt("train.threads")));
  model.backend->load(*model.plan);
  model.trainer =
      std::make_unique<rt::Trainer>(*model.plan, *model.backend, options);
  std::string log;
  model.trainer->initialize(log);
  std::cerr << log;
  return true;
}

int tool::runInfo() {
  rt::CpuInfo cpu = rt::cpuInfo();
  std::string whyNoCuda;
  bool cuda = rt::cudaAvailable(&whyNoCuda);
  std::cout << "ftc " << FTC_VERSION << "\n"
            << "cpu: " << (cpu.model.empty() ? "unknown" : cpu.model) << "\n"
            << "onednn: " << cpu.onednnVersion << ", isa " << cpu.isa << "\n"
            << "bf16: "
            << (cpu.amx          ? "native (AMX)"
                : cpu.avx512Bf16 ? "native (AVX512-BF16)"
                                 : "not native (no AVX512-BF16 or AMX)")
            << "\n"
            << "cuda: " << (cuda ? "available" : "no (" + whyNoCuda + ")")
            << "\n";
  return kOk;
}

int tool::runPlugins(bool keys) {
  plugin::PluginRegistry registry;
  bool ok = scanPlugins(registry, {});
  if (keys) {
    for (const plugin::LoadedPlugin &p : registry.plugins()) {
      printKeys(p);
      std::printf("\n");
    }
    return ok ? kOk : kUserError;
  }
  std::printf("%-24s %-8s %-10s %s\n", "NAME", "KIND", "VERSION", "PATH");
  for (const plugin::LoadedPlugin &p : registry.plugins())
    std::printf("%-24s %-8s %-10s %s\n", p.name.c_str(),
                plugin::PluginRegistry::kindName(p.kind), p.version.c_str(),
                p.path.c_str());
  return ok ? kOk : kUserError;
}

/// "skipped N malformed records ..." per split, or "" when none was.
std::string skippedRecordsNote(Job &job) {
  // The key that allowed it: text-classification's skip_bad_rows,
  // image-folder's on_corrupt.
  std::string allowedBy;
  for (const char *key : {"skip_bad_rows", "on_corrupt"})
    if (job.spec().has(std::string("dataset.") + key)) {
      allowedBy = std::string(" (dataset.") + key + ")";
      break;
    }
  std::string note;
  auto one = [&](const char *split, const rt::DatasetSplit *d) {
    if (int64_t n = d ? d->skippedRecords() : 0)
      note += "skipped " + std::to_string(n) + " malformed record" +
              (n == 1 ? "" : "s") + " of the " + split + " data" + allowedBy +
              "\n";
  };
  one("train", &job.trainSplit());
  one("eval", job.evalSplit());
  return note;
}

/// The train split's class names (indices where the plugin names none).
std::vector<std::string> classNames(Job &job) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < job.numLabels(); ++i)
    names.push_back(job.trainSplit().labelName(i));
  return names;
}

rt::DataReport dataReport(Job &job) {
  rt::SplitFacts train = job.trainSplit().facts();
  std::optional<rt::SplitFacts> eval;
  if (job.evalSplit())
    eval = job.evalSplit()->facts();
  return rt::buildDataReport(train, eval ? &*eval : nullptr, classNames(job));
}

int tool::runCheck(const JobArgs &args, const CommandOptions &opts) {
  return guarded([&] {
    std::unique_ptr<Job> job = Job::load(args, /*openData=*/true);
    if (!job)
      return int(kUserError);
    // Building the model catches plugin-level problems (bad hidden sizes,
    // a pattern that matches nothing) without compiling the training step.
    std::string text;
    plan::Plan unused;
    if (!compileJob(*job, std::string("freeze"), text, unused))
      return int(kUserError);
    if (opts.resolved) {
      std::cout << job->spec().toToml();
      return int(kOk);
    }
    std::cerr << args.specPath << ": ok: model '" << job->model().name
              << "', dataset '" << job->dataset().name << "' ("
              << job->trainSplit().size() << " train"
              << (job->evalSplit()
                      ? ", " + std::to_string(job->evalSplit()->size()) +
                            " eval"
                      : std::string())
              << " examples, " << job->numLabels() << " labels)\n";
    std::cerr << skippedRecordsNote(*job);
    std::cout << rt::formatDataReport(dataReport(*job));
    return int(kOk);
  });
}

int tool::runCompile(const JobArgs &args, const CommandOptions &opts) {
  return guarded([&] {
    std::unique_ptr<Job> job = Job::load(args, /*openData=*/true);
    if (!job)
      return int(kUserError);
    std::string text;
    plan::Plan p;
    int stages = numStages(job->spec());
    if (stages > 0 && opts.emit == "report") {
      // Gradual unfreezing: every stage's trainable set.
      for (int i = 0; i < stages; ++i) {
        std::string stageText;
        if (!compileJob(*job, opts.emit, stageText, p, true, i))
          return int(kUserError);
        text += "stage " + std::to_string(i + 1) + " (from epoch " +
                std::to_string(stageFromEpoch(job->spec(), i)) + "):\n" +
                stageText;
      }
    } else if (!compileJob(*job, opts.emit, text, p)) {
      return int(kUserError);
    }
    if (opts.outputFile) {
      rt::writeFileAtomic(*opts.outputFile, text);
      return int(kOk);
    }
    std::cout << text;
    return int(kOk);
  });
}

int tool::runEval(const JobArgs &args, const CommandOptions &opts) {
  return guarded([&] {
    std::unique_ptr<Job> job = Job::load(args, /*openData=*/true);
    if (!job)
      return int(kUserError);
    if (!job->evalSplit()) {
      job->error("dataset", "ftc eval needs an eval split: set dataset.eval");
      return int(kUserError);
    }
    SavedModel model;
    if (!loadSavedModel(*job, savedModelOptions(*job, *opts.checkpoint), model))
      return int(kUserError);
    std::map<std::string, double> metrics =
        model.trainer->evaluate(*job->evalSplit());
    nlohmann::ordered_json out;
    out["checkpoint"] = *opts.checkpoint;
    out["split"] = "eval";
    out["examples"] = job->evalSplit()->size();
    out["metrics"] = nlohmann::ordered_json::object();
    for (auto &[k, v] : metrics)
      out["metrics"][k] = v;
    std::cout << out.dump() << "\n";
    return int(kOk);
  });
}

/// Class names for predictions: the saved model's config.json id2label,
/// else the train split's label names, else the indices.
std::vector<std::string>
predictionLabels(Job &job, const std::string &checkpoint, int64_t classes) {
  std::vector<std::string> names(static_cast<size_t>(classes));
  for (int64_t i = 0; i < classes; ++i) {
    std::string n = job.trainSplit().labelName(i);
    names[size_t(i)] = n.empty() ? std::to_string(i) : n;
  }
  std::error_code ec;
  fs::path config = fs::path(checkpoint) / "config.json";
  if (!fs::is_regular_file(config, ec))
    return names;
  nlohmann::json j = nlohmann::json::parse(std::ifstream(config), nullptr,
                                           /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("id2label") || !j["id2label"].is_object())
    return names;
  for (auto &[k, v] : j["id2label"].items()) {
    char *end = nullptr;
    long long i = std::strtoll(k.c_str(), &end, 10);
    if (end && !*end && i >= 0 && i < classes && v.is_string())
      names[size_t(i)] = v.get<std::string>();
  }
  return names;
}

int tool::runPredict(const JobArgs &args, const CommandOptions &opts) {
  return guarded([&] {
    std::unique_ptr<Job> job = Job::load(args, /*openData=*/true);
    if (!job)
      return int(kUserError);
    rt::TrainerOptions options = savedModelOptions(*job, *opts.checkpoint);
    rt::DatasetSplit input;
    if (!job->openPredict(*opts.input, input))
      return int(kUserError);
    // The model was compiled for the train split's features: the input
    // must provide each of them (but the label) with the same shape.
    const ftc_dataset_info_t &train = job->trainSplit().info();
    for (size_t i = 0; i < train.num_features; ++i) {
      const ftc_feature_desc_t &want = train.features[i];
      if (train.label_feature && std::string(want.name) == train.label_feature)
        continue;
      const ftc_feature_desc_t *got = input.feature(want.name);
      auto dims = [](const ftc_feature_desc_t &f) {
        std::string s = "[";
        for (uint32_t d = 0; d < f.rank; ++d)
          s += (d ? ", " : "") + std::to_string(f.shape[d]);
        return s + "]";
      };
      if (!got)
        throw rt::Error("--input " + *opts.input + ": no feature '" +
                        want.name + "', which the model reads");
      if (got->rank != want.rank || got->dtype != want.dtype ||
          !std::equal(want.shape, want.shape + want.rank, got->shape))
        throw rt::Error("--input " + *opts.input + ": feature '" + want.name +
                        "' is " + dims(*got) + " per example, the model was " +
                        "compiled for " + dims(want));
    }
    SavedModel model;
    if (!loadSavedModel(*job, options, model))
      return int(kUserError);

    std::string out;
    std::vector<std::string> names;
    model.trainer->predict(
        input, [&](int64_t index, const float *logits, int64_t classes) {
          if (names.empty())
            names = predictionLabels(*job, *opts.checkpoint, classes);
          // Softmax in double, stable.
          double mx = *std::max_element(logits, logits + classes), sum = 0;
          std::vector<double> prob(static_cast<size_t>(classes));
          for (int64_t c = 0; c < classes; ++c)
            sum += prob[size_t(c)] = std::exp(double(logits[c]) - mx);
          int64_t best = std::max_element(logits, logits + classes) - logits;
          nlohmann::ordered_json line;
          line["index"] = index;
          line["label"] = names[size_t(best)];
          line["label_id"] = best;
          nlohmann::ordered_json probs = nlohmann::ordered_json::object();
          for (int64_t c = 0; c < classes; ++c)
            probs[names[size_t(c)]] = prob[size_t(c)] / sum;
          line["probabilities"] = probs;
          out += line.dump() + "\n";
        });
    if (opts.outputFile)
      rt::writeFileAtomic(*opts.outputFile, out);
    else
      std::cout << out;
    std::cerr << "predicted " << input.size() << " examples"
              << (opts.outputFile ? " -> " + *opts.outputFile : "") << "\n";
    return int(kOk);
  });
}

int tool::runPlan(const JobArgs &args) {
  return guarded([&] {
    std::unique_ptr<Job> job = Job::load(args, /*openData=*/true);
    if (!job)
      return int(kUserError);
    std::string unused;
    int stages = numStages(job->spec());
    // Gradual unfreezing: every stage's plan (each is loaded in turn).
    for (int i = 0; i < std::max(stages, 1); ++i) {
      plan::Plan p;
      if (!compileJob(*job, std::nullopt, unused, p, true, stages ? i : -1))
        return int(kUserError);
      if (stages)
        std::cout << (i ? "\n" : "") << "stage " << i + 1 << " (from epoch "
                  << stageFromEpoch(job->spec(), i) << "):\n";
      std::cout << memoryReport(p, examples(job->trainSplit()),
                                examples(job->evalSplit()));
      if (i == 0) {
        std::string note;
        plan::MachineRates rates =
            machineRates(int(job->spec().getInt("train.threads")), note);
        std::cout << costReport(*job, p, rates, note);
      }
    }
    return int(kOk);
  });
}

int tool::runTrain(const JobArgs &args) {
  return guarded([&] {
    std::unique_ptr<Job> job = Job::load(args, /*openData=*/true);
    if (!job)
      return int(kUserError);
    // Before anything is written there (plan cache, metrics, checkpoints).
    OutputLock lock;
    std::string lockError;
    if (!lock.acquire(job->outputDir(), lockError)) {
      job->error("pipeline.output_dir", lockError);
      return int(kUserError);
    }
    plan::Plan p;
    auto compileStart = std::chrono::steady_clock::now();
    bool cached;
    std::string cachePath;
    if (!loadOrCompilePlan(*job, p, cached, cachePath))
      return int(kUserError);
    double compileSeconds = std::chrono::duration<double>(
                                std::chrono::steady_clock::now() - compileStart)
                                .count();
    if (cached)
      std::cerr << "plan cache hit: " << cachePath
                << " (compilation skipped)\n";
    int64_t params = 0, trainable = 0;
    for (const plan::ParamInfo &info : p.params) {
      int64_t n = p.buffers[info.buffer].numElements();
      if (info.runningStat)
        continue; // state, not a parameter (as PyTorch counts)
      params += n;
      trainable += info.trainable ? n : 0;
    }
    int64_t arena = 0;
    for (const plan::Program &prog : p.programs)
      arena = std::max(arena, prog.arenaBytes);
    std::cerr << (cached ? "loaded " : "compiled ") << job->spec().file()
              << " in " << int(compileSeconds * 1000) << " ms: " << params
              << " parameters (" << trainable << " trainable), arena "
              << mib(arena) << "\n";

    // The spec's validation already checked the size (KeyDecl::byteSize).
    std::optional<int64_t> limit =
        spec::parseBytes(job->spec().getString("train.memory_limit"));
    int64_t needed = plan::summarizeMemory(p).totalBytes;
    if (*limit > 0 && needed > *limit) {
      std::cerr << memoryReport(p);
      job->error("train.memory_limit",
                 "the memory plan needs " + mib(needed) + ", more than the " +
                     "limit of " + mib(*limit) +
                     "; lower train.batch_size or freeze more parameters");
      return int(kUserError);
    }

    std::string outDir = job->outputDir(); // made by the lock above
    // Train from the serialised form, so what runs is exactly what the plan
    // file holds (and what another machine would load without MLIR).
    std::string serialized = plan::serialize(p);
    rt::writeFileAtomic((fs::path(outDir) / "plan.ftcp").string(), serialized);
    std::string planError;
    if (!plan::deserialize(serialized, p, planError))
      throw rt::Error("the compiled plan does not load back: " + planError);
    // Gradual unfreezing: one more plan per later stage.
    int stages = numStages(job->spec());
    std::vector<plan::Plan> stagePlans(size_t(std::max(stages - 1, 0)));
    for (int i = 1; i < stages; ++i) {
      plan::Plan &sp = stagePlans[size_t(i - 1)];
      bool stageCached;
      std::string stageCache;
      if (!loadOrCompilePlan(*job, sp, stageCached, stageCache, i))
        return int(kUserError);
      int64_t stageNeeds = plan::summarizeMemory(sp).totalBytes;
      if (*limit > 0 && stageNeeds > *limit) {
        std::cerr << memoryReport(sp);
        job->error("train.memory_limit",
                   "stage " + std::to_string(i + 1) + "'s memory plan needs " +
                       mib(stageNeeds) + ", more than the limit of " +
                       mib(*limit));
        return int(kUserError);
      }
      std::string text = plan::serialize(sp);
      rt::writeFileAtomic(
          (fs::path(outDir) / ("plan-stage" + std::to_string(i + 1) + ".ftcp"))
              .string(),
          text);
      if (!plan::deserialize(text, sp, planError))
        throw rt::Error("the compiled plan does not load back: " + planError);
    }

    std::unique_ptr<rt::Backend> backend =
        rt::createCpuBackend(int(job->spec().getInt("train.threads")));
    backend->load(p);
    rt::TrainerOptions options = trainerOptions(*job);
    setAdapterOptions(options, *job, p);
    {
      std::string note;
      JobEstimate estimate = estimateJob(
          *job, p,
          machineRates(int(job->spec().getInt("train.threads")), note));
      options.estimatedSeconds = estimate.seconds;
      options.estimatedFirstStepSeconds = estimate.stepSeconds;
      options.estimatedLaterStepSeconds =
          estimate.stepsPerEpoch
              ? estimate.laterEpochSeconds / double(estimate.stepsPerEpoch)
              : 0;
      if (estimate.steps > 0)
        std::cerr << costSummary(p) << "; an epoch about "
                  << formatSeconds(estimate.firstEpochSeconds)
                  << " of training\nestimated: about "
                  << formatSeconds(estimate.seconds) << " for "
                  << estimate.steps
                  << (estimate.steps == 1 ? " step" : " steps")
                  << (estimate.evals
                          ? " and " + std::to_string(estimate.evals) +
                                (estimate.evals == 1 ? " evaluation"
                                                     : " evaluations")
                          : std::string())
                  << " on this machine (ftc plan shows the cost)\n";
    }
    if (stages > 0) {
      options.stages.push_back({1, &p});
      for (int i = 1; i < stages; ++i)
        options.stages.push_back(
            {stageFromEpoch(job->spec(), i), &stagePlans[size_t(i - 1)]});
    }
    rt::Trainer trainer(p, *backend, options);
    std::string log;
    trainer.initialize(log);
    std::cerr << log << skippedRecordsNote(*job);
    // The data report goes into report.html; what would make the numbers
    // mean less is said now.
    rt::DataReport report = dataReport(*job);
    if (report.leakage.examples)
      std::cerr << "warning: " << report.leakage.examples
                << " eval example(s) also occur in the training data, so "
                   "eval overstates how well the model generalises (ftc "
                   "check lists them)\n";
    for (int64_t c : report.unseenLabels)
      std::cerr << "warning: eval label " << job->trainSplit().labelName(c)
                << " (class " << c << ") never occurs in the training data\n";
    rt::installStopSignalHandlers();
    rt::TrainOutcome outcome =
        trainer.train(job->trainSplit(), job->evalSplit());
    if (outcome == rt::TrainOutcome::Interrupted) {
      std::cerr << "stopped: the state is in a checkpoint in " << outDir
                << "; run the same command again to resume\n";
      return 130; // as a shell reports SIGINT
    }
    writeRunReport(outDir, p,
                   memoryReport(p, examples(job->trainSplit()),
                                examples(job->evalSplit())),
                   rt::formatDataReport(report), classNames(*job));
    std::string weights = "model.safetensors";
    if (options.adapter.enabled)
      weights = std::string("adapter_model.safetensors, adapter_config.json") +
                (options.adapter.merge ? ", merged/model.safetensors" : "");
    std::cerr << "wrote " << (fs::path(outDir) / weights).string()
              << ", config.json, metrics.jsonl and report.html\n";
    return int(kOk);
  });
}
