//===- ImageFolder.cpp - Images in one folder per class -------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// A split is a folder with one subfolder per class (torchvision's
// ImageFolder layout): classes sorted by name are labels 0, 1, ...; their
// PNG and JPEG files (told apart by their first bytes, not their names) are
// the examples. open() decodes every image, so a corrupt one is found
// before training (an error naming the file, or with on_corrupt = "skip"
// skipped and counted), and keeps the pixels when they fit in memory. The
// transforms (channels, resize, crop, flip, normalise) are ftc::image's;
// random crops and flips of the train split are a function of (seed,
// epoch, example index), the epoch set by the host (ABI 1.6 set_epoch).
//
// Features: "image" F32 [C, H, W] and "label" I32 [].
//===----------------------------------------------------------------------===//
#include "ImageDecode.h"

#include "ftc/plugin.hpp"
#include "ftc/plugin_host/FileBytes.h"
#include "ftc/plugin_host/ImageTransforms.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace ftc::plugin;
using namespace ftc::image;
namespace fs = std::filesystem;

namespace {

/// Decoded pixels kept in memory up to this many bytes per split; beyond it
/// fill() decodes each image again.
constexpr uint64_t kKeepBytes = uint64_t(1) << 30;

bool hidden(const fs::path &p) {
  std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

/// The class folders of a split folder: its subfolders, sorted by name
/// (hidden ones ignored).
std::vector<std::string> classFolders(const std::string &dir, const char *key) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const fs::directory_entry &e : fs::directory_iterator(dir, ec))
    if (!hidden(e.path()) && e.is_directory(ec))
      names.push_back(e.path().filename().string());
  if (ec)
    throw Error(FTC_STATUS_IO_ERROR,
                dir + ": cannot list the folder: " + ec.message(), key);
  std::sort(names.begin(), names.end());
  return names;
}

/// The files under `dir` (recursively, hidden files and folders ignored),
/// sorted by path.
std::vector<std::string> filesUnder(const std::string &dir, const char *key,
                                    bool recursive) {
  std::vector<std::string> files;
  std::error_code ec;
  auto add = [&](const fs::directory_entry &e) {
    if (!hidden(e.path()) && e.is_regular_file(ec))
      files.push_back(e.path().string());
  };
  if (recursive) {
    fs::recursive_directory_iterator it(
        dir, fs::directory_options::follow_directory_symlink, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (hidden(it->path())) {
        it.disable_recursion_pending();
        continue;
      }
      add(*it);
    }
  } else {
    for (const fs::directory_entry &e : fs::directory_iterator(dir, ec))
      add(e);
  }
  if (ec)
    throw Error(FTC_STATUS_IO_ERROR,
                dir + ": cannot list the folder: " + ec.message(), key);
  std::sort(files.begin(), files.end());
  return files;
}

struct Listed {
  std::string path;
  int32_t label; // -1: unlabelled (predict)
};

/// The examples of `lists` (one list per class, each in path order) round
/// robin: the first image of every class, then the second, ... So that
/// train_limit / eval_limit keep every class.
std::vector<Listed> interleave(const std::vector<std::vector<Listed>> &lists) {
  std::vector<Listed> out;
  for (size_t i = 0;; ++i) {
    bool any = false;
    for (const std::vector<Listed> &l : lists)
      if (i < l.size()) {
        out.push_back(l[i]);
        any = true;
      }
    if (!any)
      return out;
  }
}

class ImageFolderDataset : public Dataset {
public:
  struct Example {
    std::string path;
    int32_t label;
    Size size;
    int64_t channels;
    std::vector<uint8_t> pixels; // empty when not kept
  };

  ImageFolderDataset(std::vector<Example> examples,
                     std::vector<std::string> classNames, TransformSpec spec,
                     int64_t channels, Size size, uint64_t seed,
                     int64_t skipped, std::string source,
                     std::vector<ftc_example_facts_t> facts)
      : examples(std::move(examples)), classes(std::move(classNames)),
        spec(std::move(spec)), channels(channels), size(size), seed(seed),
        skipped(skipped), source(std::move(source)), facts(std::move(facts)) {
    setNumExamples(int64_t(this->examples.size()));
    addFeature("image", FTC_DTYPE_F32, {channels, size.height, size.width});
    addFeature("label", FTC_DTYPE_I32, {});
    setLabel("label", int64_t(classes.size()));
  }

