//===- Trainer.cpp - The training loop around a plan ----------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// Shapes are static, so every batch has exactly plan.batchSize examples:
// training drops the last partial batch of an epoch (a different one each
// epoch when shuffling); evaluation pads the last batch by repeating an
// example and ignores the padded rows when computing metrics on the host.
//===----------------------------------------------------------------------===//
#include "ftc/runtime/Trainer.h"
#include "OverfitWatch.h"
#include "PrefixCache.h"
#include "Progress.h"
#include "ftc/runtime/AtomicFile.h"
#include "ftc/runtime/Checkpoint.h"
#include "ftc/runtime/Safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <unistd.h>

using namespace ftc;
using namespace ftc::rt;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

/// Hugging Face's label for tokens that do not count (padding, unmasked).
constexpr int32_t kIgnoreIndex = -100;

/// Seeded Fisher-Yates with our own generator: the order must not depend on
/// the standard library's distribution implementations.
std::vector<int64_t> epochOrder(int64_t n, uint64_t seed, int64_t epoch,
                                bool shuffle) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  if (!shuffle)
    return order;
  uint64_t state = seed * 0x9e3779b97f4a7c15ull + uint64_t(epoch) + 1;
  auto next = [&state] {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  for (int64_t i = n - 1; i > 0; --i) {
    // Unbiased bounded draw (rejection of the short tail).
    uint64_t bound = uint64_t(i) + 1, limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t r;
    do
      r = next();
    while (r >= limit);
    std::swap(order[size_t(i)], order[size_t(r % bound)]);
  }
  return order;
}

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

/// The signal that asked for a stop, or 0. Set only by the handler (and
/// requestStop()); read between steps.
volatile std::sig_atomic_t gStopSignal = 0;

void onStopSignal(int sig) {
  if (gStopSignal) {
    // A second signal: the user means it.
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  gStopSignal = sig;
}

constexpr const char *kStateJson = "trainer_state.json";
constexpr const char *kStateTensors = "trainer_state.safetensors";
constexpr const char *kStateFormat = "ftc-trainer-state";
constexpr const char *kTempPrefix = ".tmp-";

/// "checkpoint-<digits>" -> the step; -1 for any other name.
int64_t checkpointStep(const std::string &name) {
  static const std::string prefix = "checkpoint-";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix))
    return -1;
  std::string digits = name.substr(prefix.size());
  if (digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(),
                   [](char c) { return c >= '0' && c <= '9'; }))
    return -1;
  return std::stoll(digits);
}

/// The complete training checkpoints in `dir`, oldest first. A checkpoint
/// directory only ever appears by a rename of a finished one, so holding
/// trainer_state.json is a sanity check, not the completeness criterion.
std::vector<std::pair<int64_t, fs::path>> listCheckpoints(const fs::path &dir) {
  std::vector<std::pair<int64_t, fs::path>> found;
  std::error_code ec;
  for (const fs::directory_entry &e : fs::directory_iterator(dir, ec)) {
    int64_t step = checkpointStep(e.path().filename().string());
    if (step >= 0 && e.is_directory(ec) &&
        fs::exists(e.path() / kStateJson, ec))
      found.push_back({step, e.path()});
  }
  std::sort(found.begin(), found.end());
  return found;
}

void fsyncDir(const fs::path &dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return;
  ::fsync(fd);
  ::close(fd);
}

/// Moves the finished directory `temp` to `target`, replacing an existing
/// one atomically where the file system can swap directories.
void publishDir(const fs::path &temp, const fs::path &target) {
  std::error_code ec;
  if (!fs::exists(target, ec)) {
    if (::rename(temp.c_str(), target.c_str()) != 0)
      throw Error("cannot rename " + temp.string() + " to " + target.string() +
                  ": " + std::strerror(errno));
    return;
  }
  if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, target.c_str(),
                  RENAME_EXCHANGE) == 0) {
    fs::remove_all(temp, ec); // now the old contents
    return;
  }
  // No atomic swap here: move the old one aside first.
  fs::path old = target.parent_path() /
                 (kTempPrefix + target.filename().string() + ".old");
  fs::remove_all(old, ec);
  if (::rename(target.c_str(), old.c_str()) != 0 ||
      ::rename(temp.c_str(), target.c_str()) != 0)
    throw Error("cannot replace " + target.string() + ": " +
                std::strerror(errno));
  fs::remove_all(old, ec);
}

nlohmann::ordered_json metricsObject(const std::map<std::string, double> &m) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (auto &[k, v] : m)
    j[k] = v;
  return j;
}

/// A square row-major matrix as nested arrays.
nlohmann::ordered_json matrixJson(const std::vector<int64_t> &m) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  auto n = size_t(std::lround(std::sqrt(double(m.size()))));
  for (size_t r = 0; r < n; ++r)
    rows.push_back(std::vector<int64_t>(m.begin() + long(r * n),
                                        m.begin() + long((r + 1) * n)));
  return rows;
}

} // namespace

void ftc::rt::installStopSignalHandlers() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = onStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

void ftc::rt::requestStop() { gStopSignal = SIGINT; }

bool ftc::rt::stopRequested() { return gStopSignal != 0; }

bool ftc::rt::lowerIsBetter(const std::string &metric) {
  return metric == "loss" || metric == "perplexity";
}

Trainer::Trainer(const plan::Plan &plan, Backend &backend,
                 TrainerOptions options)
    : plan_(&plan), backend_(backend), opts_(std::move(options)),
      overfit_(std::make_unique<OverfitWatch>(
          opts_.trainMetrics ? opts_.overfitEvals : 0)) {}

Trainer::~Trainer() = default;

void Trainer::bindPrefixCaches() {
  prefixCache_.reset();
  evalCache_.reset();
  PrefixCache::Budget budget{opts_.prefixCache.memoryBytes,
                             opts_.prefixCache.diskBytes, opts_.outputDir};
  auto bindOne = [&](const PrefixCache::Programs &programs, int64_t examples,
                     std::unique_ptr<PrefixCache> &slot) {
    if (examples <= 0 || !PrefixCache::planHas(*plan_, programs))
      return;
    auto cache = std::make_unique<PrefixCache>();
    std::string note;
    bool bound = cache->bind(*plan_, programs, examples, budget, note);
    std::fprintf(stderr, "%s\n", note.c_str());
    logJson(nlohmann::ordered_json{
        {"event", "prefix_cache"},
        {"split", programs.split},
        {"cached", bound},
        {"bytes_per_example", cache->bytesPerExample()},
        {"on_disk", bound && cache->onDisk()},
        {"note",
         note}}.dump());
    if (!bound)
      return;
    // What the first cache holds is not left for the second.
    (cache->onDisk() ? budget.diskBytes : budget.memoryBytes) -=
        cache->totalBytes();
    slot = std::move(cache);
  };
  bindOne(PrefixCache::kTrain, trainExamples_, prefixCache_);
  bindOne(PrefixCache::kEval, evalExamples_, evalCache_);
  if (prefixCache_)
    cachedLossId_ =
        plan_->findProgram(PrefixCache::kTrain.cached)->outputs.at("loss");
}

