//===- Dataset.cpp - One split of a dataset plugin
//-------------------------===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/runtime/Dataset.h"
#include "ftc/runtime/Error.h"

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

void DatasetSplit::fill(const std::vector<int64_t> &indices,
                        const std::vector<void *> &buffers) const {
  PluginError err;
  if (plugin_->fill(handle_, indices.data(), indices.size(), buffers.data(),
                    &err.error) != FTC_STATUS_OK)
    throw Error("dataset split '" + split_ +
                "': " + err.message("filling a batch failed"));
}
