//===- Idx.cpp - MNIST-format IDX dataset plugin --------------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// Reads an images file (magic 0x00000803: u8, rank 3 [n, rows, cols]) and a
// labels file (0x00000801: u8, rank 1 [n]), gzip-compressed or raw, and
// serves features "image" (F32 [rows, cols]) and "label" (I32 []). open()
// reads and validates the whole split, so a corrupt file fails before
// training starts rather than in the middle of an epoch. The image keys of
// ftc::image (channels, image_size, crop, crop_mode, hflip, per-channel
// mean/std) transform each image as image-folder does; with `channels` set
// the feature is [C, H, W].
//
//===----------------------------------------------------------------------===//
#include "ftc/plugin.hpp"
#include "ftc/plugin_host/FileBytes.h"
#include "ftc/plugin_host/ImageTransforms.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace ftc::plugin;
using ftc::image::Augment;
using ftc::image::ImageView;
using ftc::image::Size;
using ftc::image::TransformSpec;

namespace {

//===----------------------------------------------------------------------===//
// Reading files
//===----------------------------------------------------------------------===//

/// Where a file came from, for error messages: its path and the spec key.
struct Source {
  std::string path;
  const char *key;

  [[noreturn]] void fail(ftc_status_t status, const std::string &what) const {
    throw Error(status, path + ": " + what, key);
  }
};

std::vector<uint8_t> readRaw(const Source &src) {
  std::vector<uint8_t> data;
  std::string why;
  if (!ftc::plugin_host::readFileBytes(src.path, data, why))
    src.fail(why.rfind("cannot open", 0) == 0 &&
                     !std::filesystem::exists(src.path)
                 ? FTC_STATUS_NOT_FOUND
                 : FTC_STATUS_IO_ERROR,
             why);
  return data;
}

/// Inflates a gzip file (possibly several concatenated members).
std::vector<uint8_t> gunzip(const Source &src, const std::vector<uint8_t> &in) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
    src.fail(FTC_STATUS_INTERNAL, "cannot initialise zlib");
  std::vector<uint8_t> out;
  uint8_t chunk[1 << 16];
  // Feed at most 1 GiB at a time: avail_in is 32 bits.
  const size_t kStep = size_t(1) << 30;
  zs.next_in = const_cast<Bytef *>(in.data());
  zs.avail_in = static_cast<uInt>(std::min(in.size(), kStep));
  size_t remaining = in.size() - zs.avail_in;
  int rc = Z_OK;
  for (;;) {
    if (zs.avail_in == 0 && remaining) {
      size_t take = std::min(remaining, kStep);
      zs.avail_in = static_cast<uInt>(take);
      remaining -= take;
    }
    zs.next_out = chunk;
    zs.avail_out = sizeof(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.insert(out.end(), chunk, chunk + (sizeof(chunk) - zs.avail_out));
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0 && !remaining)
        break;
      // Another gzip member follows (as `cat a.gz b.gz` produces).
      if (inflateReset(&zs) != Z_OK)
        break;
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && !remaining) {
      inflateEnd(&zs);
      src.fail(FTC_STATUS_DATA_ERROR,
               "truncated gzip data (the stream ends early)");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      std::string why = zs.msg ? zs.msg : zError(rc);
      inflateEnd(&zs);
      src.fail(FTC_STATUS_DATA_ERROR, "invalid gzip data: " + why);
    }
  }
  inflateEnd(&zs);
  return out;
}

std::vector<uint8_t> readFile(const Source &src) {
  std::vector<uint8_t> data = readRaw(src);
  if (data.size() >= 2 && data[0] == 0x1f && data[1] == 0x8b)
    return gunzip(src, data);
  return data;
}