float Trainer::runTrainStep(const std::vector<int64_t> &indices) {
  if (prefixCache_)
    prefixCache_->run(backend_, indices);
  else
    backend_.run(plan::programs::kTrain);
  float loss = 0;
  backend_.read(prefixCache_ ? cachedLossId_ : lossId_, &loss);
  return loss;
}

void Trainer::initialize(std::string &log) {
  initializeParameters(*plan_, backend_, opts_.seed);
  std::string resumeDir;
  if (opts_.resume == "auto") {
    auto found = listCheckpoints(opts_.outputDir);
    if (!found.empty())
      resumeDir = found.back().second.string();
  } else if (!opts_.resume.empty() && opts_.resume != "never") {
    resumeDir = opts_.resume;
    if (!fs::is_directory(resumeDir))
      throw Error("checkpoint.resume: " + resumeDir + " is not a directory");
    if (!fs::exists(fs::path(resumeDir) / kStateJson))
      throw Error("checkpoint.resume: " + resumeDir +
                  " is not a training checkpoint (it has no " + kStateJson +
                  "; to start from its weights, use model.checkpoint)");
  }
  if (!resumeDir.empty()) {
    loadResume(resumeDir, log);
    return;
  }
  if (opts_.initCheckpoint.empty()) {
    if (!opts_.adapterCheckpoint.empty())
      loadAdapter(opts_.adapterCheckpoint, log);
    return;
  }
  Checkpoint file = Checkpoint::open(opts_.initCheckpoint);
  const std::string &path = file.path();
  // Hugging Face's base_model_prefix rule: a task model's "bert.x" loads
  // from a base-model checkpoint's "x", and the base model's "x" from a task
  // checkpoint's "bert.x"; the exact name always wins.
  const std::string prefix =
      opts_.baseModelPrefix.empty() ? "" : opts_.baseModelPrefix + ".";
  auto lookup = [&](const std::string &name, const SafetensorsFile *&shard,
                    std::string &source) -> const TensorInfo * {
    source = name;
    if (const TensorInfo *t = file.find(name, &shard))
      return t;
    if (prefix.empty())
      return nullptr;
    source =
        name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : prefix + name;
    return file.find(source, &shard);
  };
  std::vector<std::string> missing, used;
  size_t renamed = 0;
  for (const plan::ParamInfo &info : plan_->params) {
    const plan::Buffer &buf = plan_->buffers[info.buffer];
    const SafetensorsFile *shard = nullptr;
    std::string source;
    const TensorInfo *t = lookup(buf.name, shard, source);
    if (!t) {
      // An adapter loaded next provides the trainable tensors.
      if (opts_.adapterCheckpoint.empty() || !info.trainable)
        missing.push_back(buf.name);
      continue;
    }
    if (t->shape != buf.shape)
      throw Error(shard->path() + ": tensor '" + source + "' has shape " +
                  shapeString(t->shape) + " but the model expects " +
                  shapeString(buf.shape) +
                  (source == buf.name ? "" : " for '" + buf.name + "'"));
    std::vector<float> values = shard->readF32(*t);
    backend_.write(info.buffer, values.data());
    used.push_back(source);
    renamed += source != buf.name;
  }
  auto list = [](const std::vector<std::string> &names, size_t max = ~0ul) {
    std::string s;
    for (size_t i = 0; i < names.size() && i < max; ++i)
      s += "\n  " + names[i];
    if (names.size() > max)
      s += "\n  ... and " + std::to_string(names.size() - max) + " more";
    return s;
  };
  if (opts_.requireAllParams && !missing.empty())
    throw Error(path + " does not hold " + std::to_string(missing.size()) +
                " of the model's " + std::to_string(plan_->params.size()) +
                " parameters (loaded " + std::to_string(used.size()) +
                "); evaluating or predicting needs them all, from a model "
                "this spec trained:" +
                list(missing, 10));
  std::sort(used.begin(), used.end());
  std::vector<std::string> unexpected;
  for (const std::string &name : file.names())
    if (!std::binary_search(used.begin(), used.end(), name))
      unexpected.push_back(name);
  log += "Loaded " + std::to_string(used.size()) + " tensors from " + path;
  if (renamed)
    log += " (" + std::to_string(renamed) + " of them without the '" +
           opts_.baseModelPrefix + ".' prefix: a base-model checkpoint)";
  log += "\n";
  if (!unexpected.empty())
    log += "Some weights of the checkpoint were not used:" + list(unexpected) +
           "\n";
  if (!missing.empty())
    log += "Some weights were not in the checkpoint and are newly "
           "initialized:" +
           list(missing) + "\n";
  if (!opts_.adapterCheckpoint.empty())
    loadAdapter(opts_.adapterCheckpoint, log);
}

void Trainer::feed(const DatasetSplit &split,
                   const std::vector<int64_t> &indices) {
  const ftc_dataset_info_t &info = split.info();
  staging_.resize(info.num_features);
  std::vector<void *> buffers(info.num_features);
  std::vector<int32_t> targets(info.num_features, -1);
  for (size_t i = 0; i < info.num_features; ++i) {
    const ftc_feature_desc_t &f = info.features[i];
    auto it = plan_->featureInputs.find(f.name);
    if (it != plan_->featureInputs.end()) {
      targets[i] = it->second;
      if (void *p = backend_.hostPointer(it->second)) {
        buffers[i] = p;
        continue;
      }
    }
    int64_t count = 1;
    for (uint32_t d = 0; d < f.rank; ++d)
      count *= f.shape[d];
    staging_[i].resize(size_t(count) * indices.size() * 4);
    buffers[i] = staging_[i].data();
  }
  split.fill(indices, buffers);
  for (size_t i = 0; i < info.num_features; ++i)
    if (targets[i] >= 0 && buffers[i] == staging_[i].data())
      backend_.write(targets[i], buffers[i]);
}

void Trainer::logJson(const std::string &line) {
  std::ofstream out(fs::path(opts_.outputDir) / "metrics.jsonl", std::ios::app);
  out << line << '\n';
  if (!out)
    throw Error("cannot write " + opts_.outputDir + "/metrics.jsonl");
}

std::map<std::string, double> Trainer::evaluate(const DatasetSplit &eval) {
  return evaluateExamples(eval, nullptr);
}

std::map<std::string, double>
Trainer::evaluate(const DatasetSplit &split,
                  const std::vector<int64_t> &subset) {
  return evaluateExamples(split, &subset);
}

