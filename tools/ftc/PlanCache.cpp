//===- PlanCache.cpp - Compiled plans reused across runs
//-------------------===//
// SPDX-License-Identifier: Apache-2.0
#include "PlanCache.h"

#include "ftc/runtime/AtomicFile.h"

#include <toml++/toml.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace ftc;
using namespace ftc::tool;
namespace fs = std::filesystem;

namespace {

/// 64-bit FNV-1a; two differently seeded lanes give a 128-bit key.
uint64_t fnv1a(const std::string &data, uint64_t h) {
  for (unsigned char c : data)
    h = (h ^ c) * 0x100000001b3ull;
  return h;
}

/// What identifies a file's contents cheaply: path, size, modification time.
std::string fileIdentity(const fs::path &p) {
  std::error_code ec;
  auto size = fs::file_size(p, ec);
  auto time = fs::last_write_time(p, ec);
  return p.string() + ":" + std::to_string(ec ? 0 : size) + ":" +
         std::to_string(ec ? 0 : time.time_since_epoch().count());
}

std::string readFile(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

} // namespace

PlanCache::PlanCache(const Job &job, int stage) {
  const char *env = std::getenv("FTC_CACHE_DIR");
  dir_ = env && *env ? std::string(env)
                     : (fs::path(job.outputDir()) / "plan-cache").string();

  std::ostringstream material;
  material << "ftc " << FTC_VERSION << "\n"
           << "compiler " << fileIdentity("/proc/self/exe") << "\n"
           << "plan-format " << plan::kFormatVersion << "\n"
           << "stage " << stage << "\n";
  for (const plugin::LoadedPlugin *p : {&job.model(), &job.dataset()})
    material << "plugin " << p->name << " " << p->version << " "
             << fileIdentity(p->path) << "\n";
  // What the model plugin is shown besides the spec.
  const ftc_dataset_info_t &info = const_cast<Job &>(job).trainSplit().info();
  for (size_t i = 0; i < info.num_features; ++i) {
    const ftc_feature_desc_t &f = info.features[i];
    material << "feature " << f.name << " " << f.dtype;
    for (uint32_t d = 0; d < f.rank; ++d)
      material << " " << f.shape[d];
    material << "\n";
  }
  // train.precision = "auto" compiles per machine.
  material << "precision " << (job.bf16() ? "bf16" : "fp32") << "\n";
  material << "labels " << job.numLabels() << " "
           << (info.label_feature ? info.label_feature : "-") << "\n";
  const spec::Spec &s = job.spec();
  if (s.has("model.checkpoint")) {
    fs::path ckpt = s.getString("model.checkpoint");
    fs::path config =
        (fs::is_directory(ckpt) ? ckpt : ckpt.parent_path()) / "config.json";
    if (fs::exists(config))
      material << "checkpoint-config " << readFile(config) << "\n";
  }
  // Where outputs go does not change the plan; a shared FTC_CACHE_DIR then
  // serves runs that differ only in their output directory.
  toml::table spec = toml::parse(s.toToml());
  if (toml::table *pipeline = spec["pipeline"].as_table())
    pipeline->erase("output_dir");
  material << "spec\n" << spec;

  char hex[40];
  std::string text = material.str();
  std::snprintf(hex, sizeof hex, "%016llx%016llx",
                (unsigned long long)fnv1a(text, 0xcbf29ce484222325ull),
                (unsigned long long)fnv1a(text, 0x84222325cbf29ce4ull));
  key_ = hex;
}

std::string PlanCache::path() const {
  return (fs::path(dir_) / (key_ + ".ftcp")).string();
}

std::optional<plan::Plan> PlanCache::load() const {
  std::error_code ec;
  if (!fs::exists(path(), ec))
    return std::nullopt;
  plan::Plan p;
  std::string error;
  if (!plan::deserialize(readFile(path()), p, error)) {
    std::cerr << "ftc: note: ignoring the cached plan " << path() << ": "
              << error << "\n";
    return std::nullopt;
  }
  return p;
}

void PlanCache::store(const std::string &serialized) const {
  try {
    fs::create_directories(dir_);
    rt::writeFileAtomic(path(), serialized);
  } catch (const std::exception &e) {
    std::cerr << "ftc: note: could not cache the plan in " << dir_ << ": "
              << e.what() << "\n";
  }
}
