//===- Trainer.cpp - The training loop around a plan ----------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// Shapes are static, so every batch has exactly plan.batchSize examples:
// training drops the last partial batch of an epoch (a different one each
// epoch when shuffling); evaluation pads the last batch by repeating an
// example and ignores the padded rows when computing metrics on the host.
//===----------------------------------------------------------------------===//
#include "ftc/runtime/Trainer.h"
#include "EvalMetrics.h"
#include "OverfitWatch.h"
#include "PrefixCache.h"
#include "Progress.h"
#include "TrainerInternal.h"
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
using namespace ftc::rt::detail;
using Clock = std::chrono::steady_clock;

std::vector<float> ftc::rt::transpose2d(const std::vector<float> &values,
                                        int64_t rows, int64_t cols) {
  std::vector<float> t(values.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      t[size_t(c * rows + r)] = values[size_t(r * cols + c)];
  return t;
}

namespace ftc::rt::detail {

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

std::vector<int64_t> storedShape(const TransposedFn &transposed,
                                 const plan::Buffer &buf) {
  if (!(transposed && transposed(buf.name)) || buf.shape.size() != 2)
    return buf.shape;
  return {buf.shape[1], buf.shape[0]};
}

void toStored(const TransposedFn &transposed, const plan::Buffer &buf,
              std::vector<float> &values) {
  if ((transposed && transposed(buf.name)) && buf.shape.size() == 2)
    values = transpose2d(values, buf.shape[0], buf.shape[1]);
}

void fromStored(const TransposedFn &transposed, const plan::Buffer &buf,
                std::vector<float> &values) {
  if ((transposed && transposed(buf.name)) && buf.shape.size() == 2)
    values = transpose2d(values, buf.shape[1], buf.shape[0]);
}

} // namespace ftc::rt::detail

namespace {

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

} // namespace

namespace ftc::rt::detail {

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

} // namespace ftc::rt::detail

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
                     bool varies, std::unique_ptr<PrefixCache> &slot) {
    if (examples <= 0 || !PrefixCache::planHas(*plan_, programs))
      return;
    auto cache = std::make_unique<PrefixCache>();
    std::string note;
    bool bound = false;
    if (varies)
      note = std::string("does not cache the frozen prefix's outputs for ") +
             programs.split +
             ": the dataset's examples change with the epoch (random "
             "augmentation)";
    else
      bound = cache->bind(*plan_, programs, examples, budget, note);
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
  bindOne(PrefixCache::kTrain, trainExamples_, trainVaries_, prefixCache_);
  bindOne(PrefixCache::kEval, evalExamples_, false, evalCache_);
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
  size_t renamed = 0, unfit = 0;
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
    std::vector<int64_t> stored = storedShape(opts_.storedTransposed, buf);
    // A task head of another shape (ImageNet's 1000 classes, 10 here) is a
    // new head: it keeps its initial values, as the checkpoint's does not
    // fit. Any other shape mismatch is an error.
    if (t->shape != stored && info.head) {
      missing.push_back(buf.name + " (the checkpoint's is " +
                        shapeString(t->shape) + ", this task's " +
                        shapeString(stored) + ")");
      used.push_back(source); // read, not an unexpected tensor
      ++unfit;
      continue;
    }
    if (t->shape != stored)
      throw Error(shard->path() + ": tensor '" + source + "' has shape " +
                  shapeString(t->shape) + " but the model expects " +
                  shapeString(stored) +
                  (source == buf.name ? "" : " for '" + buf.name + "'"));
    std::vector<float> values = shard->readF32(*t);
    fromStored(opts_.storedTransposed, buf, values);
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
  log +=
      "Loaded " + std::to_string(used.size() - unfit) + " tensors from " + path;
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

  // Streaming: each batch's rows are added and dropped, so memory does
  // not grow with the split.
  EvalMetrics acc(classes, kMaxConfusionClasses);
  int64_t n = subset ? int64_t(subset->size()) : eval.size();
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
      acc.add(logits.data() + r * classes, label);
    }
  }
  lastLoss_ = acc.loss();
  confusion_ = acc.confusion();
  return acc.finish(opts_.evalMetrics);
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
  // A dataset whose examples depend on the epoch (ABI 1.6 set_epoch: random
  // augmentation) is told the epoch of the next step; the frozen prefix's
  // outputs of such examples are never cached across epochs.
  trainVaries_ = train.setEpoch(
      state_.cursor == stepsPerEpoch ? state_.epoch + 1 : state_.epoch,
      opts_.seed);
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
    // The order is a function of (seed, epoch), dropout of (seed, step)
    // and an augmented example of (seed, epoch, index), so continuing at
    // (epoch, cursor) is exact after a resume.
    if (orderEpoch != epoch) {
      order = epochOrder(train.size(), opts_.seed, epoch, opts_.shuffle);
      orderEpoch = epoch;
      train.setEpoch(epoch, opts_.seed);
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
