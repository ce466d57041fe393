//===- IdxPluginTest.cpp - The idx dataset plugin on generated files ------===//
// SPDX-License-Identifier: Apache-2.0
#include "TestSupport.h"

#include "ftc/plugin_host/ErrorBuffer.h"

#include <zlib.h>

#include <cmath>

using namespace ftc;

namespace {

std::string be32(uint32_t v) {
  return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

std::string imagesFile(uint32_t n, uint32_t rows, uint32_t cols) {
  std::string s = be32(0x803) + be32(n) + be32(rows) + be32(cols);
  for (uint32_t i = 0; i < n * rows * cols; ++i)
    s.push_back(char((i * 37) % 256));
  return s;
}

std::string labelsFile(const std::vector<uint8_t> &labels) {
  std::string s = be32(0x801) + be32(uint32_t(labels.size()));
  s.append(labels.begin(), labels.end());
  return s;
}

std::string gzip(const std::string &raw) {
  z_stream zs{};
  EXPECT_EQ(
      deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
      Z_OK);
  std::string out(deflateBound(&zs, raw.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(raw.data()));
  zs.avail_in = uInt(raw.size());
  zs.next_out = reinterpret_cast<Bytef *>(out.data());
  zs.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

const ftc_dataset_plugin_v1_t &idx() { return test::datasetPlugin("idx"); }

using Opened = test::OpenedSplit;

void open(Opened &o, const std::string &datasetToml,
          const char *split = "train") {
  test::openSplit(o, "idx",
                  "[dataset]\ntype = \"idx\"\n" + datasetToml +
                      "\n[train]\nbatch_size = 2\n",
                  split);
}

class IdxPlugin : public ::testing::Test {
protected:
  void SetUp() override {
    images = dir.path("train-images-idx3-ubyte");
    labels = dir.path("train-labels-idx1-ubyte");
    test::writeBytes(images, imagesFile(5, 3, 4));
    test::writeBytes(labels, labelsFile({3, 0, 7, 1, 2}));
  }
  std::string trainKey() const { return "train = \"" + images + "\"\n"; }

  test::TempDir dir;
  std::string images, labels;
};

void expectValues(void *handle, bool normalized, float mean = 0,
                  float std = 1) {
  const ftc_dataset_plugin_v1_t &d = idx();
  std::vector<int64_t> indices{4, 0, 4};
  std::vector<float> pixels(3 * 12, -1);
  std::vector<int32_t> labels(3, -1);
  void *buffers[] = {pixels.data(), labels.data()};
  plugin::ErrorBuffer err;
  ASSERT_EQ(d.fill(handle, indices.data(), 3, buffers, err.get()),
            FTC_STATUS_OK)
      << err.message();
  EXPECT_EQ(labels, (std::vector<int32_t>{2, 3, 2}));
  for (size_t b = 0; b < 3; ++b)
    for (size_t p = 0; p < 12; ++p) {
      uint32_t raw = ((indices[b] * 12 + p) * 37) % 256;
      float x = normalized ? float(raw) / 255.0f : float(raw);
      EXPECT_FLOAT_EQ(pixels[b * 12 + p], (x - mean) / std) << b << "," << p;
    }
}

TEST_F(IdxPlugin, Raw) {
  Opened o;
  open(o, trainKey());
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  ftc_dataset_info_t info{};
  ASSERT_EQ(idx().info(o.handle, &info), FTC_STATUS_OK);
  EXPECT_EQ(info.num_examples, 5);
  EXPECT_EQ(info.num_classes, 8); // max label 7 + 1
  EXPECT_STREQ(info.label_feature, "label");
  ASSERT_EQ(info.num_features, 2u);
  EXPECT_STREQ(info.features[0].name, "image");
  EXPECT_EQ(info.features[0].dtype, uint32_t(FTC_DTYPE_F32));
  EXPECT_EQ(info.features[0].rank, 2u);
  EXPECT_EQ(info.features[0].shape[0], 3);
  EXPECT_EQ(info.features[0].shape[1], 4);
  EXPECT_STREQ(info.features[1].name, "label");
  EXPECT_EQ(info.features[1].dtype, uint32_t(FTC_DTYPE_I32));
  EXPECT_EQ(info.features[1].rank, 0u);
  expectValues(o.handle, /*normalized=*/true);
}

TEST_F(IdxPlugin, GzipAndExplicitLabels) {
  std::string gzImages = dir.path("x.gz"), gzLabels = dir.path("y.gz");
  test::writeBytes(gzImages, gzip(imagesFile(5, 3, 4)));
  test::writeBytes(gzLabels, gzip(labelsFile({3, 0, 7, 1, 2})));
  Opened o;
  open(o,
       "eval = \"" + gzImages + "\"\neval_labels = \"" + gzLabels +
           "\"\nnum_classes = 10\nnormalize = false\nmean = 100\n"
           "std = 50.0\n",
       "eval");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  ftc_dataset_info_t info{};
  ASSERT_EQ(idx().info(o.handle, &info), FTC_STATUS_OK);
  EXPECT_EQ(info.num_classes, 10);
  expectValues(o.handle, /*normalized=*/false, 100, 50);
}

TEST_F(IdxPlugin, DerivedLabelsWithGzSuffix) {
  std::string gzImages = dir.path("t10k-images-idx3-ubyte.gz");
  test::writeBytes(gzImages, gzip(imagesFile(5, 3, 4)));
  test::writeBytes(dir.path("t10k-labels-idx1-ubyte.gz"),
                   gzip(labelsFile({3, 0, 7, 1, 2})));
  Opened o;
  open(o, "train = \"" + gzImages + "\"\n");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  expectValues(o.handle, true);
}

TEST_F(IdxPlugin, FillIsBoundsChecked) {
  Opened o;
  open(o, trainKey());
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  std::vector<float> pixels(12);
  std::vector<int32_t> labels(1);
  void *buffers[] = {pixels.data(), labels.data()};
  plugin::ErrorBuffer err;
  for (int64_t bad : {int64_t(5), int64_t(-1)}) {
    err.reset();
    EXPECT_EQ(idx().fill(o.handle, &bad, 1, buffers, err.get()),
              FTC_STATUS_INVALID_ARGUMENT);
    EXPECT_NE(err.message().find("out of range [0, 5)"), std::string::npos)
        << err.message();
  }
}

TEST_F(IdxPlugin, MissingImagesFile) {
  Opened o;
  open(o, "train = \"" + dir.path("nope-images-idx3-ubyte") + "\"\n");
  EXPECT_EQ(o.status, FTC_STATUS_NOT_FOUND);
  EXPECT_EQ(o.key, "train");
  EXPECT_EQ(o.message, dir.path("nope-images-idx3-ubyte") +
                           ": cannot open: No such file or directory");
}

TEST_F(IdxPlugin, MissingLabelsFile) {
  std::remove(labels.c_str());
  Opened o;
  open(o, trainKey());
  EXPECT_EQ(o.status, FTC_STATUS_NOT_FOUND);
  EXPECT_EQ(o.key, "train_labels");
  EXPECT_NE(o.message.find(labels + ": cannot open"), std::string::npos);
}

TEST_F(IdxPlugin, UnsetSplitKey) {
  Opened o;
  open(o, "", "eval");
  EXPECT_EQ(o.status, FTC_STATUS_NOT_FOUND);
  EXPECT_EQ(o.key, "eval");
}

TEST_F(IdxPlugin, LabelsNotDerivable) {
  std::string other = dir.path("pixels.idx");
  test::writeBytes(other, imagesFile(5, 3, 4));
  Opened o;
  open(o, "train = \"" + other + "\"\n");
  EXPECT_EQ(o.status, FTC_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(o.key, "train_labels");
  EXPECT_NE(o.message.find("cannot derive the labels file"), std::string::npos);
}

TEST_F(IdxPlugin, WrongMagic) {
  // A labels file given as the images.
  test::writeBytes(images, labelsFile({1, 2}));
  Opened o;
  open(o, trainKey());
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_EQ(o.key, "train");
  EXPECT_EQ(o.message, images + ": not an IDX images file: magic 0x00000801, "
                                "expected 0x00000803 (u8, rank 3)");
}

TEST_F(IdxPlugin, WrongLabelsMagic) {
  std::string bad = labelsFile({3, 0, 7, 1, 2});
  bad[2] = 0x0d; // float data
  test::writeBytes(labels, bad);
  Opened o;
  open(o, trainKey());
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_EQ(o.key, "train_labels");
  EXPECT_NE(o.message.find("not an IDX labels file: magic 0x00000d01"),
            std::string::npos)
      << o.message;
}

TEST_F(IdxPlugin, TruncatedBody) {
  std::string s = imagesFile(5, 3, 4);
  s.resize(s.size() - 1);
  test::writeBytes(images, s);
  Opened o;
  open(o, trainKey());
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_EQ(o.key, "train");
  EXPECT_EQ(o.message, images + ": truncated: dimensions 5 x 3 x 4 need 60 "
                                "bytes of data, the file has 59");
}

TEST_F(IdxPlugin, TrailingData) {
  test::writeBytes(labels, labelsFile({3, 0, 7, 1, 2}) + "x");
  Opened o;
  open(o, trainKey());
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_EQ(o.key, "train_labels");
  EXPECT_NE(o.message.find("trailing data"), std::string::npos);
}

TEST_F(IdxPlugin, TruncatedHeader) {
  test::writeBytes(images, imagesFile(5, 3, 4).substr(0, 10));
  Opened o;
  open(o, trainKey());
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_NE(o.message.find("truncated IDX header"), std::string::npos);
}

TEST_F(IdxPlugin, TruncatedGzip) {
  std::string gz = gzip(imagesFile(5, 3, 4));
  test::writeBytes(images, gz.substr(0, gz.size() / 2));
  Opened o;
  open(o, trainKey());
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_EQ(o.key, "train");
  EXPECT_EQ(o.message,
            images + ": truncated gzip data (the stream ends early)");
}

TEST_F(IdxPlugin, CorruptGzip) {
  std::string gz = gzip(imagesFile(5, 3, 4));
  gz[3] = char(0xe0); // reserved flag bits
  test::writeBytes(images, gz);
  Opened o;
  open(o, trainKey());
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_NE(o.message.find(images + ": invalid gzip data: "), std::string::npos)
      << o.message;
}

TEST_F(IdxPlugin, CountMismatch) {
  test::writeBytes(labels, labelsFile({1, 2, 3}));
  Opened o;
  open(o, trainKey());
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_EQ(o.key, "train_labels");
  EXPECT_EQ(o.message,
            labels + ": has 3 labels, but " + images + " has 5 images");
}

TEST_F(IdxPlugin, LabelOutOfRange) {
  Opened o;
  open(o, trainKey() + "num_classes = 5\n");
  EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
  EXPECT_EQ(o.key, "train_labels");
  EXPECT_EQ(o.message, labels + ": example 2 has label 7, outside [0, "
                                "num_classes = 5)");
}

TEST_F(IdxPlugin, UnknownSplit) {
  Opened o;
  open(o, trainKey(), "test");
  EXPECT_EQ(o.status, FTC_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(o.message.find("unknown split 'test'"), std::string::npos);
}

TEST_F(IdxPlugin, ImageKeys) {
  // The image keys (ftc::image): grey -> 3 channels, the centre 2x2 of the
  // 3x4 images (top round(0.5) = 0, left 1), raw values.
  Opened o;
  open(o, trainKey() + "channels = 3\ncrop = [2, 2]\nnormalize = false\n");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  ftc_dataset_info_t info{};
  ASSERT_EQ(idx().info(o.handle, &info), FTC_STATUS_OK);
  ASSERT_EQ(info.features[0].rank, 3u);
  EXPECT_EQ(info.features[0].shape[0], 3);
  EXPECT_EQ(info.features[0].shape[1], 2);
  EXPECT_EQ(info.features[0].shape[2], 2);
  ASSERT_NE(idx().set_epoch, nullptr);
  EXPECT_EQ(idx().set_epoch(o.handle, 2, 9), 0); // nothing random
  auto fill = [&](void *handle, int64_t n) {
    std::vector<float> pixels(static_cast<size_t>(n) * 12, -1);
    std::vector<int32_t> labels(static_cast<size_t>(n));
    std::vector<int64_t> indices(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      indices[size_t(i)] = i;
    void *buffers[] = {pixels.data(), labels.data()};
    plugin::ErrorBuffer err;
    EXPECT_EQ(idx().fill(handle, indices.data(), size_t(n), buffers, err.get()),
              FTC_STATUS_OK)
        << err.message();
    return pixels;
  };
  std::vector<float> got = fill(o.handle, 5);
  for (int64_t b = 0; b < 5; ++b)
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 2; ++y)
        for (int x = 0; x < 2; ++x)
          EXPECT_EQ(got[size_t(((b * 3 + c) * 2 + y) * 2 + x)],
                    float(((b * 12 + y * 4 + x + 1) * 37) % 256))
              << b << "," << c << "," << y << "," << x;

  // Random crops, always flipped: the same for the same epoch, another
  // epoch differs; the eval split is the centre crop.
  Opened r;
  open(r, trainKey() + "crop = 2\ncrop_mode = \"random\"\nhflip = 1.0\n");
  ASSERT_EQ(r.status, FTC_STATUS_OK) << r.message;
  EXPECT_EQ(idx().set_epoch(r.handle, 1, 5), 1);
  std::vector<float> first = fill(r.handle, 5), again = fill(r.handle, 5);
  EXPECT_EQ(first, again);
  EXPECT_EQ(idx().set_epoch(r.handle, 2, 5), 1);
  EXPECT_NE(fill(r.handle, 5), first);
  for (int64_t b = 0; b < 5; ++b) {
    // A mirrored 2x2 window of example b somewhere in the 3x4 image.
    bool found = false;
    for (int top = 0; top <= 1; ++top)
      for (int left = 0; left <= 2; ++left) {
        bool all = true;
        for (int y = 0; y < 2; ++y)
          for (int x = 0; x < 2; ++x)
            all =
                all &&
                std::fabs(first[size_t((b * 2 + y) * 2 + x)] -
                          float(((b * 12 + (top + y) * 4 + left + 1 - x) * 37) %
                                256) /
                              255.0f) < 1e-6f;
        found = found || all;
      }
    EXPECT_TRUE(found) << b;
  }
}

} // namespace