std::map<std::string, double>
Trainer::evaluateExamples(const DatasetSplit &eval,
                          const std::vector<int64_t> *subset) {
  // Through the frozen-prefix cache when train() set one up for this split
  // (its records are per example index of the whole split).
  PrefixCache *cache =
      &eval == evalSplit_ && !subset ? evalCache_.get() : nullptr;
  const char *stepName =
      cache ? PrefixCache::kEval.cached : plan::programs::kEval;
  const plan::Program *prog = plan_->findProgram(stepName);
  if (!prog || !prog->outputs.count("logits"))
    throw Error("the plan has no eval_step with logits");
  int32_t logitsId = prog->outputs.at("logits");
  const plan::Buffer &logitsBuf = plan_->buffers[logitsId];
  int64_t batch = plan_->batchSize, rows = logitsBuf.shape.at(0),
          classes = logitsBuf.shape.at(1);
  auto labelIt = plan_->featureInputs.find(opts_.labelFeature);
  if (labelIt == plan_->featureInputs.end())
    throw Error("the plan reads no '" + opts_.labelFeature + "' feature");
  const plan::Buffer &labelBuf = plan_->buffers[labelIt->second];
  // Sequence tasks have one logits row per example; token tasks (masked-LM,
  // token classification) one per token, with -100 marking ignored tokens.
  if (labelBuf.numElements() != rows || rows % batch != 0)
    throw Error("eval: " + std::to_string(labelBuf.numElements()) +
                " labels do not match " + std::to_string(rows) +
                " logits rows");
  int64_t rowsPerExample = rows / batch;
  std::vector<float> logits(static_cast<size_t>(rows * classes));
  std::vector<int32_t> labels(static_cast<size_t>(rows));

  // Streaming counts: per class, how often it was right, predicted and
  // true; the full confusion matrix only while it stays small (a masked-LM
  // head has a vocabulary's worth of classes).
  bool keepMatrix = classes <= kMaxConfusionClasses;
  confusion_.assign(keepMatrix ? size_t(classes * classes) : 0, 0);
  std::vector<int64_t> truePos(size_t(classes), 0),
      predicted(size_t(classes), 0), actual(size_t(classes), 0);

  double lossSum = 0;
  int64_t correct = 0, count = 0,
          n = subset ? int64_t(subset->size()) : eval.size();
  for (int64_t start = 0; start < n; start += batch) {
    int64_t valid = std::min(batch, n - start);
    std::vector<int64_t> indices(static_cast<size_t>(batch));
    for (int64_t i = 0; i < batch; ++i) {
      int64_t k = start + std::min(i, valid - 1);
      indices[size_t(i)] = subset ? (*subset)[size_t(k)] : k;
    }
    feed(eval, indices);
    if (cache)
      cache->run(backend_, indices);
    else
      backend_.run(plan::programs::kEval);
    backend_.read(logitsId, logits.data());
    backend_.read(labelIt->second, labels.data());
    for (int64_t r = 0; r < valid * rowsPerExample; ++r) {
      int32_t label = labels[size_t(r)];
      if (rowsPerExample > 1 && label == kIgnoreIndex)
        continue;
      if (label < 0 || label >= classes)
        throw Error(eval.split() + " example " +
                    std::to_string(indices[size_t(r / rowsPerExample)]) +
                    " has label " + std::to_string(label) + ", outside [0, " +
                    std::to_string(classes) + ")");
      const float *row = logits.data() + r * classes;
      int64_t best = std::max_element(row, row + classes) - row;
      double mx = row[best], sum = 0;
      for (int64_t c = 0; c < classes; ++c)
        sum += std::exp(double(row[c]) - mx);
      lossSum += mx + std::log(sum) - double(row[label]);
      correct += best == label;
      ++count;
      truePos[size_t(label)] += best == label;
      ++predicted[size_t(best)];
      ++actual[size_t(label)];
      if (keepMatrix)
        ++confusion_[size_t(label * classes + best)];
    }
  }
  double loss = count ? lossSum / double(count) : 0.0;
  lastLoss_ = loss;

  // Precision, recall and F1 (zero where undefined, as scikit-learn's
  // zero_division=0): of class 1 with two classes, else the unweighted mean
  // over the classes that occur as labels or predictions (macro).
  auto ratio = [](int64_t a, int64_t b) {
    return b ? double(a) / double(b) : 0.0;
  };
  auto f1Of = [](double p, double r) {
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
  };
  double precision = 0, recall = 0, f1 = 0;
  if (classes == 2) {
    precision = ratio(truePos[1], predicted[1]);
    recall = ratio(truePos[1], actual[1]);
    f1 = f1Of(precision, recall);
  } else {
    int64_t present = 0;
    for (size_t c = 0; c < size_t(classes); ++c) {
      if (!predicted[c] && !actual[c])
        continue;
      double p = ratio(truePos[c], predicted[c]),
             r = ratio(truePos[c], actual[c]);
      precision += p;
      recall += r;
      f1 += f1Of(p, r);
      ++present;
    }
    if (present) {
      precision /= double(present);
      recall /= double(present);
      f1 /= double(present);
    }
  }

  std::map<std::string, double> metrics;
  for (const std::string &m : opts_.evalMetrics) {
    if (m == "loss")
      metrics["loss"] = loss;
    else if (m == "accuracy")
      metrics["accuracy"] = count ? double(correct) / double(count) : 0.0;
    else if (m == "perplexity")
      metrics["perplexity"] = std::exp(loss);
    else if (m == "precision")
      metrics["precision"] = precision;
    else if (m == "recall")
      metrics["recall"] = recall;
    else if (m == "f1")
      metrics["f1"] = f1;
  }
  return metrics;
}

void Trainer::predict(
    const DatasetSplit &split,
    const std::function<void(int64_t, const float *, int64_t)> &onExample) {
  const plan::Program *prog = plan_->findProgram(plan::programs::kPredict);
  if (!prog || !prog->outputs.count("logits"))
    throw Error("the plan has no predict_step with logits (the model has no "
                "logits output)");
  int32_t logitsId = prog->outputs.at("logits");
  const plan::Buffer &logitsBuf = plan_->buffers[size_t(logitsId)];
  int64_t batch = plan_->batchSize, rows = logitsBuf.shape.at(0),
          classes = logitsBuf.shape.at(1);
  if (rows != batch)
    throw Error("predict needs one logits row per example; this model has " +
                std::to_string(rows / batch) +
                " per example (a token-level task)");
  std::vector<float> logits(size_t(rows * classes));
  int64_t n = split.size();
  for (int64_t start = 0; start < n; start += batch) {
    int64_t valid = std::min(batch, n - start);
    std::vector<int64_t> indices(static_cast<size_t>(batch));
    for (int64_t i = 0; i < batch; ++i)
      indices[size_t(i)] = start + std::min(i, valid - 1);
    feed(split, indices);
    backend_.run(plan::programs::kPredict);
    backend_.read(logitsId, logits.data());
    for (int64_t i = 0; i < valid; ++i)
      onExample(start + i, logits.data() + i * classes, classes);
  }
}

void Trainer::saveCheckpoint(const std::string &dir, bool final) {
  fs::create_directories(dir);
  for (auto &[name, contents] : opts_.extraFiles)
    writeFileAtomic((fs::path(dir) / name).string(), contents);
  if (final && opts_.adapter.enabled) {
    saveAdapter(dir);
    return;
  }
  std::vector<std::vector<float>> copies;
  copies.reserve(plan_->params.size());
  std::vector<
      std::pair<std::string, std::pair<std::vector<int64_t>, const float *>>>
      tensors;
  for (const plan::ParamInfo &info : plan_->params) {
    const plan::Buffer &buf = plan_->buffers[info.buffer];
    copies.emplace_back(static_cast<size_t>(buf.numElements()));
    backend_.read(info.buffer, copies.back().data());
    tensors.push_back({buf.name, {buf.shape, copies.back().data()}});
  }
  writeSafetensors((fs::path(dir) / "model.safetensors").string(), tensors,
                   {{"format", "pt"}, {"producer", "ftc"}});
  if (!opts_.configJson.empty())
    writeFileAtomic((fs::path(dir) / "config.json").string(), opts_.configJson);
}

