//===- Checkpoint.h - A model checkpoint: one or many safetensors -*- C++
//-*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Hugging Face stores a model as `model.safetensors`, or sharded as
// `model.safetensors.index.json` (a weight_map from tensor name to shard
// file) plus the shards. Either way the caller sees one name -> tensor map.
//===----------------------------------------------------------------------===//
#ifndef FTC_RUNTIME_CHECKPOINT_H
#define FTC_RUNTIME_CHECKPOINT_H

#include "ftc/runtime/Safetensors.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ftc::rt {

class Checkpoint {
public:
  /// `path` is a directory (model.safetensors, else the sharded index), an
  /// index .json file, or a .safetensors file. Throws rt::Error naming the
  /// file at fault; every shard is opened and validated up front.
  static Checkpoint open(const std::string &path);
  /// True when `dir` holds a single-file or sharded checkpoint.
  static bool isCheckpointDir(const std::string &dir);

  /// The tensor called `name` and the file holding it, or nullptr.
  const TensorInfo *find(const std::string &name,
                         const SafetensorsFile **file) const;
  /// Every tensor name, sorted.
  std::vector<std::string> names() const;
  /// What was opened (the file, or the index), for messages.
  const std::string &path() const { return path_; }

private:
  std::string path_;
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, size_t> owner_; // tensor name -> index in files_
};

} // namespace ftc::rt

#endif // FTC_RUNTIME_CHECKPOINT_H