  void fill(const int64_t *indices, size_t count,
            void *const *buffers) override {
    auto *image = static_cast<float *>(buffers[0]);
    auto *label = static_cast<int32_t *>(buffers[1]);
    size_t per = size_t(channels) * size_t(size.height) * size_t(size.width);
    Decoded again;
    for (size_t i = 0; i < count; ++i) {
      const Example &e = examples[size_t(indices[i])];
      ImageView view{e.pixels.data(), e.size.height, e.size.width, e.channels};
      if (e.pixels.empty()) {
        std::vector<uint8_t> bytes;
        std::string why;
        if (!ftc::plugin_host::readFileBytes(e.path, bytes, why) ||
            !decode(bytes.data(), bytes.size(), again, why) ||
            again.height != e.size.height || again.width != e.size.width ||
            again.channels != e.channels)
          throw Error(FTC_STATUS_DATA_ERROR,
                      e.path + ": " + (why.empty() ? "changed" : why) +
                          " (it was read when the split was opened)");
        view.pixels = again.pixels.data();
      }
      Augment aug;
      if (spec.random())
        aug = spec.augment(seed, epoch, indices[i], e.size);
      spec.apply(view, channels, aug, image + i * per);
      label[i] = e.label;
    }
  }

  const char *labelName(int64_t index) const override {
    return index >= 0 && size_t(index) < classes.size()
               ? classes[size_t(index)].c_str()
               : nullptr;
  }

  int64_t skippedRecords() const override { return skipped; }

  bool describe(ftc_split_facts_t &out) override {
    out.source = source.c_str();
    out.record_unit = "image";
    out.length_unit = nullptr;
    out.max_length = 0;
    out.examples = facts.data();
    return true;
  }

  bool setEpoch(int64_t e, uint64_t s) override {
    epoch = e;
    seed = s;
    return spec.random();
  }

private:
  std::vector<Example> examples;
  std::vector<std::string> classes;
  TransformSpec spec;
  int64_t channels;
  Size size;
  uint64_t seed;
  int64_t epoch = 1;
  int64_t skipped;
  std::string source;
  std::vector<ftc_example_facts_t> facts;
};

const char *channelName(int64_t c) { return c == 1 ? "grey" : "RGB"; }

struct ImageFolder {
  static constexpr const char *kName = "image-folder";
  static constexpr const char *kVersion = "1.0.0";
  static constexpr const char *kDescription =
      "PNG and JPEG images, one folder per class";
  static constexpr ftc_key_decl_t kKeys[] = {
      kChannelsKey,
      kImageSizeKey,
      kCropKey,
      kCropModeKey,
      kHflipKey,
      kNormalizeKey,
      kMeanKey,
      kStdKey,
      stringKey("on_corrupt", "\"error\"", "error|skip",
                "a corrupt, truncated or unreadable image: an error naming "
                "the file, or skipped and counted"),
  };

  static std::unique_ptr<Dataset> open(const Config &config,
                                       const std::string &split) {
    const char *key = splitKey(split);
    TransformSpec spec = TransformSpec::fromConfig(config, split == "train");
    std::string onCorrupt = config.findString("on_corrupt").value_or("error");
    if (onCorrupt != "error" && onCorrupt != "skip")
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "on_corrupt = \"" + onCorrupt +
                      "\": expected \"error\" or \"skip\"",
                  "on_corrupt");
    bool skip = onCorrupt == "skip";
    uint64_t seed = uint64_t(config.findInt("pipeline.seed").value_or(0));