void Trainer::saveAdapter(const std::string &dir) {
  std::map<std::string, std::vector<float>> values;
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const plan::ParamInfo &info : plan_->params) {
    const plan::Buffer &buf = plan_->buffers[info.buffer];
    std::vector<float> v(size_t(buf.numElements()));
    backend_.read(info.buffer, v.data());
    values[buf.name] = std::move(v);
    shapes[buf.name] = buf.shape;
  }
  using Tensors = std::vector<
      std::pair<std::string, std::pair<std::vector<int64_t>, const float *>>>;
  Tensors adapter;
  for (const plan::ParamInfo &info : plan_->params) {
    if (!info.trainable)
      continue;
    const std::string &name = plan_->buffers[info.buffer].name;
    adapter.push_back(
        {kPeftPrefix + name, {shapes[name], values[name].data()}});
  }
  writeSafetensors((fs::path(dir) / "adapter_model.safetensors").string(),
                   adapter, {{"format", "pt"}, {"producer", "ftc"}});
  writeFileAtomic((fs::path(dir) / "adapter_config.json").string(),
                  opts_.adapter.configJson);
  if (!opts_.configJson.empty())
    writeFileAtomic((fs::path(dir) / "config.json").string(), opts_.configJson);
  if (!opts_.adapter.merge)
    return;
  // Merged: W += scale · B·A for every adapted module, adapters dropped.
  static const std::string aSuffix = ".lora_A.weight",
                           bSuffix = ".lora_B.weight";
  Tensors merged;
  for (const plan::ParamInfo &info : plan_->params) {
    const std::string &name = plan_->buffers[info.buffer].name;
    auto endsWith = [&](const std::string &suffix) {
      return name.size() > suffix.size() &&
             name.compare(name.size() - suffix.size(), suffix.size(), suffix) ==
                 0;
    };
    if (endsWith(aSuffix) || endsWith(bSuffix))
      continue;
    static const std::string wSuffix = ".weight";
    if (endsWith(wSuffix)) {
      std::string module = name.substr(0, name.size() - wSuffix.size());
      auto a = values.find(module + aSuffix), b = values.find(module + bSuffix);
      if (a != values.end() && b != values.end()) {
        int64_t out = shapes[name][0], in = shapes[name][1],
                rank = shapes[a->first][0];
        std::vector<float> &w = values[name];
        for (int64_t o = 0; o < out; ++o)
          for (int64_t i = 0; i < in; ++i) {
            double sum = 0;
            for (int64_t r = 0; r < rank; ++r)
              sum += double(b->second[size_t(o * rank + r)]) *
                     double(a->second[size_t(r * in + i)]);
            w[size_t(o * in + i)] += float(opts_.adapter.scale * sum);
          }
      }
    }
    merged.push_back({name, {shapes[name], values[name].data()}});
  }
  // A directory of its own: transformers' from_pretrained treats a
  // directory holding adapter_config.json as an adapter over
  // base_model_name_or_path (the base's config, labels and all), so the
  // merged model beside the adapter would never be the one it loads.
  fs::path mergedDir = fs::path(dir) / kMergedDir;
  fs::create_directories(mergedDir);
  for (auto &[name, contents] : opts_.extraFiles)
    writeFileAtomic((mergedDir / name).string(), contents);
  writeSafetensors((mergedDir / "model.safetensors").string(), merged,
                   {{"format", "pt"}, {"producer", "ftc"}});
  if (!opts_.configJson.empty())
    writeFileAtomic((mergedDir / "config.json").string(), opts_.configJson);
}

void Trainer::loadAdapter(const std::string &dir, std::string &log) {
  SafetensorsFile file = SafetensorsFile::open(
      (fs::path(dir) / "adapter_model.safetensors").string());
  int64_t loaded = 0;
  for (const plan::ParamInfo &info : plan_->params) {
    if (!info.trainable)
      continue;
    const plan::Buffer &buf = plan_->buffers[info.buffer];
    const TensorInfo *t = file.find(kPeftPrefix + buf.name);
    if (!t)
      throw Error(file.path() + ": no tensor '" + kPeftPrefix + buf.name +
                  "': the adapter does not match this spec's LoRA settings");
    if (t->shape != buf.shape)
      throw Error(file.path() + ": tensor '" + kPeftPrefix + buf.name +
                  "' has shape " + shapeString(t->shape) +
                  " but the model expects " + shapeString(buf.shape));
    std::vector<float> v = file.readF32(*t);
    backend_.write(info.buffer, v.data());
    ++loaded;
  }
  log += "Loaded " + std::to_string(loaded) + " adapter tensors from " +
         file.path() + "\n";
}

std::string Trainer::stateJson() const {
  const State &s = state_;
  nlohmann::ordered_json j{
      {"format", kStateFormat},
      {"version", 1},
      {"global_step", step_},
      {"epoch", s.epoch},
      {"batch_in_epoch", s.cursor},
      {"steps_per_epoch", s.stepsPerEpoch},
      {"total_steps", s.totalSteps},
      {"seed", opts_.seed},
      {"spec_hash", opts_.specHash},
      {"log_window", {{"loss_sum", s.windowLoss}, {"steps", s.windowSteps}}}};
  if (s.lastEvalStep >= 0)
    j["last_eval"] = {{"step", s.lastEvalStep},
                      {"metrics", metricsObject(s.lastMetrics)},
                      {"confusion_matrix", matrixJson(s.lastConfusion)}};
  else
    j["last_eval"] = nullptr;
  std::string tracked = !opts_.bestMetric.empty() ? opts_.bestMetric
                        : opts_.patience > 0      ? "loss"
                                                  : "";
  if (s.hasBest)
    j["best"] = {{"metric", tracked},
                 {"value", s.bestValue},
                 {"step", s.bestStep},
                 {"evals_without_improvement", s.badEvals}};
  else
    j["best"] = nullptr;
  j["metrics_jsonl_bytes"] = s.metricsBytes;
  j["overfit_watch"] = overfit_->toJson();
  return j.dump(2) + "\n";
}

void Trainer::saveTrainingCheckpoint(const std::string &dir) {
  fs::path target = fs::path(dir).lexically_normal();
  if (target.filename().empty())
    target = target.parent_path();
  fs::path parent =
      target.parent_path().empty() ? fs::path(".") : target.parent_path();
  fs::create_directories(parent);
  fs::path temp = parent / (kTempPrefix + target.filename().string() + "-" +
                            std::to_string(::getpid()));
  fs::remove_all(temp);
  fs::create_directories(temp);

  saveCheckpoint(temp.string());
  std::vector<std::vector<float>> copies;
  std::vector<
      std::pair<std::string, std::pair<std::vector<int64_t>, const float *>>>
      tensors;
  for (size_t id = 0; id < plan_->buffers.size(); ++id) {
    const plan::Buffer &buf = plan_->buffers[id];
    if (buf.kind != plan::BufferKind::OptState)
      continue;
    if (buf.dtype != plan::DType::F32)
      throw Error("optimizer state '" + buf.name + "' is not f32");
    copies.emplace_back(static_cast<size_t>(buf.numElements()));
    backend_.read(int32_t(id), copies.back().data());
    tensors.push_back({buf.name, {buf.shape, copies.back().data()}});
  }
  writeSafetensors((temp / kStateTensors).string(), tensors,
                   {{"format", "pt"}, {"producer", "ftc"}});
  std::error_code ec;
  auto bytes = fs::file_size(fs::path(opts_.outputDir) / "metrics.jsonl", ec);
  state_.metricsBytes = ec ? 0 : int64_t(bytes);
  // Written last: a directory with trainer_state.json is whole.
  writeFileAtomic((temp / kStateJson).string(), stateJson());
  if (opts_.crashInCheckpointAt == step_)
    ::kill(::getpid(), SIGKILL); // testing: a crash before publishing
  publishDir(temp, target);
  fsyncDir(parent);
}

