//===- TrainerCheckpoint.cpp - Saving, publishing and resuming -----------===//
// SPDX-License-Identifier: Apache-2.0
//
// The final model directory, training checkpoints (weights, optimizer and
// trainer state) written to a temporary directory and published by rename,
// and exact resume from one.
//===----------------------------------------------------------------------===//
#include "OverfitWatch.h"
#include "PrefixCache.h"
#include "TrainerInternal.h"
#include "ftc/runtime/AtomicFile.h"
#include "ftc/runtime/Checkpoint.h"
#include "ftc/runtime/Safetensors.h"
#include "ftc/runtime/Trainer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace ftc;
using namespace ftc::rt;
using namespace ftc::rt::detail;
namespace fs = std::filesystem;

namespace ftc::rt::detail {

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

} // namespace ftc::rt::detail

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
    toStored(opts_.storedTransposed, buf, copies.back());
    tensors.push_back(
        {buf.name,
         {storedShape(opts_.storedTransposed, buf), copies.back().data()}});
  }
  writeSafetensors((fs::path(dir) / "model.safetensors").string(), tensors,
                   {{"format", "pt"}, {"producer", "ftc"}});
  if (!opts_.configJson.empty())
    writeFileAtomic((fs::path(dir) / "config.json").string(), opts_.configJson);
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

  // Every parameter (in the stored layout) and every optimizer state tensor
  // (in the plan's), by name and shape.
  auto load = [&](const SafetensorsFile &file, int32_t id) {
    const plan::Buffer &buf = plan_->buffers[size_t(id)];
    const TensorInfo *t = file.find(buf.name);
    if (!t)
      throw Error(file.path() + ": no tensor '" + buf.name +
                  "' to resume from");
    bool param = buf.kind == plan::BufferKind::Param;
    std::vector<int64_t> expected =
        param ? storedShape(opts_.storedTransposed, buf) : buf.shape;
    if (t->shape != expected)
      throw Error(file.path() + ": tensor '" + buf.name + "' has shape " +
                  shapeString(t->shape) + " but the model expects " +
                  shapeString(expected));
    std::vector<float> values = file.readF32(*t);
    if (param)
      fromStored(opts_.storedTransposed, buf, values);
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
