//===- Tensors.cpp - Pre-tensorised examples in a safetensors file --------===//
// SPDX-License-Identifier: Apache-2.0
//
// The split keys `train` / `eval` name a .safetensors file. Every tensor in
// it has the same leading dimension N (the number of examples) and is one
// feature whose shape is the rest of its shape. F32 and I32 are served as
// they are; I64 is converted to I32 (values outside the I32 range are
// errors); other dtypes are errors. Features are ordered by tensor name.
//
// The `label` key names the label feature ("label" by default). When the
// file has no tensor of that name the dataset has no label feature. A label
// tensor is integer; a rank-1 one ([N], one class per example) must hold
// values in [0, num_classes), a higher-rank one ([N, S...], e.g. token
// labels) may also hold -100, the ignore marker of the losses.
//
// open() reads and validates the whole split, so bad data fails before
// training starts rather than in the middle of an epoch.
//===----------------------------------------------------------------------===//
#include "ftc/plugin.hpp"
#include "ftc/runtime/Error.h"
#include "ftc/runtime/Safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace ftc::plugin;

namespace {

constexpr int32_t kIgnoreIndex = -100;

/// One feature: its bytes for all N examples, contiguous per example.
struct Column {
  std::string name;
  ftc_dtype_t dtype;
  std::vector<int64_t> shape; // without the leading N
  size_t exampleBytes;
  std::vector<uint8_t> data; // N * exampleBytes
};

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

class TensorsDataset : public Dataset {
public:
  TensorsDataset(std::vector<Column> cols, int64_t n,
                 const std::optional<std::string> &label, int64_t numClasses)
      : columns(std::move(cols)) {
    setNumExamples(n);
    for (const Column &c : columns)
      addFeature(c.name, c.dtype, c.shape);
    if (label)
      setLabel(*label, numClasses);
  }

  void fill(const int64_t *indices, size_t count,
            void *const *buffers) override {
    for (size_t f = 0; f < columns.size(); ++f) {
      const Column &c = columns[f];
      auto *dst = static_cast<uint8_t *>(buffers[f]);
      for (size_t i = 0; i < count; ++i)
        std::memcpy(dst + i * c.exampleBytes,
                    c.data.data() + size_t(indices[i]) * c.exampleBytes,
                    c.exampleBytes);
    }
  }

private:
  std::vector<Column> columns;
};

struct Tensors {
  static constexpr const char *kName = "tensors";
  static constexpr const char *kVersion = "1.0.0";
  static constexpr const char *kDescription =
      "pre-tensorised examples: one safetensors file per split, one tensor "
      "[N, ...] per feature (F32, I32, I64 as I32)";
  static constexpr ftc_key_decl_t kKeys[] = {
      stringKey("label", "\"label\"", nullptr,
                "the label feature's tensor; a dataset whose file has no "
                "such tensor has no label feature"),
      intKey("num_classes", "0", 0, 1e9,
             "number of classes; 0 means the largest label + 1"),
  };

  static std::unique_ptr<Dataset> open(const Config &config,
                                       const std::string &split) {
    const char *fileKey = splitKey(split);

    std::optional<std::string> path = config.findString(fileKey);
    if (!path || path->empty())
      throw Error(FTC_STATUS_NOT_FOUND,
                  std::string("the tensors dataset needs '") + fileKey +
                      "', the .safetensors file of the " + split + " split",
                  fileKey);
    std::string labelName = config.getString("label");
    int64_t numClasses = config.getInt("num_classes");
    if (numClasses < 0)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "num_classes = " + std::to_string(numClasses) +
                      " is negative",
                  "num_classes");

    auto fail = [&](ftc_status_t status, const std::string &what,
                    const char *key = nullptr) -> Error {
      return Error(status, *path + ": " + what, key ? key : fileKey);
    };

    std::error_code ec;
    if (!std::filesystem::exists(*path, ec))
      throw fail(FTC_STATUS_NOT_FOUND,
                 "cannot open: No such file or directory");