void Trainer::loadResume(const std::string &dir, std::string &log) {
  fs::path statePath = fs::path(dir) / kStateJson;
  std::ifstream in(statePath);
  nlohmann::json j =
      nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("format", "") != kStateFormat ||
      j.value("version", 0) != 1)
    throw Error(statePath.string() + ": not an ftc trainer state (version 1)");
  try {
    std::string hash = j.at("spec_hash").get<std::string>();
    if (!opts_.specHash.empty() && hash != opts_.specHash)
      throw Error(
          dir + " is a checkpoint of a different job (spec hash " + hash +
          ", this job's is " + opts_.specHash +
          "): resuming would not continue that run. Use the spec it was "
          "written with, another pipeline.output_dir, or checkpoint.resume "
          "= \"never\" to start afresh");
    if (j.at("seed").get<uint64_t>() != opts_.seed)
      throw Error(dir + " was written with pipeline.seed " +
                  std::to_string(j.at("seed").get<uint64_t>()) +
                  ", this job has " + std::to_string(opts_.seed));
    step_ = j.at("global_step").get<int64_t>();
    State s;
    s.epoch = j.at("epoch").get<int64_t>();
    s.cursor = j.at("batch_in_epoch").get<int64_t>();
    s.stepsPerEpoch = j.at("steps_per_epoch").get<int64_t>();
    s.totalSteps = j.at("total_steps").get<int64_t>();
    s.windowLoss = j.at("log_window").at("loss_sum").get<double>();
    s.windowSteps = j.at("log_window").at("steps").get<int64_t>();
    if (const auto &e = j.at("last_eval"); e.is_object()) {
      s.lastEvalStep = e.at("step").get<int64_t>();
      for (auto &[k, v] : e.at("metrics").items())
        s.lastMetrics[k] = v.get<double>();
      for (const auto &row : e.at("confusion_matrix"))
        for (const auto &v : row)
          s.lastConfusion.push_back(v.get<int64_t>());
    }
    if (const auto &b = j.at("best"); b.is_object()) {
      s.hasBest = true;
      s.bestValue = b.at("value").get<double>();
      s.bestStep = b.at("step").get<int64_t>();
      s.badEvals = b.at("evals_without_improvement").get<int64_t>();
    }
    s.metricsBytes = j.at("metrics_jsonl_bytes").get<int64_t>();
    if (j.contains("overfit_watch")) // since the data/cost issue (#16)
      overfit_->fromJson(j.at("overfit_watch"));
    // The stage of the next step's epoch owns the state to load.
    enterStage(stageOf(s.cursor == s.stepsPerEpoch ? s.epoch + 1 : s.epoch),
               s.epoch, /*log=*/false);
    state_ = std::move(s);
  } catch (const nlohmann::json::exception &e) {
    throw Error(statePath.string() + ": malformed trainer state: " + e.what());
  }

  // Every parameter and every optimizer state tensor, by name and shape.
  auto load = [&](const SafetensorsFile &file, int32_t id) {
    const plan::Buffer &buf = plan_->buffers[size_t(id)];
    const TensorInfo *t = file.find(buf.name);
    if (!t)
      throw Error(file.path() + ": no tensor '" + buf.name +
                  "' to resume from");
    if (t->shape != buf.shape)
      throw Error(file.path() + ": tensor '" + buf.name + "' has shape " +
                  shapeString(t->shape) + " but the model expects " +
                  shapeString(buf.shape));
    std::vector<float> values = file.readF32(*t);
    backend_.write(id, values.data());
  };
  SafetensorsFile weights =
      SafetensorsFile::open((fs::path(dir) / "model.safetensors").string());
  for (const plan::ParamInfo &info : plan_->params)
    load(weights, info.buffer);
  SafetensorsFile optState =
      SafetensorsFile::open((fs::path(dir) / kStateTensors).string());
  for (size_t id = 0; id < plan_->buffers.size(); ++id)
    if (plan_->buffers[id].kind == plan::BufferKind::OptState)
      load(optState, int32_t(id));
  resumedFrom_ = dir;
  log += "Resuming from " + dir + " (step " + std::to_string(step_) +
         ", epoch " + std::to_string(state_.epoch) + ", batch " +
         std::to_string(state_.cursor) + " of " +
         std::to_string(state_.stepsPerEpoch) + ")\n";
}

void Trainer::setStep(int64_t step, float lr, int64_t rngCounter) {
  // A plan compiled without an optimizer (for inspection) has no lr/step.
  setScalar("lr", lr);
  setScalar("step", float(step));
  // Dropout masks are a function of (seed, counter, op, element); the
  // counter is the step, or the micro-batch with gradient accumulation.
  if (int32_t rngId = plan_->findBuffer("rng"); rngId >= 0) {
    int32_t rng[2] = {int32_t(uint32_t(opts_.seed ^ (opts_.seed >> 32))),
                      int32_t(rngCounter < 0 ? step : rngCounter)};
    backend_.write(rngId, rng);
  }
}

size_t Trainer::stageOf(int64_t epoch) const {
  size_t stage = 0;
  for (size_t i = 0; i < opts_.stages.size(); ++i)
    if (opts_.stages[i].first <= epoch)
      stage = i;
  return stage;
}

