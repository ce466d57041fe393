//===- TensorsDatasetTest.cpp - The tensors dataset plugin ----------------===//
// SPDX-License-Identifier: Apache-2.0
//
// Writes small safetensors files by hand (any dtype, any header) and opens
// them through the built plugin, loaded by the plugin registry.
//===----------------------------------------------------------------------===//
#include "TestSupport.h"

#include "ftc/plugin_host/ErrorBuffer.h"

#include <cstring>

using namespace ftc;

namespace {

/// One tensor to write: name, dtype, shape and the raw little-endian bytes.
struct RawTensor {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

template <typename T> std::string bytesOf(const std::vector<T> &values) {
  std::string s(values.size() * sizeof(T), '\0');
  std::memcpy(s.data(), values.data(), s.size());
  return s;
}

RawTensor f32(const std::string &name, std::vector<int64_t> shape,
              const std::vector<float> &v) {
  return {name, "F32", std::move(shape), bytesOf(v)};
}
RawTensor i32(const std::string &name, std::vector<int64_t> shape,
              const std::vector<int32_t> &v) {
  return {name, "I32", std::move(shape), bytesOf(v)};
}
RawTensor i64(const std::string &name, std::vector<int64_t> shape,
              const std::vector<int64_t> &v) {
  return {name, "I64", std::move(shape), bytesOf(v)};
}

/// A safetensors file: 8-byte header length, JSON header padded with
/// spaces to 8 bytes, then the data.
std::string safetensors(const std::vector<RawTensor> &tensors) {
  std::string header = "{", data;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const RawTensor &t = tensors[i];
    std::string shape;
    for (size_t d = 0; d < t.shape.size(); ++d)
      shape += (d ? "," : "") + std::to_string(t.shape[d]);
    header += (i ? "," : "") + std::string("\"") + t.name + "\":{\"dtype\":\"" +
              t.dtype + "\",\"shape\":[" + shape + "],\"data_offsets\":[" +
              std::to_string(data.size()) + "," +
              std::to_string(data.size() + t.bytes.size()) + "]}";
    data += t.bytes;
  }
  header += "}";
  while (header.size() % 8)
    header += ' ';
  uint64_t n = header.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

const ftc_dataset_plugin_v1_t &plugin() {
  return test::datasetPlugin("tensors");
}

using Opened = test::OpenedSplit;

void open(Opened &o, const std::string &datasetToml,
          const char *split = "train") {
  test::openSplit(o, "tensors",
                  "[dataset]\ntype = \"tensors\"\n" + datasetToml +
                      "\n[train]\nbatch_size = 2\n",
                  split);
}

class TensorsDataset : public ::testing::Test {
protected:
  /// Writes `tensors` to train.safetensors and returns the `train` key.
  std::string write(const std::vector<RawTensor> &tensors,
                    const std::string &name = "train.safetensors") {
    path = dir.path(name);
    test::writeBytes(path, safetensors(tensors));
    return "train = \"" + path + "\"\n";
  }