    std::vector<Column> columns;
    int64_t n = -1;
    std::string firstName;
    try {
      ftc::rt::SafetensorsFile file = ftc::rt::SafetensorsFile::open(*path);
      std::vector<const ftc::rt::TensorInfo *> infos;
      for (const ftc::rt::TensorInfo &t : file.tensors())
        infos.push_back(&t);
      std::sort(infos.begin(), infos.end(),
                [](auto *a, auto *b) { return a->name < b->name; });
      if (infos.empty())
        throw fail(FTC_STATUS_DATA_ERROR, "the file has no tensors");

      for (const ftc::rt::TensorInfo *t : infos) {
        auto tensorFail = [&](const std::string &what) {
          return fail(FTC_STATUS_DATA_ERROR,
                      "tensor '" + t->name + "': " + what);
        };
        if (t->shape.empty())
          throw tensorFail("is a scalar; every tensor needs a leading "
                           "dimension N (the number of examples)");
        if (t->shape.size() - 1 > FTC_MAX_RANK)
          throw tensorFail("shape " + shapeText(t->shape) + " has more than " +
                           std::to_string(FTC_MAX_RANK) +
                           " dimensions after N");
        if (n < 0) {
          n = t->shape[0];
          firstName = t->name;
        } else if (t->shape[0] != n) {
          throw tensorFail("shape " + shapeText(t->shape) +
                           " has a leading dimension of " +
                           std::to_string(t->shape[0]) + ", but '" + firstName +
                           "' has " + std::to_string(n) + " examples");
        }
        Column c;
        c.name = t->name;
        c.shape.assign(t->shape.begin() + 1, t->shape.end());
        size_t elements = 1;
        for (int64_t d : c.shape)
          elements *= size_t(d);
        size_t total = elements * size_t(n);
        const uint8_t *src = file.data(*t);
        if (t->dtype == "F32" || t->dtype == "I32") {
          c.dtype = t->dtype == "F32" ? FTC_DTYPE_F32 : FTC_DTYPE_I32;
          c.data.assign(src, src + total * 4);
        } else if (t->dtype == "I64") {
          c.dtype = FTC_DTYPE_I32;
          c.data.resize(total * 4);
          for (size_t i = 0; i < total; ++i) {
            int64_t v;
            std::memcpy(&v, src + i * 8, 8);
            if (v < std::numeric_limits<int32_t>::min() ||
                v > std::numeric_limits<int32_t>::max())
              throw tensorFail("I64 value " + std::to_string(v) +
                               " at element " + std::to_string(i) +
                               " does not fit in I32");
            int32_t w = static_cast<int32_t>(v);
            std::memcpy(c.data.data() + i * 4, &w, 4);
          }
        } else {
          throw tensorFail("dtype " + t->dtype +
                           " is not supported (F32, I32, I64)");
        }
        c.exampleBytes = elements * 4;
        columns.push_back(std::move(c));
      }
    } catch (const ftc::rt::Error &e) {
      // The reader's messages already name the file (and the tensor).
      throw Error(FTC_STATUS_DATA_ERROR, e.what(), fileKey);
    }

    std::optional<std::string> label;
    auto labelIt =
        std::find_if(columns.begin(), columns.end(),
                     [&](const Column &c) { return c.name == labelName; });
    if (labelIt != columns.end()) {
      const Column &c = *labelIt;
      if (c.dtype != FTC_DTYPE_I32)
        throw fail(FTC_STATUS_DATA_ERROR,
                   "label tensor '" + c.name +
                       "' is F32; labels must be integers (I32 or I64)",
                   "label");
      size_t perExample = c.exampleBytes / 4;
      const auto *values = reinterpret_cast<const int32_t *>(c.data.data());
      bool tokenLabels = !c.shape.empty();
      int64_t maxLabel = -1;
      for (int64_t i = 0; i < n; ++i)
        for (size_t j = 0; j < perExample; ++j) {
          int32_t v = values[size_t(i) * perExample + j];
          if (tokenLabels && v == kIgnoreIndex)
            continue;
          if (v < 0 || (numClasses && v >= numClasses)) {
            std::string where = "example " + std::to_string(i);
            if (tokenLabels)
              where += ", position " + std::to_string(j);
            throw fail(FTC_STATUS_DATA_ERROR,
                       "tensor '" + c.name + "': " + where + " has label " +
                           std::to_string(v) + ", outside [0, num_classes" +
                           (numClasses ? " = " + std::to_string(numClasses)
                                       : std::string()) +
                           ")" + (tokenLabels ? " (and not -100)" : ""));
          }
          maxLabel = std::max<int64_t>(maxLabel, v);
        }
      if (!numClasses)
        numClasses = maxLabel + 1;
      label = c.name;
    }
    return std::make_unique<TensorsDataset>(std::move(columns), n, label,
                                            numClasses);
  }
};

} // namespace

FTC_DEFINE_DATASET_PLUGIN(Tensors)