    std::optional<std::string> dir = config.findString(key);
    if (!dir || dir->empty())
      throw Error(FTC_STATUS_NOT_FOUND,
                  std::string("the image-folder dataset needs '") + key +
                      "', the folder of the " + split + " split",
                  key);
    std::error_code ec;
    if (!fs::exists(*dir, ec))
      throw Error(FTC_STATUS_NOT_FOUND,
                  *dir + ": cannot open: " + std::strerror(ENOENT), key);
    bool isDir = fs::is_directory(*dir, ec);
    if (!isDir && split != "predict")
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  *dir + ": not a folder (image-folder reads a folder with "
                         "one subfolder of images per class)",
                  key);

    // The class list: the train split's, in every split, so that a label
    // means the same class everywhere.
    std::vector<std::string> classes;
    std::optional<std::string> trainDir = config.findString("train");
    bool fromTrain =
        split != "train" && trainDir && fs::is_directory(*trainDir, ec);
    if (fromTrain)
      classes = classFolders(*trainDir, "train");
    std::vector<std::vector<Listed>> perClass;
    if (!isDir) {
      perClass.push_back({{*dir, -1}}); // ftc predict --input <one image>
    } else {
      std::vector<std::string> folders = classFolders(*dir, key);
      if (!fromTrain) {
        classes = folders;
        if (classes.empty() && split != "predict")
          throw Error(FTC_STATUS_DATA_ERROR,
                      *dir + ": no class folders (image-folder reads one "
                             "subfolder of images per class)",
                      key);
      }
      std::map<std::string, int32_t> index;
      for (size_t i = 0; i < classes.size(); ++i)
        index[classes[i]] = int32_t(i);
      if (split == "predict") // images outside class folders: unlabelled
        perClass.push_back(listUnlabelled(*dir, key));
      for (const std::string &name : folders) {
        auto it = index.find(name);
        if (it == index.end() && split != "predict")
          throw Error(FTC_STATUS_DATA_ERROR,
                      *dir + "/" + name + ": '" + name +
                          "' is not a class of the train split (" + *trainDir +
                          ")",
                      key);
        int32_t label = it == index.end() ? -1 : it->second;
        std::vector<Listed> files;
        for (std::string &f : filesUnder(*dir + "/" + name, key, true))
          files.push_back({std::move(f), label});
        if (files.empty() && split == "train")
          throw Error(FTC_STATUS_DATA_ERROR,
                      *dir + "/" + name + ": the class folder holds no images",
                      key);
        perClass.push_back(std::move(files));
      }
    }
    std::vector<Listed> listed = interleave(perClass);

    // Decode every image: corrupt ones are found now, not mid-epoch.
    std::vector<ImageFolderDataset::Example> examples;
    std::vector<ftc_example_facts_t> facts;
    int64_t skipped = 0, channels = spec.channels;
    Size size;
    std::string first; // the image that set the shape
    uint64_t kept = 0;
    bool keep = true;
    std::vector<uint8_t> bytes;
    for (Listed &l : listed) {
      std::string why;
      Decoded d;
      if (!ftc::plugin_host::readFileBytes(l.path, bytes, why) ||
          !decode(bytes.data(), bytes.size(), d, why)) {
        if (skip) {
          ++skipped;
          continue;
        }
        throw Error(why.rfind("cannot ", 0) == 0 ? FTC_STATUS_IO_ERROR
                                                 : FTC_STATUS_DATA_ERROR,
                    l.path + ": " + why +
                        " (set on_corrupt = \"skip\" to skip such images)",
                    key);
      }
      Size in{d.height, d.width};
      if (std::string problem = spec.problem(in); !problem.empty())
        throw Error(FTC_STATUS_INVALID_ARGUMENT,
                    l.path + " (" + in.str() + "): " + problem,
                    spec.crop.empty() ? "image_size" : "crop");
      Size out = spec.output(in);
      if (first.empty()) {
        first = l.path;
        size = out;
        if (!channels)
          channels = d.channels;
        spec.checkChannels(channels);
      } else if (out != size) {
        throw Error(FTC_STATUS_INVALID_ARGUMENT,
                    l.path + " gives a " + out.str() + " image, " + first +
                        " a " + size.str() +
                        ": the image feature has one shape; set " +
                        (spec.shorter ? "crop"
                                      : "image_size = [height, width] or crop"),
                    spec.shorter ? "crop" : "image_size");
      }
      if (!spec.channels && d.channels != channels)
        throw Error(FTC_STATUS_INVALID_ARGUMENT,
                    l.path + " is " + channelName(d.channels) + ", " + first +
                        " is " + channelName(channels) +
                        ": set channels = 1 or 3",
                    "channels");
      ftc_example_facts_t f{};
      std::string dims = std::to_string(d.height) + "x" +
                         std::to_string(d.width) + "x" +
                         std::to_string(d.channels);
      f.hash = f.normalized_hash = hashBytes(
          std::string_view(reinterpret_cast<const char *>(d.pixels.data()),
                           d.pixels.size()),
          hashBytes(dims));
      f.record = int64_t(facts.size()) + 1;
      f.length = f.unknown = -1;
      facts.push_back(f);
      kept += d.pixels.size();
      examples.push_back(
          {std::move(l.path), l.label, in, d.channels, std::move(d.pixels)});
      if (kept > kKeepBytes && keep) {
        // Too many to keep: fill() decodes them again.
        keep = false;
        for (ImageFolderDataset::Example &e : examples)
          std::vector<uint8_t>().swap(e.pixels);
      }
      if (!keep)
        std::vector<uint8_t>().swap(examples.back().pixels);
    }
    if (examples.empty())
      throw Error(FTC_STATUS_DATA_ERROR,
                  *dir + ": no readable images" +
                      (skipped ? " (" + std::to_string(skipped) +
                                     " corrupt ones skipped)"
                               : std::string()),
                  key);
    return std::make_unique<ImageFolderDataset>(
        std::move(examples), std::move(classes), std::move(spec), channels,
        size, seed, skipped, *dir, std::move(facts));
  }

  /// ftc predict: the images directly in the folder, without a label.
  static std::vector<Listed> listUnlabelled(const std::string &dir,
                                            const char *key) {
    std::vector<Listed> out;
    for (std::string &f : filesUnder(dir, key, false))
      out.push_back({std::move(f), -1});
    return out;
  }
};

} // namespace

FTC_DEFINE_DATASET_PLUGIN(ImageFolder)
