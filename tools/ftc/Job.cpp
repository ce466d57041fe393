//===- Job.cpp - A validated job: spec, plugins, datasets
//------------------===//
// SPDX-License-Identifier: Apache-2.0
#include "Job.h"
#include "CompileJob.h"

#include "ftc/runtime/Backend.h"
#include "ftc/runtime/Checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <sstream>

using namespace ftc;
using namespace ftc::tool;
namespace fs = std::filesystem;

namespace {

/// TOML basic-string literal for an override value.
std::string tomlString(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

spec::KeyType keyType(uint32_t type) {
  switch (type) {
  case FTC_KEY_INT:
    return spec::KeyType::Int;
  case FTC_KEY_FLOAT:
    return spec::KeyType::Float;
  case FTC_KEY_BOOL:
    return spec::KeyType::Bool;
  case FTC_KEY_INT_ARRAY:
    return spec::KeyType::IntArray;
  case FTC_KEY_STRING_ARRAY:
    return spec::KeyType::StringArray;
  case FTC_KEY_FLOAT_ARRAY:
    return spec::KeyType::FloatArray;
  default:
    return spec::KeyType::String;
  }
}

/// The keys a plugin declares, as schema entries.
std::vector<spec::KeyDecl> pluginKeys(const ftc_key_decl_t *keys, size_t n) {
  std::vector<spec::KeyDecl> out;
  for (size_t i = 0; keys && i < n; ++i) {
    const ftc_key_decl_t &k = keys[i];
    if (!k.name)
      continue;
    spec::KeyDecl d;
    d.name = k.name;
    d.type = keyType(k.type);
    d.required = k.flags & FTC_KEY_REQUIRED;
    d.scalarOk = k.flags & FTC_KEY_SCALAR_OR_ARRAY;
    if (k.default_toml)
      d.defaultToml = k.default_toml;
    d.min = k.min;
    d.max = k.max;
    if (k.choices) {
      std::stringstream ss(k.choices);
      for (std::string c; std::getline(ss, c, '|');)
        d.choices.push_back(c);
    }
    d.doc = k.doc ? k.doc : "";
    out.push_back(std::move(d));
  }
  return out;
}

/// A string key read before validation; empty when absent or not a string.
std::string rawString(const spec::Spec &s, const std::string &path) {
  try {
    return s.has(path) ? s.getString(path) : "";
  } catch (const std::exception &) {
    return "";
  }
}

} // namespace

bool tool::scanPlugins(plugin::PluginRegistry &registry,
                       const std::vector<std::string> &specPaths) {
  std::vector<std::string> errors;
  registry.scan(plugin::PluginRegistry::defaultSearchPath(specPaths), errors);
  for (const std::string &e : errors)
    std::cerr << "ftc: error: " << e << "\n";
  return errors.empty();
}

std::string Job::where(const std::string &path) const {
  spec::SourceLoc loc = spec_->locate(path);
  if (loc.line <= 0)
    return loc.file;
  return loc.file + ":" + std::to_string(loc.line) + ":" +
         std::to_string(loc.column);
}

void Job::error(const std::string &path, const std::string &message) const {
  std::cerr << where(path) << ": error: " << message << "\n";
}

std::string Job::outputDir() const {
  return spec_->getString("pipeline.output_dir");
}

std::unique_ptr<Job> Job::load(const JobArgs &args, bool openData) {
  auto job = std::unique_ptr<Job>(new Job());
  std::vector<std::string> overrides = args.overrides;
  if (args.outputDir)
    overrides.push_back("pipeline.output_dir=" + tomlString(*args.outputDir));

  spec::DiagnosticEngine diags;
  job->spec_ = spec::Spec::load(args.specPath, overrides, diags);
  if (!job->spec_) {
    std::cerr << diags.str();
    return nullptr;
  }
  spec::Spec &s = *job->spec_;

  // Plugins first: their keys are part of the schema.
  std::vector<std::string> extraPaths;
  try {
    if (s.has("plugins.paths"))
      extraPaths = s.getStrings("plugins.paths");
  } catch (const std::exception &) {
    // Reported with its location by validate() below.
  }
  if (!scanPlugins(job->registry_, extraPaths))
    return nullptr;

  spec::Schema schema = spec::Schema::core();
  auto findPlugin = [&](ftc_plugin_kind_t kind, const std::string &key,
                        const plugin::LoadedPlugin *&out) {
    std::string name = rawString(s, key);
    if (name.empty())
      return; // validate() reports a missing or mistyped key
    out = job->registry_.find(kind, name);
    if (out)
      return;
    std::vector<std::string> known = job->registry_.names(kind);
    std::vector<std::string> notes;
    if (auto close = spec::closestMatch(name, known))
      notes.push_back("did you mean '" + *close + "'?");
    std::string list;
    for (const std::string &k : known)
      list += (list.empty() ? "" : ", ") + k;
    notes.push_back("available " +
                    std::string(plugin::PluginRegistry::kindName(kind)) +
                    " plugins: " + (list.empty() ? "none" : list));
    diags.error(s.locate(key),
                "unknown " +
                    std::string(plugin::PluginRegistry::kindName(kind)) +
                    " plugin '" + name + "'",
                notes);
  };
  findPlugin(FTC_PLUGIN_KIND_MODEL, "model.family", job->model_);
  findPlugin(FTC_PLUGIN_KIND_DATASET, "dataset.type", job->dataset_);
  if (job->model_)
    schema.addKeys("model", pluginKeys(job->model_->model->keys,
                                       job->model_->model->num_keys));
  if (job->dataset_)
    schema.addKeys("dataset", pluginKeys(job->dataset_->dataset->keys,
                                         job->dataset_->dataset->num_keys));
  s.validate(schema, diags);
  if (diags.hasErrors()) {
    std::cerr << diags.str();
    return nullptr;
  }

  // Checks that need values from several keys or the file system.
  bool ok = true;
  if (s.has("model.checkpoint")) {
    std::string ckpt = s.getString("model.checkpoint");
    std::error_code ec;
    if (!fs::exists(ckpt, ec)) {
      job->error("model.checkpoint",
                 "checkpoint '" + ckpt + "' does not exist");
      ok = false;
    } else if (fs::is_directory(ckpt, ec) &&
               !rt::Checkpoint::isCheckpointDir(ckpt)) {
      job->error("model.checkpoint",
                 "checkpoint directory '" + ckpt +
                     "' has no model.safetensors (or sharded "
                     "model.safetensors.index.json)");
      ok = false;
    }
  }
  std::string device = s.getString("train.device");
  std::string whyNot;
  if (device == "cuda" && !rt::cudaAvailable(&whyNot)) {
    job->error("train.device", "device 'cuda' is not available: " + whyNot);
    ok = false;
  }
  if (!job->choosePrecision(device))
    ok = false;
  if (s.getInt("eval.batch_size") != s.getInt("train.batch_size")) {
    job->error("eval.batch_size",
               "eval.batch_size must equal train.batch_size: both steps "
               "share one compiled batch shape");
    ok = false;
  }
  if (!s.has("dataset.train")) {
    job->error("dataset", "missing 'dataset.train': the training split is "
                          "needed to size the model's inputs");
    ok = false;
  }
  if (!ok)
    return nullptr;

  std::string resolvedText = s.toToml();
  try {
    job->resolved_ =
        std::make_shared<const toml::table>(toml::parse(resolvedText));
  } catch (const toml::parse_error &e) {
    std::cerr << "ftc: internal error: the resolved spec does not re-parse: "
              << e.description() << "\n";
    return nullptr;
  }
  job->modelConfig_ =
      std::make_unique<plugin::TomlConfig>(job->resolved_, "model");
  job->datasetConfig_ =
      std::make_unique<plugin::TomlConfig>(job->resolved_, "dataset");
  if (openData && (!job->openSplits() || !job->resolveLabels()))
    return nullptr;
  return job;
}

bool Job::choosePrecision(const std::string &device) {
  std::string precision = spec_->getString("train.precision");
  if (precision == "fp32" || device != "cpu") {
    // A CUDA device is refused above until the CUDA backend exists.
    bf16_ = precision != "fp32";
    return true;
  }
  rt::CpuInfo cpu = rt::cpuInfo();
  if (cpu.nativeBf16()) {
    bf16_ = true;
    return true;
  }
  std::string why = "oneDNN " + cpu.onednnVersion + " dispatches to " +
                    cpu.isa +
                    " here, without AVX512-BF16 or AMX, so bf16 products "
                    "would be emulated, slower than fp32 (or not run at all)";
  if (precision == "auto") {
    std::cerr << where("train.precision")
              << ": warning: precision \"auto\": " << why
              << "; training in fp32\n";
    return true;
  }
  error("train.precision",
        "precision \"bf16\" on the CPU needs native bf16: " + why +
            ". Use \"fp32\", or \"auto\" for bf16 where the CPU has it and "
            "fp32 (with a warning) elsewhere");
  return false;
}

bool Job::openSplits() {
  auto open = [&](rt::DatasetSplit &split, const std::string &name,
                  const std::string &limitKey) {
    rt::DatasetError err;
    if (!split.open(*dataset_->dataset, datasetConfig(), name, err)) {
      error(err.key.empty() ? "dataset." + name : "dataset." + err.key,
            err.message);
      return false;
    }
    split.limit(spec_->getInt(limitKey));
    return true;
  };
  if (!open(train_, "train", "dataset.train_limit"))
    return false;
  if (spec_->has("dataset.eval") && !open(eval_, "eval", "dataset.eval_limit"))
    return false;
  // Evaluation runs the plan compiled for the train split's features (an
  // image folder's native sizes, say, can differ between the splits).
  const ftc_dataset_info_t &train = train_.info();
  for (size_t i = 0; eval_.isOpen() && i < train.num_features; ++i) {
    const ftc_feature_desc_t &want = train.features[i];
    const ftc_feature_desc_t *got = eval_.feature(want.name);
    auto dims = [](const ftc_feature_desc_t &f) {
      std::string s = "[";
      for (uint32_t d = 0; d < f.rank; ++d)
        s += (d ? ", " : "") + std::to_string(f.shape[d]);
      return s + "]";
    };
    if (!got || got->dtype != want.dtype || got->rank != want.rank ||
        !std::equal(want.shape, want.shape + want.rank, got->shape)) {
      error("dataset.eval",
            "the eval split's feature '" + std::string(want.name) + "' is " +
                (got ? dims(*got) : std::string("missing")) +
                " per example, the train split's " + dims(want) +
                ": both are fed to one compiled model");
      return false;
    }
  }
  return true;
}

bool Job::openPredict(const std::string &file, rt::DatasetSplit &split) {
  auto root = std::make_shared<toml::table>(*resolved_);
  if (toml::table *dataset = root->get_as<toml::table>("dataset"))
    dataset->insert_or_assign("predict", file);
  predictConfig_ = std::make_unique<plugin::TomlConfig>(root, "dataset");
  rt::DatasetError err;
  if (!split.open(*dataset_->dataset, *predictConfig_->config(), "predict",
                  err)) {
    std::cerr << "ftc: error: --input " << file << ": dataset plugin '"
              << dataset_->name << "': " << err.message << "\n";
    return false;
  }
  return true;
}

bool Job::resolveLabels() {
  int64_t fromData = train_.info().num_classes;
  if (eval_.isOpen())
    fromData = std::max(fromData, eval_.info().num_classes);
  int64_t declared = spec_->getInt("model.num_labels");
  if (declared > 0 && fromData > declared) {
    error("model.num_labels", "model.num_labels = " + std::to_string(declared) +
                                  " but the dataset has labels up to " +
                                  std::to_string(fromData - 1));
    return false;
  }
  numLabels_ = declared > 0 ? declared : fromData;
  return true;
}

LoraSettings ftc::tool::loraSettings(const spec::Spec &s,
                                     const plugin::LoadedPlugin &model) {
  LoraSettings l;
  l.targets = model.defaultLoraTargets();
  if (s.has("freeze.lora_rank"))
    l.rank = s.getInt("freeze.lora_rank");
  if (s.has("freeze.lora_alpha"))
    l.alpha = s.getFloat("freeze.lora_alpha");
  if (s.has("freeze.lora_dropout"))
    l.dropout = s.getFloat("freeze.lora_dropout");
  if (s.has("freeze.lora_targets"))
    l.targets = s.getStrings("freeze.lora_targets");
  if (s.has("freeze.modules_to_save"))
    l.modulesToSave = s.getStrings("freeze.modules_to_save");
  if (s.has("freeze.lora_merge"))
    l.merge = s.getBool("freeze.lora_merge");
  return l;
}

int ftc::tool::numStages(const spec::Spec &s) {
  return int(s.arraySize("freeze.stages"));
}

int64_t ftc::tool::stageFromEpoch(const spec::Spec &s, int stage) {
  return s.getInt("freeze.stages[" + std::to_string(stage) + "].from_epoch");
}
