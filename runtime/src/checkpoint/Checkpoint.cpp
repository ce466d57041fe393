//===- Checkpoint.cpp - A model checkpoint: one or many safetensors
//--------===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/runtime/Checkpoint.h"
#include "ftc/runtime/Error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

using namespace ftc::rt;
namespace fs = std::filesystem;

namespace {
constexpr const char *kSingle = "model.safetensors";
constexpr const char *kIndex = "model.safetensors.index.json";
} // namespace

bool Checkpoint::isCheckpointDir(const std::string &dir) {
  std::error_code ec;
  return fs::exists(fs::path(dir) / kSingle, ec) ||
         fs::exists(fs::path(dir) / kIndex, ec);
}

Checkpoint Checkpoint::open(const std::string &path) {
  Checkpoint c;
  fs::path p = path;
  std::error_code ec;
  if (fs::is_directory(p, ec))
    p = fs::exists(p / kSingle, ec) ? p / kSingle : p / kIndex;
  c.path_ = p.string();

  auto addFile = [&](const fs::path &file) {
    c.files_.push_back(std::make_shared<SafetensorsFile>(
        SafetensorsFile::open(file.string())));
    return c.files_.size() - 1;
  };

  if (p.extension() != ".json") {
    size_t idx = addFile(p);
    for (const TensorInfo &t : c.files_[idx]->tensors())
      c.owner_[t.name] = idx;
    return c;
  }

  std::ifstream in(p);
  if (!in)
    throw Error(c.path_ + ": cannot open the checkpoint index");
  nlohmann::json index = nlohmann::json::parse(in, nullptr, false);
  if (!index.is_object() || !index.contains("weight_map") ||
      !index["weight_map"].is_object())
    throw Error(c.path_ + ": not a safetensors index (no \"weight_map\" "
                          "object)");
  std::map<std::string, size_t> shardIndex;
  for (auto &[name, shard] : index["weight_map"].items()) {
    if (!shard.is_string())
      throw Error(c.path_ + ": tensor '" + name +
                  "': the shard name is not a string");
    std::string file = shard.get<std::string>();
    if (file.find('/') != std::string::npos || file == "..")
      throw Error(c.path_ + ": tensor '" + name + "': shard '" + file +
                  "' is not a file in the checkpoint directory");
    auto it = shardIndex.find(file);
    if (it == shardIndex.end())
      it = shardIndex.emplace(file, addFile(p.parent_path() / file)).first;
    if (!c.files_[it->second]->find(name))
      throw Error(c.path_ + ": tensor '" + name + "' is mapped to " + file +
                  ", which does not contain it");
    c.owner_[name] = it->second;
  }
  return c;
}

const TensorInfo *Checkpoint::find(const std::string &name,
                                   const SafetensorsFile **file) const {
  auto it = owner_.find(name);
  if (it == owner_.end())
    return nullptr;
  *file = files_[it->second].get();
  return files_[it->second]->find(name);
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  for (auto &[name, idx] : owner_)
    out.push_back(name);
  return out;
}
