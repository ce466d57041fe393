//===- DatasetDump.cpp - Print a dataset plugin's examples as JSON --------===//
// SPDX-License-Identifier: Apache-2.0
//
// usage: ftc-dataset-dump <spec.toml> <split> [--epoch N] [--seed S] [--meta]
//
// Opens <split> of the spec's [dataset] with the built-in dataset plugin
// that dataset.type names (<bin>/../lib/ftc/plugins), the plugin's key
// defaults filled in as the spec schema does, and prints one JSON line per
// example: {"index", <feature>: [values...], "facts": {"record", "length",
// "unknown", "hash"}} (facts when the plugin describes its examples), after
// a first line {"examples", "features": {name: shape}, "record_unit", ...}.
// A failed open prints "error: [<key>] <message>" and exits 1, so that lit
// tests can check a plugin's data errors without a model. --epoch calls the
// plugin's set_epoch (ABI 1.6) with that epoch and --seed (default 0)
// before filling; --meta adds to the first line "classes" (label names),
// "skipped_records" and, with --epoch, "varies" (set_epoch's answer).
//
//===----------------------------------------------------------------------===//
#include "ftc/plugin_host/ErrorBuffer.h"
#include "ftc/plugin_host/PluginRegistry.h"
#include "ftc/plugin_host/TomlConfig.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace ftc;
using nlohmann::ordered_json;

namespace {

/// The spec with the plugin's declared defaults in [dataset].
std::shared_ptr<const toml::table>
withDefaults(toml::table spec, const ftc_dataset_plugin_v1_t &d) {
  toml::table &sec = *spec["dataset"].as_table();
  for (size_t i = 0; i < d.num_keys; ++i) {
    const ftc_key_decl_t &k = d.keys[i];
    if (!k.default_toml || sec.contains(k.name))
      continue;
    toml::table value = toml::parse(std::string("v = ") + k.default_toml);
    sec.insert(k.name, *value.get("v"));
  }
  return std::make_shared<toml::table>(std::move(spec));
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::optional<int64_t> epoch;
  uint64_t seed = 0;
  bool meta = false;
  for (size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "--epoch" && i + 1 < args.size())
      epoch = std::stoll(args[++i]);
    else if (args[i] == "--seed" && i + 1 < args.size())
      seed = std::stoull(args[++i]);
    else if (args[i] == "--meta")
      meta = true;
    else
      args.clear();
  }
  if (args.size() < 2) {
    std::cerr << "usage: ftc-dataset-dump <spec.toml> <split> [--epoch N] "
                 "[--seed S] [--meta]\n";
    return 2;
  }
  try {
    toml::table spec = toml::parse_file(args[0]);
    std::string type = spec["dataset"]["type"].value_or(std::string());
    std::filesystem::path bin =
        std::filesystem::canonical("/proc/self/exe").parent_path();
    plugin::PluginRegistry registry;
    std::vector<std::string> errors;
    registry.scan({(bin / "../lib/ftc/plugins").string()}, errors);
    const plugin::LoadedPlugin *p =
        registry.find(FTC_PLUGIN_KIND_DATASET, type);
    if (!p) {
      std::cerr << "error: no dataset plugin '" << type << "'\n";
      return 1;
    }
    const ftc_dataset_plugin_v1_t &d = *p->dataset;
    plugin::TomlConfig config(withDefaults(std::move(spec), d), "dataset");
    plugin::ErrorBuffer err;
    void *handle = nullptr;
    if (d.open(config.config(), args[1].c_str(), &handle, err.get()) !=
        FTC_STATUS_OK) {
      std::cout << "error: [" << (err.key() ? err.key() : "") << "] "
                << err.message() << "\n";
      return 1;
    }
    ftc_dataset_info_t info{};
    d.info(handle, &info);
    int32_t varies = -1;
    if (epoch) {
      if (p->apiVersion < FTC_PLUGIN_API_VERSION_1_6 || !d.set_epoch) {
        std::cerr << "error: the plugin has no set_epoch\n";
        return 1;
      }
      varies = d.set_epoch(handle, *epoch, seed);
    }
    ftc_split_facts_t facts{};
    bool described =
        d.describe && d.describe(handle, &facts, err.get()) == FTC_STATUS_OK;
    ordered_json head;
    head["examples"] = info.num_examples;
    head["features"] = ordered_json::object();
    std::vector<size_t> sizes;
    for (size_t f = 0; f < info.num_features; ++f) {
      const ftc_feature_desc_t &fd = info.features[f];
      size_t n = 1;
      for (uint32_t r = 0; r < fd.rank; ++r)
        n *= size_t(fd.shape[r]);
      sizes.push_back(n);
      head["features"][fd.name] =
          std::vector<int64_t>(fd.shape, fd.shape + fd.rank);
    }
    if (info.label_feature)
      head["label_feature"] = info.label_feature;
    if (described) {
      head["record_unit"] = facts.record_unit ? facts.record_unit : "";
      head["length_unit"] = facts.length_unit ? facts.length_unit : "";
      head["max_length"] = facts.max_length;
    }
    if (meta) {
      ordered_json classes = ordered_json::array();
      for (int64_t c = 0; c < info.num_classes && d.label_name; ++c) {
        const char *name = d.label_name(handle, c);
        classes.push_back(name ? name : "");
      }
      head["classes"] = classes;
      head["skipped_records"] =
          d.skipped_records ? d.skipped_records(handle) : 0;
      if (epoch)
        head["varies"] = varies != 0;
    }
    std::cout << head.dump() << "\n";

    std::vector<std::vector<int32_t>> bufs(sizes.size()); // I32 or F32 bits
    std::vector<void *> ptrs;
    for (size_t f = 0; f < sizes.size(); ++f) {
      bufs[f].resize(sizes[f]);
      ptrs.push_back(bufs[f].data());
    }
    for (int64_t i = 0; i < info.num_examples; ++i) {
      if (d.fill(handle, &i, 1, ptrs.data(), err.get()) != FTC_STATUS_OK) {
        std::cout << "error: fill " << i << ": " << err.message() << "\n";
        return 1;
      }
      ordered_json line;
      line["index"] = i;
      for (size_t f = 0; f < sizes.size(); ++f) {
        if (info.features[f].dtype == FTC_DTYPE_I32) {
          line[info.features[f].name] = bufs[f];
        } else {
          const auto *v = reinterpret_cast<const float *>(bufs[f].data());
          line[info.features[f].name] = std::vector<float>(v, v + sizes[f]);
        }
      }
      if (described) {
        const ftc_example_facts_t &e = facts.examples[i];
        line["facts"] = {{"record", e.record},
                         {"length", e.length},
                         {"unknown", e.unknown},
                         {"hash", e.hash}};
      }
      std::cout << line.dump() << "\n";
    }
    d.close(handle);
    return 0;
  } catch (const std::exception &e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
