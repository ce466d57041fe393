//===- TestSupport.h - Helpers for the plugin unit tests --------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_TEST_UNIT_PLUGINS_TESTSUPPORT_H
#define FTC_TEST_UNIT_PLUGINS_TESTSUPPORT_H

#include "ftc/plugin_host/ErrorBuffer.h"
#include "ftc/plugin_host/PluginRegistry.h"
#include "ftc/plugin_host/TomlConfig.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace ftc::test {

/// A fresh directory under $TMPDIR, removed at the end of the test.
class TempDir {
public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "ftc-plugin-test-XXXXXX")
            .string();
    if (!mkdtemp(tmpl.data()))
      throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string path(const std::string &name) const { return dir + "/" + name; }
  const std::string &str() const { return dir; }

private:
  std::string dir;
};

inline void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

inline std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// The registry with the built-in plugins (mlp, idx) loaded.
inline const plugin::PluginRegistry &builtinRegistry() {
  static plugin::PluginRegistry registry = [] {
    plugin::PluginRegistry r;
    std::vector<std::string> errors;
    r.scan({FTC_PLUGIN_DIR}, errors);
    for (const std::string &e : errors)
      ADD_FAILURE() << e;
    return r;
  }();
  return registry;
}

/// Parses `text` and fills in the defaults of `keys` in `section`, as the
/// spec schema does before a plugin sees the config.
inline std::shared_ptr<const toml::table>
resolvedSpec(const std::string &text, const std::string &section,
             const ftc_key_decl_t *keys, size_t numKeys) {
  auto root = std::make_shared<toml::table>(toml::parse(text));
  if (!root->contains(section))
    root->insert(section, toml::table{});
  toml::table &sec = *(*root)[section].as_table();
  for (size_t i = 0; i < numKeys; ++i) {
    if (!keys[i].default_toml || sec.contains(keys[i].name))
      continue;
    toml::table value = toml::parse(std::string("v = ") + keys[i].default_toml);
    sec.insert(keys[i].name, *value.get("v"));
  }
  return root;
}

/// The built-in dataset plugin called `name`.
inline const ftc_dataset_plugin_v1_t &datasetPlugin(const std::string &name) {
  const plugin::LoadedPlugin *p =
      builtinRegistry().find(FTC_PLUGIN_KIND_DATASET, name);
  if (!p)
    throw std::runtime_error(name + " plugin not loaded");
  return *p->dataset;
}

/// A split opened through a dataset plugin's C table, or the error open()
/// returned. Closes itself.
struct OpenedSplit {
  const ftc_dataset_plugin_v1_t *plugin = nullptr;
  ftc_status_t status = FTC_STATUS_INTERNAL;
  std::string message, key;
  void *handle = nullptr;
  ftc_dataset_info_t info{};
  OpenedSplit() = default;
  OpenedSplit(const OpenedSplit &) = delete;
  ~OpenedSplit() {
    if (handle)
      plugin->close(handle);
  }
};

/// Opens `split` of the dataset plugin `name`, configured by the whole spec
/// `specToml` with the plugin's [dataset] defaults filled in.
inline void openSplit(OpenedSplit &o, const std::string &name,
                      const std::string &specToml,
                      const char *split = "train") {
  const ftc_dataset_plugin_v1_t &d = datasetPlugin(name);
  o.plugin = &d;
  auto root = resolvedSpec(specToml, "dataset", d.keys, d.num_keys);
  plugin::TomlConfig config(root, "dataset");
  plugin::ErrorBuffer err;
  o.status = d.open(config.config(), split, &o.handle, err.get());
  if (o.status != FTC_STATUS_OK) {
    o.message = err.message();
    o.key = err.key() ? err.key() : "";
    EXPECT_EQ(o.handle, nullptr);
    return;
  }
  EXPECT_EQ(d.info(o.handle, &o.info), FTC_STATUS_OK);
}

} // namespace ftc::test

#endif // FTC_TEST_UNIT_PLUGINS_TESTSUPPORT_H
