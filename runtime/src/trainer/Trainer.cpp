//===- Trainer.cpp - The training loop around a plan -----------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// Shapes are static, so every batch has exactly plan.batchSize examples:
// training drops the last partial batch of an epoch (a different one each
// epoch when shuffling); evaluation pads the last batch by repeating an
// example and ignores the padded rows when computing metrics on the host.
//===----------------------------------------------------------------------===//
#include "ftc/runtime/Trainer.h"
#include "ftc/runtime/AtomicFile.h"
#include "ftc/runtime/Checkpoint.h"
#include "ftc/runtime/Safetensors.h"
#include "Progress.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

using namespace ftc;
using namespace ftc::rt;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

/// Hugging Face's label for tokens that do not count (padding, unmasked).
constexpr int32_t kIgnoreIndex = -100;

int32_t requireBuffer(const plan::Plan &p, const std::string &name) {
  int32_t id = p.findBuffer(name);
  if (id < 0)
    throw Error("the plan has no '" + name + "' buffer");
  return id;
}

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

} // namespace

Trainer::Trainer(const plan::Plan &plan, Backend &backend,
                 TrainerOptions options)
    : plan_(plan), backend_(backend), opts_(std::move(options)) {}

void Trainer::initialize(std::string &log) {
  initializeParameters(plan_, backend_, opts_.seed);
  if (opts_.initCheckpoint.empty())
    return;
  Checkpoint file = Checkpoint::open(opts_.initCheckpoint);
  const std::string &path = file.path();
  std::vector<std::string> missing, used;
  for (const plan::ParamInfo &info : plan_.params) {
    const plan::Buffer &buf = plan_.buffers[info.buffer];
    const SafetensorsFile *shard = nullptr;
    const TensorInfo *t = file.find(buf.name, &shard);
    if (!t) {
      missing.push_back(buf.name);
      continue;
    }
    if (t->shape != buf.shape)
      throw Error(shard->path() + ": tensor '" + buf.name + "' has shape " +
                  shapeString(t->shape) + " but the model expects " +
                  shapeString(buf.shape));
    std::vector<float> values = shard->readF32(*t);
    backend_.write(info.buffer, values.data());
    used.push_back(buf.name);
  }
  std::vector<std::string> unexpected;
  for (const std::string &name : file.names())
    if (std::find(used.begin(), used.end(), name) == used.end())
      unexpected.push_back(name);
  auto list = [](const std::vector<std::string> &names) {
    std::string s;
    for (const std::string &n : names)
      s += "\n  " + n;
    return s;
  };
  log += "Loaded " + std::to_string(used.size()) + " tensors from " + path +
         "\n";
  if (!unexpected.empty())
    log += "Some weights of the checkpoint were not used:" + list(unexpected) +
           "\n";
  if (!missing.empty())
    log += "Some weights were not in the checkpoint and are newly "
           "initialized:" +
           list(missing) + "\n";
}