uint32_t readBE32(const uint8_t *p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) |
         (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

/// An IDX file of unsigned bytes, validated against the expected rank.
struct IdxArray {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> data; // the body only
};

IdxArray parseIdx(const Source &src, std::vector<uint8_t> bytes, uint32_t rank,
                  const char *what) {
  uint32_t expectedMagic = 0x00000800u | rank;
  char hex[16];
  if (bytes.size() < 4)
    src.fail(FTC_STATUS_DATA_ERROR,
             std::string("not an IDX ") + what + " file: only " +
                 std::to_string(bytes.size()) + " bytes");
  uint32_t magic = readBE32(bytes.data());
  if (magic != expectedMagic) {
    std::snprintf(hex, sizeof(hex), "0x%08x", magic);
    char exp[16];
    std::snprintf(exp, sizeof(exp), "0x%08x", expectedMagic);
    src.fail(FTC_STATUS_DATA_ERROR, std::string("not an IDX ") + what +
                                        " file: magic " + hex + ", expected " +
                                        exp + " (u8, rank " +
                                        std::to_string(rank) + ")");
  }
  size_t headerSize = 4 + 4 * size_t(rank);
  if (bytes.size() < headerSize)
    src.fail(FTC_STATUS_DATA_ERROR,
             "truncated IDX header: " + std::to_string(bytes.size()) +
                 " bytes, need " + std::to_string(headerSize));
  IdxArray a;
  uint64_t expected = 1;
  std::string dimsText;
  for (uint32_t i = 0; i < rank; ++i) {
    uint32_t d = readBE32(bytes.data() + 4 + 4 * i);
    a.dims.push_back(d);
    dimsText += (i ? " x " : "") + std::to_string(d);
    if (__builtin_mul_overflow(expected, uint64_t(d), &expected))
      src.fail(FTC_STATUS_DATA_ERROR,
               "IDX dimensions " + dimsText + " are too large");
  }
  uint64_t body = bytes.size() - headerSize;
  if (body != expected)
    src.fail(FTC_STATUS_DATA_ERROR,
             std::string(body < expected ? "truncated" : "trailing data") +
                 ": dimensions " + dimsText + " need " +
                 std::to_string(expected) + " bytes of data, the file has " +
                 std::to_string(body));
  bytes.erase(bytes.begin(), bytes.begin() + headerSize);
  a.data = std::move(bytes);
  return a;
}

//===----------------------------------------------------------------------===//
// The dataset
//===----------------------------------------------------------------------===//

class IdxDataset : public Dataset {
public:
  IdxDataset(IdxArray x, std::vector<uint8_t> y, TransformSpec spec,
             uint64_t seed, int64_t numClasses)
      : images(std::move(x.data)), labels(std::move(y)), rows(x.dims[1]),
        cols(x.dims[2]), spec(std::move(spec)), seed(seed) {
    // Without the image keys: a table of the 256 values, [rows, cols].
    transform = this->spec.reshapes() || this->spec.mean.size() > 1 ||
                this->spec.stddev.size() > 1;
    float scale = this->spec.normalize ? 1.0f / 255.0f : 1.0f;
    float mean = float(this->spec.mean[0]), std = float(this->spec.stddev[0]);
    for (int v = 0; v < 256; ++v)
      lut[v] = (float(v) * scale - mean) / std;
    channels = this->spec.channels ? this->spec.channels : 1;
    out = this->spec.output({rows, cols});
    setNumExamples(x.dims[0]);
    if (this->spec.channels)
      addFeature("image", FTC_DTYPE_F32, {channels, out.height, out.width});
    else
      addFeature("image", FTC_DTYPE_F32, {out.height, out.width});
    addFeature("label", FTC_DTYPE_I32, {});
    setLabel("label", numClasses);
  }

  void fill(const int64_t *indices, size_t count,
            void *const *buffers) override {
    auto *image = static_cast<float *>(buffers[0]);
    auto *label = static_cast<int32_t *>(buffers[1]);
    size_t pixels = size_t(rows) * size_t(cols);
    size_t per = size_t(channels) * size_t(out.height) * size_t(out.width);
    for (size_t i = 0; i < count; ++i) {
      const uint8_t *src = images.data() + size_t(indices[i]) * pixels;
      float *dst = image + i * per;
      if (transform) {
        Augment aug;
        if (spec.random())
          aug = spec.augment(seed, epoch, indices[i], {rows, cols});
        spec.apply(ImageView{src, rows, cols, 1}, channels, aug, dst);
      } else {
        for (size_t p = 0; p < pixels; ++p)
          dst[p] = lut[src[p]];
      }
      label[i] = labels.empty() ? -1 : labels[size_t(indices[i])];
    }
  }

  bool setEpoch(int64_t e, uint64_t s) override {
    epoch = e;
    seed = s;
    return spec.random();
  }

private:
  std::vector<uint8_t> images, labels;
  int64_t rows, cols;
  TransformSpec spec;
  bool transform = false;
  int64_t channels = 1;
  Size out;
  uint64_t seed;
  int64_t epoch = 1;
  float lut[256];
};

/// Derives ".../train-labels-idx1-ubyte.gz" from ".../train-images-idx3-...".
std::optional<std::string> deriveLabelsPath(const std::string &images) {
  size_t slash = images.rfind('/');
  size_t base = slash == std::string::npos ? 0 : slash + 1;
  size_t at = images.rfind("images-idx3");
  if (at == std::string::npos || at < base)
    return std::nullopt;
  return images.substr(0, at) + "labels-idx1" +
         images.substr(at + std::strlen("images-idx3"));
}

struct Idx {
  static constexpr const char *kName = "idx";
  static constexpr const char *kVersion = "1.1.0";
  static constexpr const char *kDescription =
      "MNIST-format IDX image/label files (raw or gzip)";
  static constexpr ftc_key_decl_t kKeys[] = {
      stringKey("train_labels", nullptr, nullptr,
                "labels file for the train split (default: the train images "
                "path with images-idx3 replaced by labels-idx1)"),
      stringKey("eval_labels", nullptr, nullptr,
                "labels file for the eval split (default: derived from eval "
                "like train_labels)"),
      ftc::image::kNormalizeKey,
      ftc::image::kMeanKey,
      ftc::image::kStdKey,
      intKey("num_classes", "0", 0, 65536,
             "number of classes; 0 means the largest label + 1"),
      ftc::image::kChannelsKey,
      ftc::image::kImageSizeKey,
      ftc::image::kCropKey,
      ftc::image::kCropModeKey,
      ftc::image::kHflipKey,
  };

  static std::unique_ptr<Dataset> open(const Config &config,
                                       const std::string &split) {
    const char *imagesKey, *labelsKey;
    if (split == "train") {
      imagesKey = "train";
      labelsKey = "train_labels";
    } else if (split == "eval") {
      imagesKey = "eval";
      labelsKey = "eval_labels";
    } else if (split == "predict") {
      // ftc predict --input: labels only if the derived file exists.
      imagesKey = "predict";
      labelsKey = nullptr;
    } else {
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "unknown split '" + split + "' (expected train or eval)");
    }

    std::optional<std::string> imagesPath = config.findString(imagesKey);
    if (!imagesPath || imagesPath->empty())
      throw Error(FTC_STATUS_NOT_FOUND,
                  std::string("the idx dataset needs '") + imagesKey +
                      "', the images file of the " + split + " split",
                  imagesKey);
    Source images{*imagesPath, imagesKey};
    // A missing file is said as such, at its key, before anything (the
    // labels file's name) is derived from its name.
    if (std::error_code ec; !std::filesystem::exists(*imagesPath, ec))
      images.fail(FTC_STATUS_NOT_FOUND,
                  std::string("cannot open: ") + std::strerror(ENOENT));

    std::optional<std::string> labelsPath =
        labelsKey ? config.findString(labelsKey) : std::nullopt;
    if (!labelsKey) {
      std::error_code ec;
      if (labelsPath = deriveLabelsPath(*imagesPath);
          labelsPath && !std::filesystem::exists(*labelsPath, ec))
        labelsPath.reset();
    } else if (!labelsPath) {
      labelsPath = deriveLabelsPath(*imagesPath);
      if (!labelsPath)
        throw Error(FTC_STATUS_INVALID_ARGUMENT,
                    *imagesPath +
                        ": cannot derive the labels file (the name "
                        "has no 'images-idx3'); set " +
                        labelsKey,
                    labelsKey);
    }
    Source labels{labelsPath.value_or(""), labelsKey ? labelsKey : "predict"};

    TransformSpec spec = TransformSpec::fromConfig(config, split == "train");
    spec.checkChannels(spec.channels ? spec.channels : 1);
    uint64_t seed = uint64_t(config.findInt("pipeline.seed").value_or(0));
    int64_t numClasses = config.getInt("num_classes");
    if (numClasses < 0 || numClasses > 65536)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "num_classes = " + std::to_string(numClasses) +
                      " is outside [0, 65536]",
                  "num_classes");

    IdxArray x = parseIdx(images, readFile(images), 3, "images");
    if (std::string problem = spec.problem({x.dims[1], x.dims[2]});
        !problem.empty())
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  images.path + " (" + std::to_string(x.dims[1]) + "x" +
                      std::to_string(x.dims[2]) + " images): " + problem,
                  spec.crop.empty() ? "image_size" : "crop");
    if (!labelsPath) // unlabelled prediction input
      return std::make_unique<IdxDataset>(std::move(x), std::vector<uint8_t>(),
                                          std::move(spec), seed, numClasses);
    IdxArray y = parseIdx(labels, readFile(labels), 1, "labels");
    if (x.dims[0] != y.dims[0])
      labels.fail(FTC_STATUS_DATA_ERROR,
                  "has " + std::to_string(y.dims[0]) + " labels, but " +
                      images.path + " has " + std::to_string(x.dims[0]) +
                      " images");
    int64_t maxLabel = -1;
    for (size_t i = 0; i < y.data.size(); ++i) {
      if (numClasses && y.data[i] >= numClasses)
        labels.fail(FTC_STATUS_DATA_ERROR,
                    "example " + std::to_string(i) + " has label " +
                        std::to_string(y.data[i]) +
                        ", outside [0, num_classes = " +
                        std::to_string(numClasses) + ")");
      maxLabel = std::max<int64_t>(maxLabel, y.data[i]);
    }
    if (!numClasses)
      numClasses = maxLabel + 1;
    return std::make_unique<IdxDataset>(std::move(x), std::move(y.data),
                                        std::move(spec), seed, numClasses);
  }
};

} // namespace

FTC_DEFINE_DATASET_PLUGIN(Idx)