  test::TempDir dir;
  std::string path;
};

/// Three examples: ids [3, 4] I32, mask [3, 4] I64, x [3, 2] F32, label [3].
std::vector<RawTensor> bertLike() {
  return {
      i32("label", {3}, {2, 0, 1}),
      f32("x", {3, 2}, {0.5f, -1, 2, 3, 4.25f, 5}),
      i32("input_ids", {3, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}),
      i64("attention_mask", {3, 4}, {1, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1}),
  };
}

TEST_F(TensorsDataset, FeaturesSortedByName) {
  Opened o;
  open(o, write(bertLike()));
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  EXPECT_EQ(o.info.num_examples, 3);
  EXPECT_STREQ(o.info.label_feature, "label");
  EXPECT_EQ(o.info.num_classes, 3); // max label 2 + 1
  ASSERT_EQ(o.info.num_features, 4u);
  const char *names[] = {"attention_mask", "input_ids", "label", "x"};
  uint32_t dtypes[] = {FTC_DTYPE_I32, FTC_DTYPE_I32, FTC_DTYPE_I32,
                       FTC_DTYPE_F32};
  std::vector<std::vector<int64_t>> shapes = {{4}, {4}, {}, {2}};
  for (size_t f = 0; f < 4; ++f) {
    const ftc_feature_desc_t &d = o.info.features[f];
    EXPECT_STREQ(d.name, names[f]);
    EXPECT_EQ(d.dtype, dtypes[f]) << names[f];
    ASSERT_EQ(d.rank, shapes[f].size()) << names[f];
    for (size_t a = 0; a < d.rank; ++a)
      EXPECT_EQ(d.shape[a], shapes[f][a]) << names[f];
  }
}

TEST_F(TensorsDataset, Fill) {
  Opened o;
  open(o, write(bertLike()));
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  std::vector<int64_t> indices{2, 0, 2};
  std::vector<int32_t> mask(12, -1), ids(12, -1), label(3, -1);
  std::vector<float> x(6, -1);
  void *buffers[] = {mask.data(), ids.data(), label.data(), x.data()};
  plugin::ErrorBuffer err;
  ASSERT_EQ(plugin().fill(o.handle, indices.data(), 3, buffers, err.get()),
            FTC_STATUS_OK)
      << err.message();
  EXPECT_EQ(mask, (std::vector<int32_t>{1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1}));
  EXPECT_EQ(ids,
            (std::vector<int32_t>{9, 10, 11, 12, 1, 2, 3, 4, 9, 10, 11, 12}));
  EXPECT_EQ(label, (std::vector<int32_t>{1, 2, 1}));
  EXPECT_EQ(x, (std::vector<float>{4.25f, 5, 0.5f, -1, 4.25f, 5}));
}

TEST_F(TensorsDataset, FillIsBoundsChecked) {
  Opened o;
  open(o, write(bertLike()));
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  std::vector<int32_t> a(4), b(4), c(1);
  std::vector<float> d(2);
  void *buffers[] = {a.data(), b.data(), c.data(), d.data()};
  plugin::ErrorBuffer err;
  int64_t bad = 3;
  EXPECT_EQ(plugin().fill(o.handle, &bad, 1, buffers, err.get()),
            FTC_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("out of range [0, 3)"), std::string::npos)
      << err.message();
}

TEST_F(TensorsDataset, EvalSplitAndExplicitNumClasses) {
  std::string file = dir.path("eval.safetensors");
  test::writeBytes(file, safetensors(bertLike()));
  Opened o;
  open(o, "eval = \"" + file + "\"\nnum_classes = 7\n", "eval");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  EXPECT_EQ(o.info.num_classes, 7);
}

TEST_F(TensorsDataset, NoLabelTensorMeansNoLabelFeature) {
  Opened o;
  open(o, write({f32("x", {2, 1}, {1, 2})}));
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  EXPECT_EQ(o.info.label_feature, nullptr);
  EXPECT_EQ(o.info.num_classes, 0);
  EXPECT_EQ(o.info.num_features, 1u);
}

TEST_F(TensorsDataset, CustomLabelName) {
  Opened o;
  open(o, write({i64("y", {3}, {0, 4, 1}), f32("x", {3}, {1, 2, 3})}) +
              "label = \"y\"\n");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  EXPECT_STREQ(o.info.label_feature, "y");
  EXPECT_EQ(o.info.num_classes, 5);
  // x has shape [3]: a scalar feature.
  EXPECT_EQ(o.info.features[0].rank, 0u);
}

TEST_F(TensorsDataset, TokenLabelsMayHoldIgnoreIndex) {
  Opened o;
  open(o, write({i32("labels", {2, 3}, {-100, 4, -100, 1, -100, -100})}) +
              "label = \"labels\"\n");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  EXPECT_STREQ(o.info.label_feature, "labels");
  EXPECT_EQ(o.info.num_classes, 5);
}

TEST_F(TensorsDataset, TokenLabelOtherNegative) {
  Opened o;
  open(o, write({i32("labels", {2, 3}, {-100, 4, -100, 1, -1, -100})}) +
              "label = \"labels\"\n");
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_EQ(o.key, "train");
  EXPECT_EQ(o.message, path + ": tensor 'labels': example 1, position 1 has "
                              "label -1, outside [0, num_classes) (and not "
                              "-100)");
}

TEST_F(TensorsDataset, NegativeLabel) {
  Opened o;
  open(o, write({i32("label", {3}, {0, -100, 1})}));
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_EQ(o.key, "train");
  EXPECT_EQ(o.message, path + ": tensor 'label': example 1 has label -100, "
                              "outside [0, num_classes)");
}

TEST_F(TensorsDataset, LabelAtNumClasses) {
  Opened o;
  open(o, write(bertLike()) + "num_classes = 2\n");
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_EQ(o.key, "train");
  EXPECT_EQ(o.message, path + ": tensor 'label': example 0 has label 2, "
                              "outside [0, num_classes = 2)");
}

TEST_F(TensorsDataset, FloatLabel) {
  Opened o;
  open(o, write({f32("label", {2}, {0, 1})}));
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_EQ(o.key, "label");
  EXPECT_NE(o.message.find("label tensor 'label' is F32"), std::string::npos)
      << o.message;
}

TEST_F(TensorsDataset, I64OutOfRange) {
  Opened o;
  open(o, write({i64("ids", {2}, {1, int64_t(1) << 40})}));
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_EQ(o.key, "train");
  EXPECT_EQ(o.message, path + ": tensor 'ids': I64 value 1099511627776 at "
                              "element 1 does not fit in I32");
}

TEST_F(TensorsDataset, UnsupportedDtype) {
  Opened o;
  open(o, write({{"h", "F16", {2}, std::string(4, '\0')}}));
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_EQ(o.key, "train");
  EXPECT_EQ(o.message,
            path + ": tensor 'h': dtype F16 is not supported (F32, I32, I64)");
}

TEST_F(TensorsDataset, LeadingDimensionMismatch) {
  Opened o;
  open(o, write({f32("a", {2, 2}, {1, 2, 3, 4}), f32("b", {3}, {1, 2, 3})}));
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_EQ(o.key, "train");
  EXPECT_EQ(o.message, path + ": tensor 'b': shape [3] has a leading "
                              "dimension of 3, but 'a' has 2 examples");
}

TEST_F(TensorsDataset, ScalarTensor) {
  Opened o;
  open(o, write({f32("s", {}, {1})}));
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_NE(o.message.find("tensor 's': is a scalar"), std::string::npos)
      << o.message;
}

TEST_F(TensorsDataset, NoTensors) {
  Opened o;
  open(o, write({}));
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_EQ(o.message, path + ": the file has no tensors");
}

TEST_F(TensorsDataset, MissingFile) {
  Opened o;
  std::string missing = dir.path("nope.safetensors");
  open(o, "train = \"" + missing + "\"\n");
  EXPECT_EQ(o.status, FTC_STATUS_NOT_FOUND);
  EXPECT_EQ(o.key, "train");
  EXPECT_EQ(o.message, missing + ": cannot open: No such file or directory");
}

TEST_F(TensorsDataset, CorruptFile) {
  path = dir.path("bad.safetensors");
  test::writeBytes(path, "not a safetensors file at all");
  Opened o;
  open(o, "train = \"" + path + "\"\n");
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_EQ(o.key, "train");
  EXPECT_EQ(o.message.rfind(path + ": ", 0), 0u) << o.message;
}

TEST_F(TensorsDataset, UnsetSplitKey) {
  Opened o;
  open(o, "", "eval");
  EXPECT_EQ(o.status, FTC_STATUS_NOT_FOUND);
  EXPECT_EQ(o.key, "eval");
}

TEST_F(TensorsDataset, UnknownSplit) {
  Opened o;
  open(o, write(bertLike()), "test");
  EXPECT_EQ(o.status, FTC_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(o.message.find("unknown split 'test'"), std::string::npos);
}

} // namespace
