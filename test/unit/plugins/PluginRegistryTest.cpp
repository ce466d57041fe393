//===- PluginRegistryTest.cpp - Loading plugins and each failure mode -----===//
// SPDX-License-Identifier: Apache-2.0
#include "TestSupport.h"
#include <algorithm>
#include <filesystem>

#include <cstdlib>

using namespace ftc;
using plugin::PluginRegistry;

namespace {

std::string testingPlugin(const std::string &name) {
  return std::string(FTC_TESTING_PLUGIN_DIR) + "/" + name;
}

/// Scans the built-ins plus `extra`; expects exactly one error and returns it.
std::string loadError(const std::string &extra) {
  PluginRegistry registry;
  std::vector<std::string> errors;
  EXPECT_FALSE(registry.scan({FTC_PLUGIN_DIR, extra}, errors));
  EXPECT_EQ(errors.size(), 1u);
  // The good plugins still load.
  EXPECT_NE(registry.find(FTC_PLUGIN_KIND_MODEL, "mlp"), nullptr);
  EXPECT_NE(registry.find(FTC_PLUGIN_KIND_DATASET, "idx"), nullptr);
  return errors.empty() ? std::string() : errors.front();
}

TEST(PluginRegistry, LoadsBuiltins) {
  PluginRegistry registry;
  std::vector<std::string> errors;
  ASSERT_TRUE(registry.scan({FTC_PLUGIN_DIR}, errors)) << errors.front();
  // One plugin per .so in the built-in directory.
  size_t files = 0;
  for (const auto &entry : std::filesystem::directory_iterator(FTC_PLUGIN_DIR))
    files += entry.path().extension() == ".so";
  EXPECT_EQ(registry.plugins().size(), files);

  const plugin::LoadedPlugin *mlp = registry.find(FTC_PLUGIN_KIND_MODEL, "mlp");
  ASSERT_NE(mlp, nullptr);
  EXPECT_EQ(mlp->kind, FTC_PLUGIN_KIND_MODEL);
  EXPECT_EQ(mlp->version, "1.1.0");
  EXPECT_EQ(mlp->apiVersion, FTC_PLUGIN_API_VERSION_1_5);
  EXPECT_NE(mlp->model, nullptr);
  EXPECT_EQ(mlp->dataset, nullptr);
  EXPECT_NE(mlp->path.find("ftc_mlp.so"), std::string::npos);
  EXPECT_FALSE(mlp->description.empty());
  EXPECT_EQ(mlp->model->num_keys, 2u);

  const plugin::LoadedPlugin *idx =
      registry.find(FTC_PLUGIN_KIND_DATASET, "idx");
  ASSERT_NE(idx, nullptr);
  EXPECT_NE(idx->dataset, nullptr);
  EXPECT_EQ(idx->model, nullptr);

  EXPECT_EQ(registry.find(FTC_PLUGIN_KIND_DATASET, "mlp"), nullptr);
  std::vector<std::string> models = registry.names(FTC_PLUGIN_KIND_MODEL);
  std::vector<std::string> datasets = registry.names(FTC_PLUGIN_KIND_DATASET);
  EXPECT_TRUE(std::is_sorted(models.begin(), models.end()));
  EXPECT_NE(std::find(models.begin(), models.end(), "mlp"), models.end());
  EXPECT_NE(std::find(datasets.begin(), datasets.end(), "idx"), datasets.end());
  EXPECT_EQ(std::find(models.begin(), models.end(), "idx"), models.end());
}

TEST(PluginRegistry, SameFileTwiceLoadsOnce) {
  PluginRegistry registry;
  std::vector<std::string> errors;
  std::string dir = FTC_PLUGIN_DIR;
  EXPECT_TRUE(registry.scan({dir}, errors));
  size_t once = registry.plugins().size();
  EXPECT_GE(once, 2u);
  EXPECT_TRUE(registry.scan({dir, dir + "/ftc_mlp.so", dir + "/./"}, errors));
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(registry.plugins().size(), once);
}

TEST(PluginRegistry, SingleFileEntry) {
  PluginRegistry registry;
  std::vector<std::string> errors;
  EXPECT_TRUE(
      registry.scan({std::string(FTC_PLUGIN_DIR) + "/ftc_idx.so"}, errors));
  EXPECT_EQ(registry.names(FTC_PLUGIN_KIND_DATASET),
            std::vector<std::string>{"idx"});
  EXPECT_TRUE(registry.names(FTC_PLUGIN_KIND_MODEL).empty());
}

TEST(PluginRegistry, MissingSymbol) {
  std::string e = loadError(testingPlugin("missing_symbol"));
  EXPECT_NE(e.find("missing_symbol/ftc_missing_symbol.so: not an ftc plugin: "
                   "it does not export 'ftc_plugin_query'"),
            std::string::npos)
      << e;
}

TEST(PluginRegistry, VersionMismatch) {
  std::string e = loadError(testingPlugin("version_mismatch"));
  EXPECT_NE(e.find("ftc_version_mismatch.so: plugin built for plugin ABI "
                   "2.0, this ftc supports 1.6"),
            std::string::npos)
      << e;
}

TEST(PluginRegistry, NullQuery) {
  std::string e = loadError(testingPlugin("null_query"));
  EXPECT_NE(e.find("ftc_null_query.so: plugin does not support ABI version "
                   "<= 1.6"),
            std::string::npos)
      << e;
}

TEST(PluginRegistry, DuplicateName) {
  std::string e = loadError(testingPlugin("duplicate_name"));
  EXPECT_NE(e.find("plugin name 'mlp' (model) is provided by both "),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("plugins/ftc_mlp.so and "), std::string::npos) << e;
  EXPECT_NE(e.find("duplicate_name/ftc_duplicate_name.so"), std::string::npos)
      << e;
}

TEST(PluginRegistry, NullFunction) {
  std::string e = loadError(testingPlugin("null_function"));
  EXPECT_NE(e.find("ftc_null_function.so: model plugin 'null_function' has a "
                   "NULL 'build' function"),
            std::string::npos)
      << e;
}

TEST(PluginRegistry, NonexistentPath) {
  std::string e = loadError("/nonexistent/ftc-plugins");
  EXPECT_EQ(e, "/nonexistent/ftc-plugins: plugin path does not exist");
}

TEST(PluginRegistry, NotAnElfFile) {
  test::TempDir tmp;
  std::string junk = tmp.path("junk.so");
  test::writeBytes(junk, "junk\n");
  std::string e = loadError(junk);
  EXPECT_EQ(e.rfind(junk + ": cannot load plugin: ", 0), 0u) << e;
}

TEST(PluginRegistry, DirectorySkipsNonSoFiles) {
  test::TempDir tmp;
  test::writeBytes(tmp.path("README.txt"), "not a plugin");
  PluginRegistry registry;
  std::vector<std::string> errors;
  EXPECT_TRUE(registry.scan({tmp.str()}, errors));
  EXPECT_TRUE(registry.plugins().empty());
}

TEST(PluginRegistry, DefaultSearchPath) {
  const char *old = std::getenv("FTC_PLUGIN_PATH");
  std::string saved = old ? old : "";
  setenv("FTC_PLUGIN_PATH", "/a::/b/c.so:", 1);
  std::vector<std::string> path = PluginRegistry::defaultSearchPath({"/spec"});
  if (old)
    setenv("FTC_PLUGIN_PATH", saved.c_str(), 1);
  else
    unsetenv("FTC_PLUGIN_PATH");
  ASSERT_EQ(path.size(), 4u);
  EXPECT_EQ(path[0], PluginRegistry::builtinDir());
  EXPECT_EQ(path[1], "/a");
  EXPECT_EQ(path[2], "/b/c.so");
  EXPECT_EQ(path[3], "/spec");
}

TEST(PluginRegistry, BuiltinDirIsNextToTheBinary) {
  // The test binary lives in <build>/unittests, so <build>/lib/ftc/plugins.
  std::string dir = PluginRegistry::builtinDir();
  EXPECT_EQ(std::filesystem::path(dir).lexically_normal(),
            std::filesystem::path(FTC_PLUGIN_DIR).lexically_normal());
}

} // namespace
