//===- Schema.cpp - The core job spec schema --------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Every core section and key, with types, defaults, ranges and choices.
// docs/spec.md documents the same table for users; a unit test checks that
// every key named here appears there.
//
//===----------------------------------------------------------------------===//

#include "ftc/Spec/Spec.h"

#include <algorithm>

namespace ftc::spec {

namespace {

KeyDecl key(std::string name, KeyType type, std::optional<std::string> def,
            std::string doc) {
  KeyDecl d;
  d.name = std::move(name);
  d.type = type;
  d.defaultToml = std::move(def);
  d.doc = std::move(doc);
  return d;
}

KeyDecl required(std::string name, KeyType type, std::string doc) {
  KeyDecl d = key(std::move(name), type, std::nullopt, std::move(doc));
  d.required = true;
  return d;
}

KeyDecl ranged(KeyDecl d, double min, double max) {
  d.min = min;
  d.max = max;
  return d;
}

KeyDecl byteSize(KeyDecl d) {
  d.byteSize = true;
  return d;
}

KeyDecl oneOf(KeyDecl d, std::vector<std::string> choices) {
  d.choices = std::move(choices);
  return d;
}

constexpr double kMaxSteps = 1e12;

/// [[freeze.stages]]: gradual unfreezing, one freeze setting per stage.
KeyDecl stagesKey() {
  using K = KeyType;
  KeyDecl d = key("stages", K::TableArray, std::nullopt,
                  "Gradual unfreezing: [[freeze.stages]] tables, each with "
                  "from_epoch and its own policy, trainable, frozen, "
                  "freeze_below; each stage is its own compiled plan.");
  d.fields = {
      ranged(required("from_epoch", K::Int,
                      "The first epoch of this stage (1-based; the first "
                      "stage starts at 1)."),
             1, 1e6),
      oneOf(key("policy", K::String, std::nullopt,
                "The stage's freeze policy (default \"none\")."),
            {"none", "head-only", "bitfit", "patterns"}),
      key("trainable", K::StringArray, std::nullopt,
          "With policy \"patterns\": the parameters that train."),
      key("frozen", K::StringArray, std::nullopt,
          "With policy \"patterns\": the parameters that are frozen."),
      ranged(key("freeze_below", K::Int, std::nullopt,
                 "Also freeze the embeddings and layers below N."),
             0, 1e6),
  };
  return d;
}

} // namespace

Schema Schema::core() {
  using K = KeyType;
  Schema s;
  auto add = [&](std::string section, std::vector<KeyDecl> keys) {
    s.sectionNames_.push_back(section);
    s.sections_.emplace_back(std::move(section), std::move(keys));
  };

  add("pipeline",
      {
          key("name", K::String, std::nullopt,
              "Run name; defaults to the spec file's stem."),
          ranged(key("seed", K::Int, "0",
                     "Seed for initialisation, shuffling and dropout."),
                 0, 9.2e18),
          key("output_dir", K::String, std::nullopt,
              "Where checkpoints, metrics and the plan go; defaults to "
              "runs/<name>."),
      });
  add("model",
      {
          required("family", K::String, "The model plugin to use."),
          key("checkpoint", K::String, std::nullopt,
              "HF-style directory or .safetensors file to start from."),
          key("task", K::String, std::nullopt,
              "The task head, for families with several."),
          ranged(key("num_labels", K::Int, "0",
                     "Output classes; 0 takes them from the dataset."),
                 0, 1000000),
      });
  add("dataset",
      {
          required("type", K::String, "The dataset plugin to use."),
          key("train", K::String, std::nullopt, "Training split source."),
          key("eval", K::String, std::nullopt, "Evaluation split source."),
          ranged(key("train_limit", K::Int, "0",
                     "Use only the first N training examples; 0 = all."),
                 0, 1e12),
          ranged(key("eval_limit", K::Int, "0",
                     "Use only the first N evaluation examples; 0 = all."),
                 0, 1e12),
      });
  add("freeze",
      {
          oneOf(key("policy", K::String, "\"none\"", "Which parameters train."),
                {"none", "head-only", "bitfit", "patterns", "lora"}),
          key("trainable", K::StringArray, std::nullopt,
              "With policy \"patterns\": globs of the parameters that "
              "train; all others are frozen."),
          key("frozen", K::StringArray, std::nullopt,
              "With policy \"patterns\": globs of the parameters that are "
              "frozen; all others train."),
          ranged(key("freeze_below", K::Int, std::nullopt,
                     "Layered families: also freeze the embeddings and "
                     "every layer with an index below N."),
                 0, 1e6),
          oneOf(key("batch_norm", K::String, "\"eval\"",
                    "A batch norm whose scale and shift are frozen: \"eval\" "
                    "normalises with its running statistics and leaves them "
                    "as they are (a frozen layer stays what it was); "
                    "\"train\" uses the batch's statistics and updates them."),
                {"eval", "train"}),
          ranged(key("lora_rank", K::Int, std::nullopt,
                     "With policy \"lora\": the rank r (default 8)."),
                 1, 65536),
          ranged(key("lora_alpha", K::Float, std::nullopt,
                     "With policy \"lora\": the update is scaled by "
                     "alpha / r (default 16)."),
                 1e-6, 1e6),
          ranged(key("lora_dropout", K::Float, std::nullopt,
                     "With policy \"lora\": dropout on the LoRA branch's "
                     "input (default 0)."),
                 0, 0.99),
          key("lora_targets", K::StringArray, std::nullopt,
              "With policy \"lora\": the linear modules that get LoRA, by "
              "last name component (\"query\") or glob (default: the "
              "model family's, e.g. BERT's [\"query\", \"value\"])."),
          key("modules_to_save", K::StringArray, std::nullopt,
              "With policy \"lora\": globs of parameters that also train "
              "and are saved with the adapter (default: the task head)."),
          stagesKey(),
          key("lora_merge", K::Bool, std::nullopt,
              "With policy \"lora\": also save the merged weights as "
              "model.safetensors (default false)."),
      });
  add("optimizer",
      {
          oneOf(key("type", K::String, "\"adamw\"", "The optimizer."),
                {"sgd", "adamw"}),
          ranged(key("lr", K::Float, "1e-3", "Peak learning rate."), 1e-12, 10),
          ranged(key("weight_decay", K::Float, "0.0",
                     "Decoupled (adamw) or L2 (sgd) weight decay."),
                 0, 1000),
          ranged(key("momentum", K::Float, "0.0", "SGD momentum."), 0, 1),
          ranged(key("dampening", K::Float, "0.0", "SGD dampening."), 0, 1),
          key("nesterov", K::Bool, "false", "SGD Nesterov momentum."),
          ranged(key("beta1", K::Float, "0.9", "AdamW beta1."), 0, 0.999999),
          ranged(key("beta2", K::Float, "0.999", "AdamW beta2."), 0,
                 0.999999999),
          ranged(key("eps", K::Float, "1e-8", "AdamW epsilon."), 0, 1),
          key("no_decay", K::StringArray, "[\"**.bias\", \"@norm\"]",
              "Globs of parameters that get no weight decay; \"@norm\": "
              "every normalisation's scale and shift (Hugging Face's "
              "Trainer's rule)."),
          ranged(key("layer_lr_decay", K::Float, "1.0",
                     "Layer-wise learning-rate decay: a parameter at depth d "
                     "below the head trains at lr * layer_lr_decay^d."),
                 1e-6, 1),
          ranged(key("clip_grad_norm", K::Float, "0.0",
                     "Clip the global gradient norm to this value; 0 = off."),
                 0, 1e12),
      });
  add("schedule",
      {
          oneOf(key("type", K::String, "\"constant\"",
                    "Learning-rate schedule after warmup."),
                {"constant", "linear", "cosine"}),
          ranged(key("warmup_steps", K::Int, "0", "Linear warmup steps."), 0,
                 kMaxSteps),
          ranged(key("warmup_ratio", K::Float, "0.0",
                     "Warmup as a fraction of the total steps."),
                 0, 1),
          ranged(key("min_lr_ratio", K::Float, "0.0",
                     "Final learning rate as a fraction of lr."),
                 0, 1),
      });
  add("train",
      {
          ranged(key("epochs", K::Int, "1", "Passes over the training data."),
                 1, 1000000),
          ranged(key("batch_size", K::Int, "32",
                     "Examples per micro-batch (one compiled step)."),
                 1, 1048576),
          key("fuse", K::Bool, "true",
              "Apply ftc-fuse's fusions; false compiles the unfused plan "
              "(for comparisons)."),
          oneOf(key("cache_frozen_prefix", K::String, "\"auto\"",
                    "Store the frozen prefix's outputs per example in the "
                    "first epoch and skip it later, when the compiler finds "
                    "it deterministic and worth it (--emit=report says)."),
                {"auto", "off"}),
          byteSize(key("cache_memory", K::String, "\"4GiB\"",
                       "The frozen-prefix cache's budget in memory (a size).")),
          byteSize(key("cache_disk", K::String, "\"16GiB\"",
                       "Above the memory budget, the cache's budget on disk "
                       "in the output directory (a size; \"0\" = memory "
                       "only).")),
          ranged(key("grad_accum", K::Int, "1",
                     "Micro-batches per optimizer step; the loss is "
                     "normalised over all their examples (tokens)."),
                 1, 65536),
          oneOf(key("device", K::String, "\"cpu\"", "The runtime backend."),
                {"cpu", "cuda"}),
          oneOf(key("precision", K::String, "\"fp32\"",
                    "Matrix products in fp32, or bf16 with fp32 accumulation "
                    "(fp32 master weights; an error where the device has no "
                    "native bf16); auto: bf16 where native, else fp32 with a "
                    "warning."),
                {"fp32", "bf16", "auto"}),
          ranged(key("threads", K::Int, "0", "CPU threads; 0 = all cores."), 0,
                 1024),
          ranged(key("log_every", K::Int, "50",
                     "Steps between training metrics lines."),
                 1, kMaxSteps),
          ranged(key("max_steps", K::Int, "0",
                     "Stop after this many steps; 0 = no limit."),
                 0, kMaxSteps),
          key("shuffle", K::Bool, "true",
              "Shuffle the training data every epoch."),
          byteSize(key(
              "memory_limit", K::String, "\"0\"",
              "Refuse to train when the memory plan needs more: bytes with "
              "an optional unit (\"512MiB\", \"8GiB\", \"2GB\"); \"0\" = no "
              "limit.")),
      });
  add("eval",
      {
          ranged(oneOf(key("every", K::StringOrInt, "\"epoch\"",
                           "\"epoch\" or a step count."),
                       {"epoch"}),
                 1, kMaxSteps),
          oneOf(
              key("metrics", K::StringArray, "[\"loss\", \"accuracy\"]",
                  "Metrics to compute on the evaluation split."),
              {"loss", "accuracy", "perplexity", "precision", "recall", "f1"}),
          ranged(key("batch_size", K::Int, "0",
                     "Evaluation batch size; 0 = train.batch_size."),
                 0, 1048576),
          oneOf(
              key("best", K::String, std::nullopt,
                  "Keep the checkpoint with the best value of this metric "
                  "as <output_dir>/best/."),
              {"loss", "accuracy", "perplexity", "precision", "recall", "f1"}),
          ranged(key("patience", K::Int, "0",
                     "Stop after this many evaluations without improvement; "
                     "0 = off."),
                 0, 1000000),
          ranged(key("min_delta", K::Float, "0.0",
                     "The least change that counts as an improvement for "
                     "patience."),
                 0, 1e12),
          key("train_metrics", K::Bool, "true",
              "At each evaluation also evaluate a fixed sample of the "
              "training split, as large as the eval split, the same way "
              "(train_metrics in metrics.jsonl): the train/eval gap."),
          ranged(key("overfit_evals", K::Int, "2",
                     "Warn once when eval loss has risen for this many "
                     "evaluations in a row while the training sample's "
                     "loss fell; 0 = off. Needs train_metrics."),
                 0, 1000000),
      });
  add("checkpoint",
      {
          ranged(oneOf(key("every", K::StringOrInt, "\"end\"",
                           "\"epoch\", \"end\" or a step count."),
                       {"epoch", "end"}),
                 1, kMaxSteps),
          ranged(key("keep", K::Int, "1", "Checkpoints to keep."), 1, 1000),
          key("resume", K::String, "\"auto\"",
              "\"auto\" (the newest checkpoint in output_dir), \"never\", "
              "or a checkpoint directory."),
      });
  add("plugins", {
                     key("paths", K::StringArray, "[]",
                         "Extra plugin files or directories to load."),
                 });
  return s;
}

void Schema::addKeys(const std::string &section, std::vector<KeyDecl> keys) {
  auto it = std::find_if(sections_.begin(), sections_.end(),
                         [&](const auto &s) { return s.first == section; });
  if (it == sections_.end()) {
    sectionNames_.push_back(section);
    sections_.emplace_back(section, std::vector<KeyDecl>{});
    it = std::prev(sections_.end());
  }
  std::vector<KeyDecl> &existing = it->second;
  for (KeyDecl &k : keys) {
    // A key that is already declared (by the core schema or an earlier
    // plugin) keeps its first declaration.
    bool duplicate =
        std::any_of(existing.begin(), existing.end(),
                    [&](const KeyDecl &d) { return d.name == k.name; });
    if (!duplicate)
      existing.push_back(std::move(k));
  }
}

const std::vector<KeyDecl> *Schema::keys(const std::string &section) const {
  for (const auto &s : sections_)
    if (s.first == section)
      return &s.second;
  return nullptr;
}

const KeyDecl *Schema::find(const std::string &section,
                            const std::string &key) const {
  const std::vector<KeyDecl> *ks = keys(section);
  if (!ks)
    return nullptr;
  for (const KeyDecl &d : *ks)
    if (d.name == key)
      return &d;
  return nullptr;
}

} // namespace ftc::spec