void Trainer::feed(const DatasetSplit &split,
                   const std::vector<int64_t> &indices) {
  const ftc_dataset_info_t &info = split.info();
  staging_.resize(info.num_features);
  std::vector<void *> buffers(info.num_features);
  std::vector<int32_t> targets(info.num_features, -1);
  for (size_t i = 0; i < info.num_features; ++i) {
    const ftc_feature_desc_t &f = info.features[i];
    auto it = plan_.featureInputs.find(f.name);
    if (it != plan_.featureInputs.end()) {
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
  std::ofstream out(fs::path(opts_.outputDir) / "metrics.jsonl",
                    std::ios::app);
  out << line << '\n';
  if (!out)
    throw Error("cannot write " + opts_.outputDir + "/metrics.jsonl");
}

std::map<std::string, double> Trainer::evaluate(const DatasetSplit &eval) {
  const plan::Program *prog = plan_.findProgram("eval_step");
  if (!prog || !prog->outputs.count("logits"))
    throw Error("the plan has no eval_step with logits");
  int32_t logitsId = prog->outputs.at("logits");
  const plan::Buffer &logitsBuf = plan_.buffers[logitsId];
  int64_t batch = plan_.batchSize, rows = logitsBuf.shape.at(0),
          classes = logitsBuf.shape.at(1);
  auto labelIt = plan_.featureInputs.find(opts_.labelFeature);
  if (labelIt == plan_.featureInputs.end())
    throw Error("the plan reads no '" + opts_.labelFeature + "' feature");
  const plan::Buffer &labelBuf = plan_.buffers[labelIt->second];
  // Sequence tasks have one logits row per example; token tasks (masked-LM,
  // token classification) one per token, with -100 marking ignored tokens.
  if (labelBuf.numElements() != rows || rows % batch != 0)
    throw Error("eval: " + std::to_string(labelBuf.numElements()) +
                " labels do not match " + std::to_string(rows) +
                " logits rows");
  int64_t rowsPerExample = rows / batch;
  std::vector<float> logits(static_cast<size_t>(rows * classes));
  std::vector<int32_t> labels(static_cast<size_t>(rows));

  double lossSum = 0;
  int64_t correct = 0, count = 0, n = eval.size();
  for (int64_t start = 0; start < n; start += batch) {
    int64_t valid = std::min(batch, n - start);
    std::vector<int64_t> indices(static_cast<size_t>(batch));
    for (int64_t i = 0; i < batch; ++i)
      indices[size_t(i)] = start + std::min(i, valid - 1);
    feed(eval, indices);
    backend_.run("eval_step");
    backend_.read(logitsId, logits.data());
    backend_.read(labelIt->second, labels.data());
    for (int64_t r = 0; r < valid * rowsPerExample; ++r) {
      int32_t label = labels[size_t(r)];
      if (rowsPerExample > 1 && label == kIgnoreIndex)
        continue;
      if (label < 0 || label >= classes)
        throw Error("eval example " + std::to_string(start + r / rowsPerExample) +
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
    }
  }
  double loss = count ? lossSum / double(count) : 0.0;
  std::map<std::string, double> metrics;
  for (const std::string &m : opts_.evalMetrics) {
    if (m == "loss")
      metrics["loss"] = loss;
    else if (m == "accuracy")
      metrics["accuracy"] = count ? double(correct) / double(count) : 0.0;
    else if (m == "perplexity")
      metrics["perplexity"] = std::exp(loss);
  }
  return metrics;
}

void Trainer::saveCheckpoint(const std::string &dir) {
  fs::create_directories(dir);
  std::vector<std::vector<float>> copies;
  copies.reserve(plan_.params.size());
  std::vector<std::pair<std::string, std::pair<std::vector<int64_t>,
                                               const float *>>>
      tensors;
  for (const plan::ParamInfo &info : plan_.params) {
    const plan::Buffer &buf = plan_.buffers[info.buffer];
    copies.emplace_back(static_cast<size_t>(buf.numElements()));
    backend_.read(info.buffer, copies.back().data());
    tensors.push_back({buf.name, {buf.shape, copies.back().data()}});
  }
  writeSafetensors((fs::path(dir) / "model.safetensors").string(), tensors,
                   {{"format", "pt"}, {"producer", "ftc"}});
  if (!opts_.configJson.empty())
    writeFileAtomic((fs::path(dir) / "config.json").string(), opts_.configJson);
}

void Trainer::setStep(int64_t step, float lr) {
  float stepValue = float(step);
  // A plan compiled without an optimizer (for inspection) has no lr/step.
  if (int32_t id = plan_.findBuffer("lr"); id >= 0)
    backend_.write(id, &lr);
  if (int32_t id = plan_.findBuffer("step"); id >= 0)
    backend_.write(id, &stepValue);
  // Dropout masks are a function of (seed, step, op, element).
  if (int32_t rngId = plan_.findBuffer("rng"); rngId >= 0) {
    int32_t rng[2] = {int32_t(uint32_t(opts_.seed ^ (opts_.seed >> 32))),
                      int32_t(step)};
    backend_.write(rngId, rng);
  }
}

void Trainer::train(const DatasetSplit &train, const DatasetSplit *eval) {
  int64_t batch = plan_.batchSize;
  int64_t stepsPerEpoch = train.size() / batch;
  if (stepsPerEpoch == 0)
    throw Error("the training split has " + std::to_string(train.size()) +
                " examples, fewer than one batch of " + std::to_string(batch));
  int64_t total = opts_.epochs * stepsPerEpoch;
  if (opts_.maxSteps > 0)
    total = std::min(total, opts_.maxSteps);
  const plan::Program *prog = plan_.findProgram("train_step");
  if (!prog || !prog->outputs.count("loss"))
    throw Error("the plan has no train_step with a loss");
  int32_t lossId = prog->outputs.at("loss");

  fs::create_directories(opts_.outputDir);
  // A fresh run starts a fresh metrics log.
  std::ofstream(fs::path(opts_.outputDir) / "metrics.jsonl", std::ios::trunc);
  logJson(nlohmann::ordered_json{{"event", "start"},
                         {"train_examples", train.size()},
                         {"eval_examples", eval ? eval->size() : 0},
                         {"batch_size", batch},
                         {"steps", total},
                         {"steps_per_epoch", stepsPerEpoch}}
              .dump());

  Progress progress(opts_.progressBar, total);
  auto runEval = [&](int64_t epoch) {
    if (!eval)
      return std::map<std::string, double>{};
    std::map<std::string, double> metrics = evaluate(*eval);
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (auto &[k, v] : metrics)
      m[k] = v;
    logJson(nlohmann::ordered_json{{"event", "eval"},
                           {"epoch", epoch},
                           {"step", step_},
                           {"split", "eval"},
                           {"metrics", m}}
                .dump());
    progress.note("eval", epoch, step_, metrics);
    return metrics;
  };

  auto started = Clock::now();
  auto windowStart = started;
  double windowLoss = 0;
  int64_t windowSteps = 0, epoch = 0;
  std::map<std::string, double> lastMetrics;
  bool evaluatedAtLastStep = false;
  for (epoch = 1; epoch <= opts_.epochs && step_ < total; ++epoch) {
    std::vector<int64_t> order =
        epochOrder(train.size(), opts_.seed, epoch, opts_.shuffle);
    for (int64_t b = 0; b < stepsPerEpoch && step_ < total; ++b) {
      std::vector<int64_t> indices(order.begin() + b * batch,
                                   order.begin() + (b + 1) * batch);
      feed(train, indices);
      ++step_;
      float lr = float(scheduledLr(opts_.schedule, opts_.lr, step_, total));
      setStep(step_, lr);
      backend_.run("train_step");
      float loss = 0;
      backend_.read(lossId, &loss);
      if (!std::isfinite(loss))
        throw Error("the training loss became " + std::to_string(loss) +
                    " at step " + std::to_string(step_) + " (lr " +
                    std::to_string(lr) + "); lower optimizer.lr");
      windowLoss += loss;
      ++windowSteps;
      progress.update(epoch, step_, loss, lr);
      evaluatedAtLastStep = false;
      if (step_ % opts_.logEvery == 0 || step_ == total) {
        double seconds =
            std::chrono::duration<double>(Clock::now() - windowStart).count();
        double rate = seconds > 0 ? double(windowSteps * batch) / seconds : 0;
        logJson(nlohmann::ordered_json{{"event", "train"},
                               {"epoch", epoch},
                               {"step", step_},
                               {"loss", windowLoss / double(windowSteps)},
                               {"lr", lr},
                               {"examples_per_s", rate}}
                    .dump());
        progress.log(epoch, step_, windowLoss / double(windowSteps), lr, rate);
        windowLoss = 0;
        windowSteps = 0;
        windowStart = Clock::now();
      }
      if (opts_.evalEverySteps > 0 && step_ % opts_.evalEverySteps == 0) {
        lastMetrics = runEval(epoch);
        evaluatedAtLastStep = true;
      }
      if (opts_.checkpointEvery != "end" && opts_.checkpointEvery != "epoch" &&
          step_ % std::stoll(opts_.checkpointEvery) == 0)
        saveCheckpoint(opts_.outputDir);
    }
    if (opts_.evalEverySteps == 0 && !evaluatedAtLastStep) {
      lastMetrics = runEval(epoch);
      evaluatedAtLastStep = true;
    }
    if (opts_.checkpointEvery == "epoch")
      saveCheckpoint(opts_.outputDir);
  }
  --epoch;
  // The final model always gets a final evaluation.
  if (eval && !evaluatedAtLastStep)
    lastMetrics = runEval(epoch);
  saveCheckpoint(opts_.outputDir);
  progress.finish();
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  nlohmann::ordered_json m = nlohmann::ordered_json::object();
  for (auto &[k, v] : lastMetrics)
    m[k] = v;
  logJson(nlohmann::ordered_json{{"event", "end"},
                         {"epoch", epoch},
                         {"step", step_},
                         {"train_seconds", seconds},
                         {"metrics", m},
                         {"checkpoint", (fs::path(opts_.outputDir) /
                                         "model.safetensors")
                                            .string()}}
              .dump());
}
