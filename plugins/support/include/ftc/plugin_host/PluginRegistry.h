//===- PluginRegistry.h - Finds, loads and checks ftc plugins ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Loads plugin shared libraries from a search path (directories and single
// .so files), negotiates the ABI version through ftc_plugin_query and indexes
// the plugins by kind and name. Every failure becomes one message naming the
// file; handles stay open for the rest of the process.
//
//===----------------------------------------------------------------------===//
#ifndef FTC_PLUGIN_HOST_PLUGINREGISTRY_H
#define FTC_PLUGIN_HOST_PLUGINREGISTRY_H

#include "ftc/plugin_api.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace ftc::plugin {

struct LoadedPlugin {
  /// The path it was loaded from (as found on the search path).
  std::string path;
  std::string name, version, description;
  /// The api_version from the plugin's header (same major as the host's).
  uint32_t apiVersion;
  ftc_plugin_kind_t kind;
  /// Exactly one of these is set, matching `kind`.
  const ftc_model_plugin_v1_t *model;
  const ftc_dataset_plugin_v1_t *dataset;

  /// A model plugin's base_model_prefix ("" when it has none or predates
  /// ABI 1.2).
  std::string baseModelPrefix() const {
    if (!model || apiVersion < FTC_PLUGIN_API_VERSION_1_2 ||
        !model->base_model_prefix)
      return "";
    return model->base_model_prefix;
  }
  /// A model plugin's family knowledge (ABI 1.4), or nullptr.
  const ftc_family_info_t *family() const {
    if (!model || apiVersion < FTC_PLUGIN_API_VERSION_1_4)
      return nullptr;
    return model->family;
  }
  /// Whether checkpoints store parameter `name` transposed (ABI 1.5).
  bool storedTransposed(const std::string &name) const {
    const ftc_family_info_t *f = family();
    return f && apiVersion >= FTC_PLUGIN_API_VERSION_1_5 && f->stored_layout &&
           f->stored_layout(name.c_str()) == FTC_LAYOUT_TRANSPOSED;
  }
  /// The family's default LoRA targets (ABI 1.5), or none.
  std::vector<std::string> defaultLoraTargets() const;
};

class PluginRegistry {
public:
  /// Loads every plugin on `searchPath`, in order. Each entry is a directory
  /// (its `*.so` files, sorted, not recursive) or a shared library file. A
  /// missing entry, a file that fails to load or check, and a name already
  /// taken for the same kind each append one message to `errors`; the other
  /// plugins still load. Returns true when nothing was appended. Can be
  /// called again to add more entries; a file already loaded (same realpath)
  /// is skipped.
  bool scan(const std::vector<std::string> &searchPath,
            std::vector<std::string> &errors);

  /// The plugin of `kind` called `name`, or nullptr.
  const LoadedPlugin *find(ftc_plugin_kind_t kind,
                           const std::string &name) const;
  /// Names of the loaded plugins of `kind`, sorted.
  std::vector<std::string> names(ftc_plugin_kind_t kind) const;
  /// All loaded plugins, in load order.
  const std::vector<LoadedPlugin> &plugins() const { return loaded; }

  /// dirname(/proc/self/exe)/../lib/ftc/plugins (lexically normalized).
  static std::string builtinDir();
  /// builtinDir(), then the ':'-separated entries of $FTC_PLUGIN_PATH (empty
  /// entries skipped), then `specPaths` ([plugins] paths in the spec).
  static std::vector<std::string>
  defaultSearchPath(const std::vector<std::string> &specPaths);

  /// "model" or "dataset" (or "unknown").
  static const char *kindName(ftc_plugin_kind_t kind);

private:
  void loadFile(const std::string &path, std::vector<std::string> &errors);

  std::vector<LoadedPlugin> loaded;
  std::set<std::string> seenRealPaths;
};

} // namespace ftc::plugin

#endif // FTC_PLUGIN_HOST_PLUGINREGISTRY_H