void Trainer::enterStage(size_t stage, int64_t epoch, bool log) {
  if (stage == stage_ || opts_.stages.empty())
    return;
  const plan::Plan &next = *opts_.stages[stage].second;
  // Everything that persists across steps, by name.
  std::map<std::string, std::vector<float>> kept;
  for (size_t id = 0; id < plan_->buffers.size(); ++id) {
    const plan::Buffer &b = plan_->buffers[id];
    if (b.kind != plan::BufferKind::Param &&
        b.kind != plan::BufferKind::OptState)
      continue;
    std::vector<float> v(size_t(b.numElements()));
    backend_.read(int32_t(id), v.data());
    kept[b.name] = std::move(v);
  }
  backend_.load(next);
  plan_ = &next;
  stage_ = stage;
  int64_t carried = 0, fresh = 0, trainable = 0;
  for (size_t id = 0; id < next.buffers.size(); ++id) {
    const plan::Buffer &b = next.buffers[id];
    if (b.kind != plan::BufferKind::Param &&
        b.kind != plan::BufferKind::OptState)
      continue;
    auto it = kept.find(b.name);
    if (it == kept.end() || int64_t(it->second.size()) != b.numElements()) {
      if (b.kind == plan::BufferKind::Param)
        throw Error("stage " + std::to_string(stage + 1) + " has parameter '" +
                    b.name + "', which the previous stage lacks");
      ++fresh; // new optimizer state starts at zero, as in PyTorch
      continue;
    }
    backend_.write(int32_t(id), it->second.data());
    carried += b.kind == plan::BufferKind::OptState;
  }
  for (const plan::ParamInfo &info : next.params)
    trainable +=
        info.trainable ? next.buffers[size_t(info.buffer)].numElements() : 0;
  const plan::Program *prog = next.findProgram(plan::programs::kTrain);
  if (!prog || !prog->outputs.count("loss"))
    throw Error("the plan of stage " + std::to_string(stage + 1) +
                " has no train_step with a loss");
  lossId_ = prog->outputs.at("loss");
  bindPrefixCaches();
  if (!log)
    return;
  nlohmann::ordered_json event{{"event", "stage"},
                               {"epoch", epoch},
                               {"stage", stage + 1},
                               {"trainable_parameters", trainable},
                               {"optimizer_states_kept", carried},
                               {"optimizer_states_new", fresh}};
  logJson(event.dump());
  std::fprintf(stderr,
               "stage %zu from epoch %lld: %lld parameters train (%lld "
               "optimizer states kept, %lld new)\n",
               stage + 1, (long long)epoch, (long long)trainable,
               (long long)carried, (long long)fresh);
}

void Trainer::setScalar(const char *name, float value) {
  if (int32_t id = plan_->findBuffer(name); id >= 0)
    backend_.write(id, &value);
}

int64_t Trainer::countedLabels() {
  auto it = plan_->featureInputs.find(opts_.labelFeature);
  if (it == plan_->featureInputs.end())
    return plan_->batchSize;
  const plan::Buffer &buf = plan_->buffers[size_t(it->second)];
  // Sequence tasks: one label per example, each counts. Token tasks: the
  // tokens not labelled -100, as the loss counts them.
  if (buf.numElements() == plan_->batchSize)
    return plan_->batchSize;
  std::vector<int32_t> labels(size_t(buf.numElements()));
  backend_.read(it->second, labels.data());
  return std::count_if(labels.begin(), labels.end(),
                       [](int32_t l) { return l != kIgnoreIndex; });
}

float Trainer::runOptimizerStep(const DatasetSplit &train,
                                const std::vector<int64_t> &indices, float lr) {
  int64_t batch = plan_->batchSize, micro = plan_->gradAccum;
  auto microIndices = [&](int64_t i) {
    return std::vector<int64_t>(indices.begin() + i * batch,
                                indices.begin() + (i + 1) * batch);
  };
  if (micro == 1) {
    feed(train, indices);
    setStep(step_, lr);
    return runTrainStep(indices);
  }
  // Each micro-batch's mean loss is weighted by its share of the counted
  // examples (tokens) of the whole step, so the accumulated gradient is the
  // gradient of the mean over all of them, as one big batch would give.
  std::vector<int64_t> counts(size_t(micro), batch);
  auto labelIt = plan_->featureInputs.find(opts_.labelFeature);
  if (labelIt != plan_->featureInputs.end() &&
      plan_->buffers[size_t(labelIt->second)].numElements() != batch)
    for (int64_t i = 0; i < micro; ++i) {
      feed(train, microIndices(i));
      counts[size_t(i)] = countedLabels();
    }
  int64_t total = std::accumulate(counts.begin(), counts.end(), int64_t(0));
  double stepLoss = 0;
  for (int64_t i = 0; i < micro; ++i) {
    std::vector<int64_t> part = microIndices(i);
    feed(train, part);
    // Dropout streams differ per micro-batch: (seed, micro-batch counter).
    setStep(step_, lr, (step_ - 1) * micro + i + 1);
    float weight =
        total ? float(double(counts[size_t(i)]) / double(total)) : 0.f;
    setScalar("loss_weight", weight);
    setScalar("accum_keep", i == 0 ? 0.f : 1.f);
    float loss = runTrainStep(part);
    stepLoss += double(weight) * double(loss);
  }
  backend_.run(plan::programs::kOptimizer);
  return float(stepLoss);
}

