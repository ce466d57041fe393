//===- Dataset.h - One split of a dataset plugin ----------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_RUNTIME_DATASET_H
#define FTC_RUNTIME_DATASET_H

#include "ftc/plugin_api.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ftc::rt {

/// A dataset plugin's error, with the spec key (in [dataset]) it blames so
/// the caller can point at the spec line.
struct DatasetError {
  std::string message;
  std::string key;
};

/// What the data report reads of a split: the plugin's facts (ABI 1.3
/// describe) or, without them, the host's hashes of the filled features.
struct SplitFacts {
  std::string source;     // the split's file, or "" when unknown
  std::string recordUnit; // what ftc_example_facts_t::record counts
  std::string lengthUnit; // "" when the split gives no lengths
  int64_t maxLength = 0;
  std::vector<ftc_example_facts_t> examples;
  /// The class of each example; empty without a label feature.
  std::vector<int32_t> labels;
};

/// RAII owner of an opened split. Random access by example index.
class DatasetSplit {
public:
  /// Opens `split`; returns false and fills `error` on failure.
  bool open(const ftc_dataset_plugin_v1_t &plugin, const ftc_config_t &config,
            const std::string &split, DatasetError &error);
  ~DatasetSplit();
  DatasetSplit() = default;
  DatasetSplit(const DatasetSplit &) = delete;
  DatasetSplit &operator=(const DatasetSplit &) = delete;

  bool isOpen() const { return handle_ != nullptr; }
  const std::string &split() const { return split_; }
  /// Examples used (after an optional limit).
  int64_t size() const { return size_; }
  void limit(int64_t n);
  const ftc_dataset_info_t &info() const { return info_; }
  const ftc_feature_desc_t *feature(const std::string &name) const;
  /// The plugin's name for label class `index` (ABI 1.1), or "" when the
  /// plugin names no classes.
  std::string labelName(int64_t index) const;
  /// Malformed records the plugin skipped (skip_bad_rows); 0 before ABI 1.2.
  int64_t skippedRecords() const;
  /// Before filling the examples of training epoch `epoch` (1-based) of a
  /// job seeded `seed` (ABI 1.6 set_epoch): returns whether the examples
  /// depend on them (random augmentation); false for older plugins.
  bool setEpoch(int64_t epoch, uint64_t seed) const;
  /// The split's facts for the data report (over size() examples); throws
  /// rt::Error.
  SplitFacts facts() const;
  /// Fills one buffer per feature (info order); throws rt::Error.
  void fill(const std::vector<int64_t> &indices,
            const std::vector<void *> &buffers) const;

private:
  const ftc_dataset_plugin_v1_t *plugin_ = nullptr;
  void *handle_ = nullptr;
  ftc_dataset_info_t info_{};
  std::string split_;
  int64_t size_ = 0;
};

} // namespace ftc::rt

#endif // FTC_RUNTIME_DATASET_H
