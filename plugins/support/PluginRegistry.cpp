//===- PluginRegistry.cpp - Finds, loads and checks ftc plugins -----------===//
// SPDX-License-Identifier: Apache-2.0
//
// The ggml load_backend() shape: dlopen, look up the query symbol, call it
// with the newest version we speak, then check NULL, the major version, the
// kind and every function pointer before anything is used.
//
//===----------------------------------------------------------------------===//
#include "ftc/plugin_host/PluginRegistry.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;
using namespace ftc::plugin;

namespace {

std::string versionString(uint32_t v) {
  return std::to_string(v >> 16) + "." + std::to_string(v & 0xffffu);
}

/// Checks the kind-specific table; returns an empty string when it is usable.
std::string checkKeys(const ftc_key_decl_t *keys, size_t numKeys) {
  if (numKeys && !keys)
    return "declares " + std::to_string(numKeys) + " keys but 'keys' is NULL";
  for (size_t i = 0; i < numKeys; ++i) {
    const ftc_key_decl_t &k = keys[i];
    if (!k.name || !*k.name)
      return "key #" + std::to_string(i) + " has no name";
    if (k.type < FTC_KEY_INT || k.type > FTC_KEY_FLOAT_ARRAY)
      return "key '" + std::string(k.name) + "' has unknown type " +
             std::to_string(k.type);
  }
  return {};
}

} // namespace

const char *PluginRegistry::kindName(ftc_plugin_kind_t kind) {
  switch (kind) {
  case FTC_PLUGIN_KIND_MODEL:
    return "model";
  case FTC_PLUGIN_KIND_DATASET:
    return "dataset";
  }
  return "unknown";
}

std::string PluginRegistry::builtinDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec)
    return "lib/ftc/plugins";
  return (exe.parent_path() / ".." / "lib" / "ftc" / "plugins")
      .lexically_normal()
      .string();
}

std::vector<std::string>
PluginRegistry::defaultSearchPath(const std::vector<std::string> &specPaths) {
  std::vector<std::string> path{builtinDir()};
  if (const char *env = std::getenv("FTC_PLUGIN_PATH")) {
    std::string s(env);
    size_t start = 0;
    while (start <= s.size()) {
      size_t end = s.find(':', start);
      if (end == std::string::npos)
        end = s.size();
      if (end > start)
        path.push_back(s.substr(start, end - start));
      start = end + 1;
    }
  }
  path.insert(path.end(), specPaths.begin(), specPaths.end());
  return path;
}

bool PluginRegistry::scan(const std::vector<std::string> &searchPath,
                          std::vector<std::string> &errors) {
  size_t before = errors.size();
  for (const std::string &entry : searchPath) {
    std::error_code ec;
    fs::file_status st = fs::status(entry, ec);
    if (ec || !fs::exists(st)) {
      errors.push_back(entry + ": plugin path does not exist");
      continue;
    }
    if (!fs::is_directory(st)) {
      loadFile(entry, errors);
      continue;
    }
    std::vector<std::string> files;
    fs::directory_iterator it(entry, ec), end;
    if (ec) {
      errors.push_back(entry +
                       ": cannot list plugin directory: " + ec.message());
      continue;
    }
    for (; it != end; it.increment(ec)) {
      const fs::path &p = it->path();
      if (p.extension() != ".so")
        continue;
      std::error_code fec;
      if (fs::is_directory(it->status(fec)))
        continue;
      files.push_back(p.string());
    }
    if (ec)
      errors.push_back(entry +
                       ": cannot list plugin directory: " + ec.message());
    std::sort(files.begin(), files.end());
    for (const std::string &f : files)
      loadFile(f, errors);
  }
  return errors.size() == before;
}

