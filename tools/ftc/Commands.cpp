//===- Commands.cpp - ftc subcommands
//----------------------------------------===//
// SPDX-License-Identifier: Apache-2.0
#include "Commands.h"
#include "Calibration.h"
#include "CompileJob.h"
#include "CostReport.h"
#include "OutputLock.h"
#include "PlanCache.h"
#include "RunReport.h"

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

namespace {

/// Hugging Face architectures by family and task, for families whose
/// parameter names and config keys follow `transformers`.
std::string hfArchitecture(const std::string &family, const std::string &task) {
  if (family != "bert")
    return "";
  if (task == "masked-lm")
    return "BertForMaskedLM";
  if (task == "token-classification")
    return "BertForTokenClassification";
  return "BertForSequenceClassification";
}

/// config.json beside the weights. For Hugging Face families it is a config
/// `from_pretrained` reads: the starting checkpoint's config.json (or, from
/// scratch, the model keys, which use the same names) with the task's
/// architecture and labels. Every family also records what ftc needs to
/// rebuild the model (`ftc_family`, the resolved [model] section).
std::string modelConfigJson(Job &job) {
  const spec::Spec &s = job.spec();
  std::string family = job.model().name;
  std::string task = s.has("model.task") ? s.getString("model.task") : "";
  std::string arch = hfArchitecture(family, task);

  toml::table resolved = toml::parse(s.toToml());
  nlohmann::json modelSection = nlohmann::json::object();
  if (const toml::table *model = resolved["model"].as_table()) {
    std::ostringstream os;
    os << toml::json_formatter{*model};
    modelSection = nlohmann::json::parse(os.str());
  }

  nlohmann::json cfg = nlohmann::json::object();
  if (!arch.empty()) {
    fs::path base;
    if (s.has("model.checkpoint")) {
      fs::path ckpt = s.getString("model.checkpoint");
      base =
          (fs::is_directory(ckpt) ? ckpt : ckpt.parent_path()) / "config.json";
    }
    if (!base.empty() && fs::exists(base)) {
      std::ifstream in(base);
      cfg = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
      if (!cfg.is_object())
        throw rt::Error(base.string() + ": not a JSON object");
    } else {
      for (auto &[k, v] : modelSection.items())
        if (k != "family" && k != "checkpoint" && k != "task" &&
            k != "num_labels")
          cfg[k] = v;
    }
    cfg["model_type"] = family;
    cfg["architectures"] = nlohmann::json::array({arch});
  } else {
    cfg["model_type"] = "ftc-" + family;
  }
  cfg["ftc_family"] = family;
  if (job.trainSplit().info().label_feature && job.numLabels() > 0) {
    cfg["num_labels"] = job.numLabels();
    nlohmann::json id2label = nlohmann::json::object(),
                   label2id = nlohmann::json::object();
    for (int64_t i = 0; i < job.numLabels(); ++i) {
      std::string name = job.trainSplit().labelName(i);
      if (name.empty())
        name = arch.empty() ? std::to_string(i) : "LABEL_" + std::to_string(i);
      id2label[std::to_string(i)] = name;
      label2id[name] = i;
    }
    cfg["id2label"] = id2label;
    cfg["label2id"] = label2id;
  }
  cfg["ftc_model"] = modelSection;
  cfg["ftc_version"] = FTC_VERSION;
  return cfg.dump(2) + "\n";
}

/// What identifies a job for resuming: the resolved spec without the keys
/// that cannot change the trained model (where outputs go, how often and how
/// many checkpoints are kept, logging, threads).
std::string jobHash(const spec::Spec &s) {
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

int64_t envSteps(const char *name) {
  const char *v = std::getenv(name);
  return v && *v ? std::atoll(v) : 0;
}

/// PEFT's adapter_config.json for a LoRA run: the adapted modules (full
/// names, which PEFT matches exactly) and the other trainable modules as
/// modules_to_save.
std::string adapterConfigJson(Job &job, const plan::Plan &p) {
  const spec::Spec &s = job.spec();
  LoraSettings lora = loraSettings(s);
  auto stripSuffix = [](const std::string &name, const std::string &suffix) {
    return name.size() > suffix.size() &&
                   name.compare(name.size() - suffix.size(), suffix.size(),
                                suffix) == 0
               ? std::optional<std::string>(
                     name.substr(0, name.size() - suffix.size()))
               : std::nullopt;
  };
  std::vector<std::string> targets, saved;
  for (const plan::ParamInfo &info : p.params) {
    if (!info.trainable)
      continue;
    const std::string &name = p.buffers[size_t(info.buffer)].name;
    if (auto m = stripSuffix(name, ".lora_A.weight")) {
      targets.push_back(*m);
      continue;
    }
    if (stripSuffix(name, ".lora_B.weight"))
      continue;
    size_t dot = name.rfind('.');
    std::string module = dot == std::string::npos ? name : name.substr(0, dot);
    if (std::find(saved.begin(), saved.end(), module) == saved.end())
      saved.push_back(module);
  }
  std::string task = s.has("model.task") ? s.getString("model.task") : "";
  nlohmann::ordered_json cfg;
  cfg["peft_type"] = "LORA";
  cfg["task_type"] =
      task == "sequence-classification" ? nlohmann::json("SEQ_CLS")
      : task == "token-classification"  ? nlohmann::json("TOKEN_CLS")
                                        : nlohmann::json(nullptr);
  cfg["base_model_name_or_path"] =
      s.has("model.checkpoint")
          ? nlohmann::json(s.getString("model.checkpoint"))
          : nlohmann::json(nullptr);
  cfg["r"] = lora.rank;
  cfg["lora_alpha"] = lora.alpha;
  cfg["lora_dropout"] = lora.dropout;
  cfg["target_modules"] = targets;
  cfg["modules_to_save"] =
      saved.empty() ? nlohmann::json(nullptr) : nlohmann::json(saved);
  cfg["bias"] = "none";
  cfg["fan_in_fan_out"] = false;
  cfg["inference_mode"] = true;
  cfg["init_lora_weights"] = true;
  cfg["use_rslora"] = false;
  cfg["use_dora"] = false;
  cfg["layers_to_transform"] = nullptr;
  cfg["layers_pattern"] = nullptr;
  cfg["rank_pattern"] = nlohmann::json::object();
  cfg["alpha_pattern"] = nlohmann::json::object();
  cfg["revision"] = nullptr;
  cfg["ftc_version"] = FTC_VERSION;
  return cfg.dump(2) + "\n";
}

std::string readWhole(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  if (!in && !in.eof())
    throw rt::Error("cannot read " + path.string());
  return os.str();
}

/// The tokenizer files a saved model needs so that Hugging Face's
/// AutoTokenizer loads it from the same directory: the vocabulary the data
/// was tokenized with (dataset.tokenizer, else the model checkpoint's) as
/// vocab.txt or tokenizer.json, the checkpoint's tokenizer_config.json and
/// special_tokens_map.json when it has them, and otherwise a
/// tokenizer_config.json saying how the text was tokenized.
std::vector<std::pair<std::string, std::string>> tokenizerFiles(Job &job) {
  const spec::Spec &s = job.spec();
  std::vector<std::pair<std::string, std::string>> files;
  std::error_code ec;
  std::string source =
      s.has("dataset.tokenizer")  ? s.getString("dataset.tokenizer")
      : s.has("model.checkpoint") ? s.getString("model.checkpoint")
                                  : "";
  if (source.empty())
    return files;
  fs::path vocab = source;
  if (fs::is_directory(vocab, ec))
    vocab = fs::exists(vocab / "tokenizer.json", ec) ? vocab / "tokenizer.json"
                                                     : vocab / "vocab.txt";
  if (!fs::is_regular_file(vocab, ec))
    return files; // not a text model
  bool isJson = vocab.extension() == ".json";
  files.push_back({isJson ? "tokenizer.json" : "vocab.txt", readWhole(vocab)});
  bool haveConfig = false;
  for (const fs::path &dir :
       {vocab.parent_path(), s.has("model.checkpoint")
                                 ? fs::path(s.getString("model.checkpoint"))
                                 : fs::path()}) {
    if (dir.empty())
      continue;
    for (const char *name :
         {"tokenizer_config.json", "special_tokens_map.json"}) {
      bool have = std::any_of(files.begin(), files.end(),
                              [&](auto &f) { return f.first == name; });
      if (!have && fs::is_regular_file(dir / name, ec)) {
        files.push_back({name, readWhole(dir / name)});
        haveConfig |= std::string(name) == "tokenizer_config.json";
      }
    }
  }
  if (!haveConfig && !isJson) {
    nlohmann::ordered_json cfg;
    cfg["tokenizer_class"] = "BertTokenizer";
    cfg["do_lower_case"] =
        s.has("dataset.lowercase") ? s.getBool("dataset.lowercase") : true;
    if (s.has("dataset.max_length"))
      cfg["model_max_length"] = s.getInt("dataset.max_length");
    cfg["unk_token"] = "[UNK]";
    cfg["sep_token"] = "[SEP]";
    cfg["pad_token"] = "[PAD]";
    cfg["cls_token"] = "[CLS]";
    cfg["mask_token"] = "[MASK]";
    files.push_back({"tokenizer_config.json", cfg.dump(2) + "\n"});
  }
  return files;
}

/// The LoRA output settings, when the job's freeze policy is LoRA.
void setAdapterOptions(rt::TrainerOptions &o, Job &job, const plan::Plan &p) {
  const spec::Spec &s = job.spec();
  if (s.getString("freeze.policy") != "lora")
    return;
  LoraSettings lora = loraSettings(s);
  o.adapter.enabled = true;
  o.adapter.scale = lora.scale();
  o.adapter.merge = lora.merge;
  o.adapter.configJson = adapterConfigJson(job, p);
}

rt::TrainerOptions trainerOptions(Job &job) {
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

/// A byte count for people: B, KiB, MiB or GiB.
std::string mib(int64_t bytes) {
  char buf[32];
  if (bytes < 1024)
    std::snprintf(buf, sizeof buf, "%lld B", (long long)bytes);
  else if (bytes < (1 << 20))
    std::snprintf(buf, sizeof buf, "%.2f KiB", double(bytes) / 1024);
  else if (bytes < (int64_t(1) << 30))
    std::snprintf(buf, sizeof buf, "%.2f MiB", double(bytes) / (1 << 20));
  else
    std::snprintf(buf, sizeof buf, "%.2f GiB", double(bytes) / (1 << 30));
  return buf;
}

/// The memory plan, as `ftc plan` prints it.
std::string memoryReport(const plan::Plan &p, int64_t trainExamples = 0,
                         int64_t evalExamples = 0) {
  plan::MemorySummary m = plan::summarizeMemory(p);
  std::ostringstream os;
  auto row = [&](const std::string &what, int64_t bytes,
                 const std::string &note = "") {
    char line[256];
    std::snprintf(line, sizeof line, "  %-22s %14lld bytes  %12s%s\n",
                  what.c_str(), (long long)bytes, mib(bytes).c_str(),
                  note.c_str());
    os << line;
  };
  os << "memory plan (batch " << p.batchSize;
  if (p.gradAccum > 1)
    os << " x " << p.gradAccum << " accumulated";
  os << ", optimizer " << (p.optimizer.empty() ? "none" : p.optimizer) << ")\n";
  row("parameters", m.paramBytes,
      "  (" + mib(m.trainableParamBytes) + " trainable)");
  row("optimizer state", m.optimizerStateBytes);
  row("inputs", m.inputBytes);
  row("gradients", m.gradientBytes, "  (inside the train_step arena)");
  if (m.gradAccumBytes)
    row("gradient accumulators", m.gradAccumBytes);
  for (auto &[name, bytes] : m.arenaBytes)
    row(name + " arena", bytes, "  (activations, gradients, temporaries)");
  row("total", m.totalBytes, "  (persistent + the largest arena)");
  // The frozen-prefix caches fill as examples are seen, within their own
  // budgets (train.cache_memory, then train.cache_disk).
  for (auto [program, split, examples] :
       {std::tuple{plan::programs::kPrefix, "train", trainExamples},
        std::tuple{plan::programs::kEvalPrefix, "eval", evalExamples}}) {
    const plan::Program *prog = p.findProgram(program);
    if (!prog || examples <= 0)
      continue;
    int64_t perExample = 0;
    for (auto &[name, id] : prog->outputs)
      perExample += p.buffers[size_t(id)].bytes() / p.batchSize;
    row(std::string("prefix cache (") + split + ")", perExample * examples,
        "  (" + std::to_string(examples) + " examples x " +
            std::to_string(perExample) +
            " bytes; not in the total: train.cache_memory, then "
            "train.cache_disk)");
  }
  return os.str();
}

/// Examples of an open split (0 for none).
int64_t examples(const rt::DatasetSplit *split) {
  return split && split->isOpen() ? split->size() : 0;
}
int64_t examples(const rt::DatasetSplit &split) { return examples(&split); }

/// Runs `body`, turning runtime failures into exit code 1.
template <typename Fn> int guarded(Fn body) {
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

} // namespace

namespace {
const char *keyTypeName(uint32_t type) {
  switch (type) {
  case FTC_KEY_INT:
    return "integer";
  case FTC_KEY_FLOAT:
    return "float";
  case FTC_KEY_BOOL:
    return "boolean";
  case FTC_KEY_INT_ARRAY:
    return "integer array";
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
              k.type == FTC_KEY_INT_ARRAY)) {
      char range[96];
      std::snprintf(range, sizeof range, "%s%g..%g", extra.empty() ? "" : "; ",
                    k.min, k.max);
      extra += range;
    }
    std::printf("  %-28s %-14s %s%s%s%s\n", k.name, keyTypeName(k.type),
                k.doc ? k.doc : "", extra.empty() ? "" : " (", extra.c_str(),
                extra.empty() ? "" : ")");
  }
}
/// The job's plan: loaded from the plan cache when an identical job was
/// compiled before, else compiled and cached. False after a compile error
/// (already reported).
bool loadOrCompilePlan(Job &job, plan::Plan &p, bool &fromCache,
                       std::string &cachePath, int stage = -1) {
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

} // namespace

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
  std::string note;
  auto one = [&](const char *split, const rt::DatasetSplit *d) {
    if (int64_t n = d ? d->skippedRecords() : 0)
      note += "skipped " + std::to_string(n) + " malformed record" +
              (n == 1 ? "" : "s") + " of the " + split +
              " data (dataset.skip_bad_rows)\n";
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

/// Trainer options that load the saved model `checkpoint` (a weights
/// directory or file, or a LoRA run's adapter over the spec's base).
rt::TrainerOptions savedModelOptions(Job &job, const std::string &checkpoint) {
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

int tool::runEval(const JobArgs &args, const CommandOptions &opts) {
  return guarded([&] {
    std::unique_ptr<Job> job = Job::load(args, /*openData=*/true);
    if (!job)
      return int(kUserError);
    if (!job->evalSplit()) {
      job->error("dataset", "ftc eval needs an eval split: set dataset.eval");
      return int(kUserError);
    }
    rt::TrainerOptions options = savedModelOptions(*job, *opts.checkpoint);
    plan::Plan p;
    bool fromCache;
    std::string cachePath;
    if (!loadOrCompilePlan(*job, p, fromCache, cachePath))
      return int(kUserError);
    std::unique_ptr<rt::Backend> backend =
        rt::createCpuBackend(int(job->spec().getInt("train.threads")));
    backend->load(p);
    rt::Trainer trainer(p, *backend, options);
    std::string log;
    trainer.initialize(log);
    std::cerr << log;
    std::map<std::string, double> metrics = trainer.evaluate(*job->evalSplit());
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
    plan::Plan p;
    bool fromCache;
    std::string cachePath;
    if (!loadOrCompilePlan(*job, p, fromCache, cachePath))
      return int(kUserError);
    std::unique_ptr<rt::Backend> backend =
        rt::createCpuBackend(int(job->spec().getInt("train.threads")));
    backend->load(p);
    rt::Trainer trainer(p, *backend, options);
    std::string log;
    trainer.initialize(log);
    std::cerr << log;

    std::string out;
    std::vector<std::string> names;
    trainer.predict(
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
        std::cerr << "estimated: about " << formatSeconds(estimate.seconds)
                  << " for " << estimate.steps << " steps"
                  << (estimate.evals
                          ? " and " + std::to_string(estimate.evals) +
                                " evaluations"
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
