//===- TrainerAdapter.cpp - The LoRA adapter in PEFT's format ------------===//
// SPDX-License-Identifier: Apache-2.0
//
// A LoRA run's output: adapter_model.safetensors + adapter_config.json as
// PEFT writes them (and the merged model), and loading one back for eval.
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
    const plan::Buffer &buf = plan_->buffers[info.buffer];
    toStored(opts_.storedTransposed, buf, values[name]);
    merged.push_back(
        {name,
         {storedShape(opts_.storedTransposed, buf), values[name].data()}});
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