TrainOutcome Trainer::train(const DatasetSplit &train,
                            const DatasetSplit *eval) {
  // Examples per optimizer step.
  int64_t batch = plan_->batchSize * plan_->gradAccum;
  int64_t stepsPerEpoch = train.size() / batch;
  if (stepsPerEpoch == 0)
    throw Error("the training split has " + std::to_string(train.size()) +
                " examples, fewer than one optimizer step of " +
                std::to_string(batch) +
                (plan_->gradAccum > 1
                     ? " (" + std::to_string(plan_->batchSize) + " x " +
                           std::to_string(plan_->gradAccum) + " micro-batches)"
                     : std::string()));
  int64_t total = opts_.epochs * stepsPerEpoch;
  if (opts_.maxSteps > 0)
    total = std::min(total, opts_.maxSteps);
  const plan::Program *prog = plan_->findProgram(plan::programs::kTrain);
  if (!prog || !prog->outputs.count("loss"))
    throw Error("the plan has no train_step with a loss");
  lossId_ = prog->outputs.at("loss");

  // The metric that decides the best checkpoint and early stopping.
  std::string tracked = !opts_.bestMetric.empty() ? opts_.bestMetric
                        : opts_.patience > 0      ? "loss"
                                                  : "";
  if (!tracked.empty()) {
    if (!eval)
      throw Error(std::string(opts_.bestMetric.empty() ? "eval.patience"
                                                       : "eval.best") +
                  " needs an evaluation split (dataset.eval)");
    if (std::find(opts_.evalMetrics.begin(), opts_.evalMetrics.end(),
                  tracked) == opts_.evalMetrics.end())
      throw Error("eval.best: '" + tracked +
                  "' is not computed; add it to eval.metrics");
  }
  int64_t checkpointSteps = 0;
  if (opts_.checkpointEvery != "end" && opts_.checkpointEvery != "epoch")
    checkpointSteps = std::stoll(opts_.checkpointEvery);

  fs::path outDir(opts_.outputDir);
  fs::create_directories(outDir);
  // What a crash inside a checkpoint write left behind.
  {
    std::error_code ec;
    for (const fs::directory_entry &e : fs::directory_iterator(outDir, ec))
      if (e.path().filename().string().rfind(kTempPrefix, 0) == 0 &&
          e.is_directory(ec))
        fs::remove_all(e.path(), ec);
  }
  fs::path metricsPath = outDir / "metrics.jsonl";
  bool resumed = !resumedFrom_.empty(), resumedHere = false;
  bool alreadyStopped = false; // resumed from the checkpoint of an early stop
  if (resumed) {
    std::error_code ec;
    fs::path from = fs::weakly_canonical(resumedFrom_, ec);
    resumedHere = !ec && from.parent_path() == fs::weakly_canonical(outDir, ec);
  }
  // The output directory holds one run: unless this one continues from a
  // checkpoint in it, the checkpoints there are an earlier run's, which
  // `auto` would later resume and `keep` would count.
  if (!resumedHere) {
    std::vector<fs::path> stale;
    for (auto &[step, dir] : listCheckpoints(outDir))
      stale.push_back(dir);
    if (fs::exists(outDir / "best" / kStateJson))
      stale.push_back(outDir / "best");
    for (const fs::path &dir : stale)
      fs::remove_all(dir);
    if (!stale.empty())
      std::fprintf(stderr,
                   "removed %zu checkpoint(s) of an earlier run in %s\n",
                   stale.size(), outDir.c_str());
  }
  if (resumed) {
    if (state_.totalSteps != total || state_.stepsPerEpoch != stepsPerEpoch)
      throw Error(resumedFrom_ + " was written by a run of " +
                  std::to_string(state_.totalSteps) + " steps (" +
                  std::to_string(state_.stepsPerEpoch) +
                  " per epoch); this one has " + std::to_string(total) + " (" +
                  std::to_string(stepsPerEpoch) +
                  " per epoch): did the data change?");
    // Resuming a checkpoint of this output directory cuts metrics.jsonl back
    // to what it held then, so every step is logged once.
    std::error_code ec;
    if (resumedHere &&
        fs::file_size(metricsPath, ec) >= uint64_t(state_.metricsBytes) && !ec)
      fs::resize_file(metricsPath, uint64_t(state_.metricsBytes), ec);
    alreadyStopped = step_ < total && opts_.patience > 0 &&
                     state_.badEvals >= opts_.patience;
    if (step_ >= total || alreadyStopped)
      std::fprintf(
          stderr,
          "the job in %s is already complete (%s at step %lld of %lld, from "
          "%s): nothing to train. To train again from scratch, use --set "
          "checkpoint.resume=never or another --output-dir.\n",
          outDir.c_str(), alreadyStopped ? "stopped early" : "finished",
          (long long)step_, (long long)total, resumedFrom_.c_str());
    nlohmann::ordered_json event{{"event", "resume"},
                                 {"checkpoint", resumedFrom_},
                                 {"epoch", state_.epoch},
                                 {"step", step_},
                                 {"steps", total}};
    logJson(event.dump());
  } else {
    // A fresh run starts a fresh metrics log.
    std::ofstream(metricsPath, std::ios::trunc);
    state_ = State{};
    state_.totalSteps = total;
    state_.stepsPerEpoch = stepsPerEpoch;
    nlohmann::ordered_json start{
        {"event", "start"},
        {"train_examples", train.size()},
        {"eval_examples", eval ? eval->size() : 0},
        {"batch_size", batch},
        {"steps", total},
        {"steps_per_epoch", stepsPerEpoch},
        {"skipped_records",
         {{"train", train.skippedRecords()},
          {"eval", eval ? eval->skippedRecords() : 0}}}};
    if (opts_.estimatedSeconds > 0) {
      start["estimated_seconds"] = opts_.estimatedSeconds;
      start["estimated_step_seconds"] = {
          {"first_epoch", opts_.estimatedFirstStepSeconds},
          {"later_epochs", opts_.estimatedLaterStepSeconds}};
    }
    logJson(start.dump());
  }

  // After the start (or resume) event: the caches log theirs.
  trainExamples_ = train.size();
  evalSplit_ = eval;
  evalExamples_ = eval ? eval->size() : 0;
  bindPrefixCaches();

  Progress progress(opts_.progressBar, total, step_);
  // The training examples evaluated beside the eval split: a fixed sample
  // (a function of the seed) as large as the eval split.
  std::vector<int64_t> trainSample;
  if (eval && opts_.trainMetrics) {
    trainSample = epochOrder(train.size(), opts_.seed ^ 0x7261696e5361ull, 0,
                             /*shuffle=*/true);
    trainSample.resize(size_t(std::min(train.size(), eval->size())));
    std::sort(trainSample.begin(), trainSample.end());
  }
  // Said once, in the log and in metrics.jsonl (report.html marks it).
  auto reportOverfitting = [&](const OverfitWatch::Signal &sig, int64_t epoch) {
    bool bestKept = opts_.bestMetric == "loss";
    std::string keep =
        bestKept ? "; that checkpoint is kept in " + (outDir / "best").string()
        : opts_.bestMetric.empty()
            ? "; set eval.best = \"loss\" to keep that checkpoint"
            : "; the best checkpoint by " + opts_.bestMetric + " (step " +
                  std::to_string(state_.bestStep) + ") is in " +
                  (outDir / "best").string();
    std::string stop = opts_.patience > 0
                           ? ""
                           : "; set eval.patience (e.g. " +
                                 std::to_string(sig.evals) +
                                 ") to stop early when it happens";
    std::fprintf(stderr,
                 "overfitting: eval loss has risen for %lld evaluations "
                 "(%.4f at step %lld -> %.4f) while training loss fell "
                 "(%.4f -> %.4f); the lowest eval loss, %.4f, was at step "
                 "%lld%s%s\n",
                 (long long)sig.evals, sig.from.evalLoss,
                 (long long)sig.from.step, sig.to.evalLoss, sig.from.trainLoss,
                 sig.to.trainLoss, sig.lowest.evalLoss,
                 (long long)sig.lowest.step, keep.c_str(), stop.c_str());
    nlohmann::ordered_json event{
        {"event", "overfitting"},
        {"epoch", epoch},
        {"step", step_},
        {"evals", sig.evals},
        {"since_step", sig.from.step},
        {"eval_loss", {{"from", sig.from.evalLoss}, {"to", sig.to.evalLoss}}},
        {"train_loss",
         {{"from", sig.from.trainLoss}, {"to", sig.to.trainLoss}}},
        {"lowest_eval_loss",
         {{"step", sig.lowest.step}, {"value", sig.lowest.evalLoss}}},
        {"best_checkpoint",
         bestKept ? nlohmann::ordered_json((outDir / "best").string())
                  : nlohmann::ordered_json()},
        {"early_stopping", opts_.patience > 0}};
    logJson(event.dump());
  };
  // Evaluates; true when eval.patience has run out.
  auto runEval = [&](int64_t epoch) {
    std::map<std::string, double> trainMetrics;
    double trainLoss = 0;
    if (!trainSample.empty()) {
      trainMetrics = evaluate(train, trainSample);
      trainLoss = lastLoss_;
    }
    std::map<std::string, double> metrics = evaluate(*eval);
    state_.lastMetrics = metrics;
    state_.lastConfusion = confusion_;
    state_.lastEvalStep = step_;
    nlohmann::ordered_json event{{"event", "eval"},
                                 {"epoch", epoch},
                                 {"step", step_},
                                 {"split", "eval"},
                                 {"metrics", metricsObject(metrics)}};
    if (!trainSample.empty()) {
      event["train_examples"] = trainSample.size();
      event["train_metrics"] = metricsObject(trainMetrics);
    }
    logJson(event.dump());
    progress.note("eval", epoch, step_, metrics);
    if (!trainSample.empty()) {
      progress.note("train sample", epoch, step_, trainMetrics);
      if (auto signal = overfit_->observe({step_, lastLoss_, trainLoss}))
        reportOverfitting(*signal, epoch);
    }
    if (tracked.empty())
      return false;
    double v = metrics.at(tracked), best = state_.bestValue;
    bool lower = lowerIsBetter(tracked);
    bool better = !state_.hasBest || (lower ? v < best : v > best);
    bool improved = !state_.hasBest || (lower ? best - v > opts_.minDelta
                                              : v - best > opts_.minDelta);
    state_.badEvals = improved ? 0 : state_.badEvals + 1;
    if (better) {
      state_.hasBest = true;
      state_.bestValue = v;
      state_.bestStep = step_;
      if (!opts_.bestMetric.empty())
        saveTrainingCheckpoint((outDir / "best").string());
    }
    return opts_.patience > 0 && state_.badEvals >= opts_.patience;
  };
  auto writeCheckpoint = [&] {
    saveTrainingCheckpoint(
        (outDir / ("checkpoint-" + std::to_string(step_))).string());
    auto found = listCheckpoints(outDir);
    for (size_t i = 0; i + size_t(opts_.checkpointKeep) < found.size(); ++i)
      fs::remove_all(found[i].second);
  };

  auto started = Clock::now();
  auto windowStart = started;
  // Steps timed since windowStart: after a resume the loss window also
  // holds the steps before the checkpoint, which this process did not run.
  int64_t timedSteps = 0;
  int64_t epoch = state_.epoch, cursor = state_.cursor, orderEpoch = 0;
  std::vector<int64_t> order;
  TrainOutcome outcome = TrainOutcome::Completed;
  if (alreadyStopped)
    outcome = TrainOutcome::StoppedEarly;
  while (step_ < total && !alreadyStopped) {
    if (cursor == stepsPerEpoch) {
      ++epoch;
      cursor = 0;
    }
    // Gradual unfreezing: a new stage's plan from its first epoch on.
    enterStage(stageOf(epoch), epoch, /*log=*/true);
    // The order is a function of (seed, epoch) and dropout of (seed, step),
    // so continuing at (epoch, cursor) is exact after a resume.
    if (orderEpoch != epoch) {
      order = epochOrder(train.size(), opts_.seed, epoch, opts_.shuffle);
      orderEpoch = epoch;
    }
    std::vector<int64_t> indices(order.begin() + cursor * batch,
                                 order.begin() + (cursor + 1) * batch);
    ++step_;
    ++cursor;
    state_.epoch = epoch;
    state_.cursor = cursor;
    float lr = float(scheduledLr(opts_.schedule, opts_.lr, step_, total));
    float loss = runOptimizerStep(train, indices, lr);
    if (!std::isfinite(loss))
      throw Error("the training loss became " + std::to_string(loss) +
                  " at step " + std::to_string(step_) + " (lr " +
                  std::to_string(lr) + "); lower optimizer.lr");
    state_.windowLoss += loss;
    ++state_.windowSteps;
    ++timedSteps;
    progress.update(epoch, step_, loss, lr);
    if (step_ % opts_.logEvery == 0 || step_ == total) {
      double seconds =
          std::chrono::duration<double>(Clock::now() - windowStart).count();
      double rate = seconds > 0 ? double(timedSteps * batch) / seconds : 0;
      double mean = state_.windowLoss / double(state_.windowSteps);
      nlohmann::ordered_json event{
          {"event", "train"}, {"epoch", epoch}, {"step", step_},
          {"loss", mean},     {"lr", lr},       {"examples_per_s", rate}};
      logJson(event.dump());
      progress.log(epoch, step_, mean, lr, rate);
      state_.windowLoss = 0;
      state_.windowSteps = 0;
      timedSteps = 0;
      windowStart = Clock::now();
    }
    bool epochEnd = cursor == stepsPerEpoch || step_ == total;
    bool evalNow =
        opts_.evalEverySteps > 0 ? step_ % opts_.evalEverySteps == 0 : epochEnd;
    if (eval && evalNow && runEval(epoch)) {
      outcome = TrainOutcome::StoppedEarly;
      progress.finish();
      std::string best =
          opts_.bestMetric.empty()
              ? "the final weights are those of step " + std::to_string(step_) +
                    " (set eval.best to keep the best evaluation's)"
              : "the best checkpoint (step " + std::to_string(state_.bestStep) +
                    ") is " + (outDir / "best").string();
      std::fprintf(stderr,
                   "early stopping at step %lld (epoch %lld): eval %s has not "
                   "improved by more than %g for %lld evaluations (best %.6g "
                   "at step %lld); %s\n",
                   (long long)step_, (long long)epoch, tracked.c_str(),
                   opts_.minDelta, (long long)opts_.patience, state_.bestValue,
                   (long long)state_.bestStep, best.c_str());
    }
    bool stop = stopRequested() || step_ == opts_.stopAfterStep;
    if (stop || (checkpointSteps > 0 && step_ % checkpointSteps == 0) ||
        (opts_.checkpointEvery == "epoch" && epochEnd))
      writeCheckpoint();
    if (stop) {
      progress.finish();
      std::string where =
          (outDir / ("checkpoint-" + std::to_string(step_))).string();
      nlohmann::ordered_json event{{"event", "stop"},
                                   {"epoch", epoch},
                                   {"step", step_},
                                   {"checkpoint", where}};
      logJson(event.dump());
      return TrainOutcome::Interrupted;
    }
    if (outcome == TrainOutcome::StoppedEarly)
      break;
  }
  // The final model always gets a final evaluation.
  if (eval && state_.lastEvalStep != step_)
    runEval(epoch);
  // A directory that holds checkpoints gets one of the final state, so that
  // running the job again finds it complete instead of redoing its tail.
  if (!alreadyStopped) {
    auto found = listCheckpoints(outDir);
    if ((checkpointSteps > 0 || opts_.checkpointEvery == "epoch" ||
         !found.empty()) &&
        (found.empty() || found.back().first != step_))
      writeCheckpoint();
  }
  saveCheckpoint(opts_.outputDir, /*final=*/true);
  progress.finish();
  double seconds =
      std::chrono::duration<double>(Clock::now() - started).count();
  nlohmann::ordered_json end{{"event", "end"},
                             {"epoch", epoch},
                             {"step", step_},
                             {"train_seconds", seconds},
                             {"metrics", metricsObject(state_.lastMetrics)}};
  if (!state_.lastConfusion.empty())
    end["confusion_matrix"] = matrixJson(state_.lastConfusion);
  if (state_.hasBest)
    end["best"] = {{"metric", tracked},
                   {"value", state_.bestValue},
                   {"step", state_.bestStep}};
  if (outcome == TrainOutcome::StoppedEarly)
    end["stopped_early"] = true;
  for (auto [cache, split] : {std::pair{prefixCache_.get(), "prefix_cache"},
                              std::pair{evalCache_.get(), "eval_prefix_cache"}})
    if (cache)
      end[split] = {{"prefix_runs", cache->prefixRuns()},
                    {"cache_reads", cache->cacheReads()},
                    {"examples", cache->cachedExamples()}};
  end["checkpoint"] =
      (outDir / (!opts_.adapter.enabled ? "model.safetensors"
                 : opts_.adapter.merge
                     ? std::string(kMergedDir) + "/model.safetensors"
                     : "adapter_model.safetensors"))
          .string();
  logJson(end.dump());
  return outcome;
}
