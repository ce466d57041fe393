//===- Job.h - A validated job: spec, plugins, datasets ---------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The front end every subcommand shares. Everything here is cheap and runs
// before anything heavy: a job that loads is a job whose spec is valid,
// whose plugins exist and whose data files opened cleanly.
//===----------------------------------------------------------------------===//
#ifndef FTC_TOOLS_FTC_JOB_H
#define FTC_TOOLS_FTC_JOB_H

#include "ftc/Spec/Spec.h"
#include "ftc/plugin_host/PluginRegistry.h"
#include "ftc/plugin_host/TomlConfig.h"
#include "ftc/runtime/Dataset.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ftc::tool {

/// Process exit codes.
enum ExitCode { kOk = 0, kUserError = 1, kUsageError = 2, kInterrupted = 130 };

/// Arguments every SPEC-taking subcommand accepts.
struct JobArgs {
  std::string specPath;
  std::vector<std::string> overrides;   // --set key.path=value
  std::optional<std::string> outputDir; // --output-dir DIR
};

class Job {
public:
  /// Loads and validates; on failure prints located errors to stderr and
  /// returns nullptr. `openData` also opens (and so validates) the splits.
  static std::unique_ptr<Job> load(const JobArgs &args, bool openData);

  spec::Spec &spec() { return *spec_; }
  const spec::Spec &spec() const { return *spec_; }
  const plugin::LoadedPlugin &model() const { return *model_; }
  const plugin::LoadedPlugin &dataset() const { return *dataset_; }
  const ftc_config_t &modelConfig() const { return *modelConfig_->config(); }
  const ftc_config_t &datasetConfig() const {
    return *datasetConfig_->config();
  }
  rt::DatasetSplit &trainSplit() { return train_; }
  /// nullptr when the spec names no eval split.
  rt::DatasetSplit *evalSplit() { return eval_.isOpen() ? &eval_ : nullptr; }
  int64_t numLabels() const { return numLabels_; }
  /// Whether products run in bf16: train.precision = "bf16", or "auto" on a
  /// device with native bf16.
  bool bf16() const { return bf16_; }
  /// Opens `file` as the dataset plugin's "predict" split (labels
  /// optional) into `split`; prints the error and returns false on failure.
  bool openPredict(const std::string &file, rt::DatasetSplit &split);
  std::string outputDir() const;
  /// "file:line:col" of a spec key, for messages.
  std::string where(const std::string &path) const;
  /// Prints "file:line:col: error: message" located at `path`.
  void error(const std::string &path, const std::string &message) const;

private:
  bool openSplits();
  bool choosePrecision(const std::string &device);
  bool resolveLabels();

  std::optional<spec::Spec> spec_;
  plugin::PluginRegistry registry_;
  const plugin::LoadedPlugin *model_ = nullptr, *dataset_ = nullptr;
  std::shared_ptr<const toml::table> resolved_;
  std::unique_ptr<plugin::TomlConfig> modelConfig_, datasetConfig_,
      predictConfig_;
  rt::DatasetSplit train_, eval_;
  int64_t numLabels_ = 0;
  bool bf16_ = false;
};

/// The plugin search path for a spec (built-in dir, FTC_PLUGIN_PATH,
/// [plugins] paths); scans it, printing loader errors. False on any error.
bool scanPlugins(plugin::PluginRegistry &registry,
                 const std::vector<std::string> &specPaths);

} // namespace ftc::tool

#endif // FTC_TOOLS_FTC_JOB_H