void PluginRegistry::loadFile(const std::string &path,
                              std::vector<std::string> &errors) {
  std::error_code ec;
  fs::path real = fs::canonical(path, ec);
  std::string key = ec ? path : real.string();
  if (!seenRealPaths.insert(key).second)
    return; // The same file reached twice: loaded once.

  dlerror();
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    errors.push_back(
        path + ": cannot load plugin: " + (why ? why : "unknown dlopen error"));
    return;
  }
  auto fail = [&](const std::string &what) {
    errors.push_back(path + ": " + what);
    dlclose(handle);
  };

  auto query = reinterpret_cast<ftc_plugin_query_fn_t>(
      dlsym(handle, FTC_PLUGIN_QUERY_SYMBOL));
  if (!query)
    return fail("not an ftc plugin: it does not export '" +
                std::string(FTC_PLUGIN_QUERY_SYMBOL) + "'");

  const ftc_plugin_header_t *header = query(FTC_PLUGIN_API_VERSION_LATEST);
  if (!header)
    return fail("plugin does not support ABI version <= " +
                versionString(FTC_PLUGIN_API_VERSION_LATEST));
  if (FTC_PLUGIN_API_MAJOR(header->api_version) !=
      FTC_PLUGIN_API_MAJOR(FTC_PLUGIN_API_VERSION_LATEST))
    return fail("plugin built for plugin ABI " +
                versionString(header->api_version) + ", this ftc supports " +
                versionString(FTC_PLUGIN_API_VERSION_LATEST));
  if (header->kind != FTC_PLUGIN_KIND_MODEL &&
      header->kind != FTC_PLUGIN_KIND_DATASET)
    return fail("unknown plugin kind " + std::to_string(header->kind));
  auto kind = static_cast<ftc_plugin_kind_t>(header->kind);
  if (!header->name || !*header->name)
    return fail(std::string(kindName(kind)) + " plugin has no name");
  std::string name = header->name;
  std::string what = std::string(kindName(kind)) + " plugin '" + name + "'";

  LoadedPlugin plugin{path,
                      name,
                      header->version ? header->version : "",
                      header->description ? header->description : "",
                      header->api_version,
                      kind,
                      nullptr,
                      nullptr};
  if (kind == FTC_PLUGIN_KIND_MODEL) {
    auto *model = reinterpret_cast<const ftc_model_plugin_v1_t *>(header);
    if (!model->build)
      return fail(what + " has a NULL 'build' function");
    std::string bad = checkKeys(model->keys, model->num_keys);
    if (!bad.empty())
      return fail(what + ": " + bad);
    plugin.model = model;
  } else {
    auto *dataset = reinterpret_cast<const ftc_dataset_plugin_v1_t *>(header);
    const char *missing = !dataset->open    ? "open"
                          : !dataset->info  ? "info"
                          : !dataset->fill  ? "fill"
                          : !dataset->close ? "close"
                                            : nullptr;
    if (missing)
      return fail(what + " has a NULL '" + missing + "' function");
    std::string bad = checkKeys(dataset->keys, dataset->num_keys);
    if (!bad.empty())
      return fail(what + ": " + bad);
    plugin.dataset = dataset;
  }

  if (const LoadedPlugin *other = find(kind, name))
    return fail("plugin name '" + name + "' (" + kindName(kind) +
                ") is provided by both " + other->path + " and " + path);
  loaded.push_back(std::move(plugin));
}

const LoadedPlugin *PluginRegistry::find(ftc_plugin_kind_t kind,
                                         const std::string &name) const {
  for (const LoadedPlugin &p : loaded)
    if (p.kind == kind && p.name == name)
      return &p;
  return nullptr;
}

std::vector<std::string> PluginRegistry::names(ftc_plugin_kind_t kind) const {
  std::vector<std::string> out;
  for (const LoadedPlugin &p : loaded)
    if (p.kind == kind)
      out.push_back(p.name);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> LoadedPlugin::defaultLoraTargets() const {
  const ftc_family_info_t *f = family();
  std::vector<std::string> out;
  if (!f || apiVersion < FTC_PLUGIN_API_VERSION_1_5 || !f->default_lora_targets)
    return out;
  std::string list = f->default_lora_targets;
  for (size_t start = 0; start <= list.size();) {
    size_t comma = std::min(list.find(',', start), list.size());
    if (comma > start)
      out.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}
