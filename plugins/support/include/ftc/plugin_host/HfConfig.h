//===- HfConfig.h - A Hugging Face config.json under the spec ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// For the model plugins of Hugging Face families (bert, gpt2): a setting
// comes from the spec's [model] key when set, else from the config.json
// beside model.checkpoint, else from the plugin's default. A size fixes the
// checkpoint's tensor shapes, so a spec size that disagrees with
// config.json is a contradiction, said in those terms (dropouts and init
// may differ: they do not change a shape).
//===----------------------------------------------------------------------===//
#ifndef FTC_PLUGIN_HOST_HFCONFIG_H
#define FTC_PLUGIN_HOST_HFCONFIG_H

#include "ftc/plugin.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>

namespace ftc::plugin {

class HfConfig {
public:
  /// Reads the checkpoint's config.json when there is one; its model_type,
  /// when present, must be `modelType`.
  HfConfig(const Config &spec, const ModelContext &context,
           const std::string &modelType)
      : spec(spec), file(nlohmann::json::object()) {
    namespace fs = std::filesystem;
    const char *ckpt = context.checkpoint();
    if (!ckpt)
      return;
    fs::path dir =
        fs::is_directory(ckpt) ? fs::path(ckpt) : fs::path(ckpt).parent_path();
    if (!fs::exists(dir / "config.json"))
      return;
    path = (dir / "config.json").string();
    std::ifstream in(path);
    if (!in)
      throw Error(FTC_STATUS_NOT_FOUND, "cannot open " + path, "checkpoint");
    try {
      in >> file;
    } catch (const std::exception &e) {
      throw Error(FTC_STATUS_DATA_ERROR, path + ": invalid JSON: " + e.what(),
                  "checkpoint");
    }
    if (file.contains("model_type") && file["model_type"] != modelType)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  path + ": model_type is " + file["model_type"].dump() +
                      ", not \"" + modelType + "\"",
                  "checkpoint");
  }

  /// The config.json that was read ("" when none).
  const std::string &configPath() const { return path; }
  /// Its contents (an empty object when none was read).
  const nlohmann::json &json() const { return file; }

  /// A shape-fixing integer `key` into `out` (which holds the default).
  void size(const char *key, int64_t &out) const {
    if (file.contains(key) && file[key].is_number_integer())
      out = file[key].get<int64_t>();
    auto v = spec.findInt(key);
    if (!v)
      return;
    if (!path.empty() && *v != out)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "model." + std::string(key) + " = " + std::to_string(*v) +
                      " contradicts the checkpoint: " + path + " has " + key +
                      " = " + std::to_string(out) +
                      " (leave the key out to take the checkpoint's)",
                  key);
    out = *v;
  }
  /// A number the spec may change freely (a dropout, the init's std).
  void setting(const char *key, double &out) const {
    if (file.contains(key) && file[key].is_number())
      out = file[key].get<double>();
    if (auto v = spec.findFloat(key))
      out = *v;
  }
  /// A string setting (an activation's name).
  void setting(const char *key, std::string &out) const {
    if (file.contains(key) && file[key].is_string())
      out = file[key].get<std::string>();
    if (auto v = spec.findString(key))
      out = *v;
  }

private:
  const Config &spec;
  std::string path;
  nlohmann::json file;
};

} // namespace ftc::plugin

#endif // FTC_PLUGIN_HOST_HFCONFIG_H
