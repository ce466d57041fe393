//===- Export.cpp - What a run writes for Hugging Face tools --------------===//
// SPDX-License-Identifier: Apache-2.0
//
// config.json, the tokenizer files and PEFT's adapter_config.json: what
// lets transformers and peft load a run's output directory.
//===----------------------------------------------------------------------===//
#include "Export.h"
#include "CompileJob.h"

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

using namespace ftc;
using namespace ftc::tool;
namespace fs = std::filesystem;

std::string tool::hfArchitecture(const plugin::LoadedPlugin &model,
                                 const std::string &task) {
  const ftc_family_info_t *family = model.family();
  const char *arch = family && family->hf_architecture
                         ? family->hf_architecture(task.c_str())
                         : nullptr;
  return arch ? arch : "";
}

/// config.json beside the weights. For Hugging Face families it is a config
/// `from_pretrained` reads: the starting checkpoint's config.json (or, from
/// scratch, the model keys, which use the same names) with the task's
/// architecture and labels. Every family also records what ftc needs to
/// rebuild the model (`ftc_family`, the resolved [model] section).
std::string tool::modelConfigJson(Job &job) {
  const spec::Spec &s = job.spec();
  std::string family = job.model().name;
  std::string task = s.has("model.task") ? s.getString("model.task") : "";
  std::string arch = hfArchitecture(job.model(), task);

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

/// PEFT's adapter_config.json for a LoRA run: the adapted modules (full
/// names, which PEFT matches exactly) and the other trainable modules as
/// modules_to_save.
std::string tool::adapterConfigJson(Job &job, const plan::Plan &p) {
  const spec::Spec &s = job.spec();
  LoraSettings lora = loraSettings(s, job.model());
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
      : task == "causal-lm"             ? nlohmann::json("CAUSAL_LM")
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
  // PEFT's flag for weights stored [in, out] (GPT-2's Conv1D): one setting
  // for the whole adapter, so the targets must agree.
  bool transposed = !targets.empty() &&
                    job.model().storedTransposed(targets.front() + ".weight");
  for (const std::string &t : targets)
    if (job.model().storedTransposed(t + ".weight") != transposed)
      throw rt::Error(
          "freeze.lora_targets: PEFT stores one fan_in_fan_out for an "
          "adapter, but '" +
          t + "' is stored " + (transposed ? "as is" : "transposed") +
          " and '" + targets.front() + "' is not");
  cfg["fan_in_fan_out"] = transposed;
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

std::string tool::readWhole(const fs::path &path) {
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
std::vector<std::pair<std::string, std::string>>
tool::tokenizerFiles(Job &job) {
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
    // The family's class; a vocab.txt is a WordPiece vocabulary anyway.
    const ftc_family_info_t *family = job.model().family();
    cfg["tokenizer_class"] = family && family->tokenizer_class
                                 ? family->tokenizer_class
                                 : "BertTokenizer";
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
