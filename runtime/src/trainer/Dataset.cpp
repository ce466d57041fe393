//===- Dataset.cpp - One split of a dataset plugin -----------------------===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/runtime/Dataset.h"
#include "ftc/runtime/Error.h"

#include <algorithm>
#include <cstring>

using namespace ftc::rt;

namespace {
struct PluginError {
  char buffer[2048] = {0};
  ftc_error_t error{buffer, sizeof(buffer), nullptr};
  std::string message(const char *fallback) const {
    size_t n = strnlen(buffer, sizeof(buffer));
    return n ? std::string(buffer, n) : fallback;
  }
};
} // namespace

bool DatasetSplit::open(const ftc_dataset_plugin_v1_t &plugin,
                        const ftc_config_t &config, const std::string &split,
                        DatasetError &error) {
  PluginError err;
  void *handle = nullptr;
  ftc_status_t status =
      plugin.open(&config, split.c_str(), &handle, &err.error);
  if (status != FTC_STATUS_OK || !handle) {
    error.message = err.message("the dataset plugin could not open the split");
    error.key = err.error.key ? err.error.key : "";
    return false;
  }
  plugin_ = &plugin;
  handle_ = handle;
  split_ = split;
  if (plugin.info(handle, &info_) != FTC_STATUS_OK || info_.num_examples < 0 ||
      (info_.num_features && !info_.features)) {
    error.message = "the dataset plugin returned no valid description";
    return false;
  }
  size_ = info_.num_examples;
  return true;
}

DatasetSplit::~DatasetSplit() {
  if (handle_)
    plugin_->close(handle_);
}

void DatasetSplit::limit(int64_t n) {
  if (n > 0 && n < size_)
    size_ = n;
}

const ftc_feature_desc_t *DatasetSplit::feature(const std::string &name) const {
  for (size_t i = 0; i < info_.num_features; ++i)
    if (info_.features[i].name && name == info_.features[i].name)
      return &info_.features[i];
  return nullptr;
}

std::string DatasetSplit::labelName(int64_t index) const {
  if (plugin_->header.api_version < FTC_PLUGIN_API_VERSION_1_1 ||
      !plugin_->label_name)
    return "";
  const char *name = plugin_->label_name(handle_, index);
  return name ? std::string(name) : std::string();
}

int64_t DatasetSplit::skippedRecords() const {
  if (plugin_->header.api_version < FTC_PLUGIN_API_VERSION_1_2 ||
      !plugin_->skipped_records)
    return 0;
  return plugin_->skipped_records(handle_);
}

bool DatasetSplit::setEpoch(int64_t epoch, uint64_t seed) const {
  if (plugin_->header.api_version < FTC_PLUGIN_API_VERSION_1_6 ||
      !plugin_->set_epoch)
    return false;
  return plugin_->set_epoch(handle_, epoch, seed) != 0;
}

void DatasetSplit::fill(const std::vector<int64_t> &indices,
                        const std::vector<void *> &buffers) const {
  PluginError err;
  if (plugin_->fill(handle_, indices.data(), indices.size(), buffers.data(),
                    &err.error) != FTC_STATUS_OK)
    throw Error("dataset split '" + split_ +
                "': " + err.message("filling a batch failed"));
}

namespace {
/// Bytes of one example's feature `f` in a filled batch buffer.
size_t exampleBytes(const ftc_feature_desc_t &f) {
  size_t n = 4; // FTC_DTYPE_F32 and FTC_DTYPE_I32
  for (uint32_t d = 0; d < f.rank; ++d)
    n *= size_t(f.shape[d]);
  return n;
}

uint64_t fnv1a(const unsigned char *p, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}
} // namespace

SplitFacts DatasetSplit::facts() const {
  SplitFacts out;
  int labelIndex = -1;
  for (size_t i = 0; i < info_.num_features; ++i)
    if (info_.label_feature &&
        std::strcmp(info_.features[i].name, info_.label_feature) == 0 &&
        info_.features[i].rank == 0 && info_.features[i].dtype == FTC_DTYPE_I32)
      labelIndex = int(i);
  ftc_split_facts_t described{};
  PluginError err;
  bool fromPlugin =
      plugin_->header.api_version >= FTC_PLUGIN_API_VERSION_1_3 &&
      plugin_->describe &&
      plugin_->describe(handle_, &described, &err.error) == FTC_STATUS_OK &&
      described.examples;
  if (fromPlugin) {
    out.source = described.source ? described.source : "";
    out.recordUnit = described.record_unit ? described.record_unit : "record";
    out.lengthUnit = described.length_unit ? described.length_unit : "";
    out.maxLength = described.max_length;
    out.examples.assign(described.examples, described.examples + size_);
  } else {
    out.recordUnit = "example";
    out.examples.resize(size_t(size_));
  }
  if (fromPlugin && labelIndex < 0)
    return out;

  // Fill in batches: the labels, and the hashes the plugin did not give.
  constexpr int64_t kBatch = 256;
  std::vector<std::vector<unsigned char>> storage(info_.num_features);
  std::vector<void *> buffers(info_.num_features);
  for (size_t f = 0; f < info_.num_features; ++f) {
    storage[f].resize(exampleBytes(info_.features[f]) * kBatch);
    buffers[f] = storage[f].data();
  }
  if (labelIndex >= 0)
    out.labels.resize(size_t(size_));
  std::vector<int64_t> indices;
  for (int64_t start = 0; start < size_; start += kBatch) {
    int64_t n = std::min(kBatch, size_ - start);
    indices.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i)
      indices[size_t(i)] = start + i;
    fill(indices, buffers);
    for (int64_t i = 0; i < n; ++i) {
      size_t ex = size_t(start + i);
      if (labelIndex >= 0)
        out.labels[ex] =
            static_cast<const int32_t *>(buffers[size_t(labelIndex)])[i];
      if (fromPlugin)
        continue;
      uint64_t h = 0xcbf29ce484222325ull;
      for (size_t f = 0; f < info_.num_features; ++f) {
        if (int(f) == labelIndex)
          continue;
        size_t bytes = exampleBytes(info_.features[f]);
        h = fnv1a(storage[f].data() + size_t(i) * bytes, bytes, h);
      }
      ftc_example_facts_t &facts = out.examples[ex];
      facts.hash = facts.normalized_hash = h;
      facts.record = int64_t(ex) + 1;
      facts.length = facts.unknown = -1;
    }
  }
  return out;
}
