//===- ImageTransformsTest.cpp - ftc::image against hand-computed cases ---===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/plugin_host/ImageTransforms.h"
#include "ftc/plugin_host/TomlConfig.h"

#include <gtest/gtest.h>

#include <set>

using namespace ftc;
using namespace ftc::image;

namespace {

std::vector<float> resize(const std::vector<float> &src, Size in, Size out,
                          int64_t channels = 1) {
  std::vector<float> dst(size_t(channels * out.height * out.width), -1.f);
  resizeBilinear(src.data(), channels, in, dst.data(), out);
  return dst;
}

TEST(ImageTransforms, BilinearUpsampleHalfPixelCentres) {
  // 2x2 -> 4x4: output x samples the input at max(0, 0.5 x - 0.25), so the
  // weights of the second column are 0, 1/4, 3/4, 1 (and the same down).
  // value = 10 * colWeight + 20 * rowWeight.
  std::vector<float> got = resize({0, 10, 20, 30}, {2, 2}, {4, 4});
  std::vector<float> want = {0,  2.5,  7.5,  10, //
                             5,  7.5,  12.5, 15, //
                             15, 17.5, 22.5, 25, //
                             20, 22.5, 27.5, 30};
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_FLOAT_EQ(got[i], want[i]) << i;
}

TEST(ImageTransforms, BilinearDownsampleHasNoAntialiasing) {
  // 1x4 -> 1x2: samples at 0.5 and 2.5, the means of two neighbours (an
  // antialiasing filter would mix in the others).
  EXPECT_EQ(resize({0, 4, 8, 12}, {1, 4}, {1, 2}), (std::vector<float>{2, 10}));
  // 1x3 -> 1x2: samples at 0.25 and 1.75.
  EXPECT_EQ(resize({0, 4, 8}, {1, 3}, {1, 2}), (std::vector<float>{1, 7}));
  // Each plane separately.
  EXPECT_EQ(resize({0, 4, 8, 12, 1, 1, 3, 3}, {1, 4}, {1, 2}, 2),
            (std::vector<float>{2, 10, 1, 3}));
  // Same size: a copy.
  EXPECT_EQ(resize({1, 2, 3}, {1, 3}, {1, 3}), (std::vector<float>{1, 2, 3}));
}

TEST(ImageTransforms, ResizeShorterSide) {
  EXPECT_EQ(resizeShorter({28, 28}, 32), (Size{32, 32}));
  EXPECT_EQ(resizeShorter({100, 200}, 50), (Size{50, 100}));
  EXPECT_EQ(resizeShorter({200, 100}, 50), (Size{100, 50}));
  // int(5 * 7 / 3) = int(11.67) = 11, as torchvision truncates.
  EXPECT_EQ(resizeShorter({3, 7}, 5), (Size{5, 11}));
}

TEST(ImageTransforms, CenterCropRoundsHalfToEven) {
  auto offset = [](Size in, Size crop) {
    int64_t top = -1, left = -1;
    centerCropOffset(in, crop, top, left);
    return std::pair{top, left};
  };
  EXPECT_EQ(offset({8, 8}, {4, 4}), (std::pair<int64_t, int64_t>{2, 2}));
  // Python's round(): 0.5 -> 0, 1.5 -> 2, 2.5 -> 2 (torchvision CenterCrop).
  EXPECT_EQ(offset({4, 5}, {3, 3}), (std::pair<int64_t, int64_t>{0, 1}));
  EXPECT_EQ(offset({5, 7}, {2, 2}), (std::pair<int64_t, int64_t>{2, 2}));
  EXPECT_EQ(offset({6, 10}, {3, 3}), (std::pair<int64_t, int64_t>{2, 4}));
}

TEST(ImageTransforms, CropAndFlip) {
  std::vector<float> src(24); // 2 planes of 3x4: value = 100 c + 4 y + x
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 12; ++i)
      src[size_t(c * 12 + i)] = float(100 * c + i);
  std::vector<float> dst(8);
  cropFlip(src.data(), 2, {3, 4}, 1, 1, {2, 2}, false, dst.data());
  EXPECT_EQ(dst, (std::vector<float>{5, 6, 9, 10, 105, 106, 109, 110}));
  cropFlip(src.data(), 2, {3, 4}, 1, 1, {2, 2}, true, dst.data());
  EXPECT_EQ(dst, (std::vector<float>{6, 5, 10, 9, 106, 105, 110, 109}));
  std::vector<float> whole(12);
  cropFlip(src.data(), 1, {3, 4}, 0, 0, {3, 4}, true, whole.data());
  EXPECT_EQ(whole, (std::vector<float>{3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8}));
}

TEST(ImageTransforms, Channels) {
  const uint8_t rgb[] = {10, 20, 30, 255, 0, 100}; // 1x2 RGB, interleaved
  std::vector<float> planar(6);
  toPlanar({rgb, 1, 2, 3}, 3, planar.data());
  EXPECT_EQ(planar, (std::vector<float>{10, 255, 20, 0, 30, 100}));
  std::vector<float> grey(2);
  toPlanar({rgb, 1, 2, 3}, 1, grey.data());
  EXPECT_NEAR(grey[0], 0.299 * 10 + 0.587 * 20 + 0.114 * 30, 1e-4);
  EXPECT_NEAR(grey[1], 0.299 * 255 + 0.114 * 100, 1e-4);
  const uint8_t g[] = {7, 9};
  std::vector<float> replicated(6);
  toPlanar({g, 1, 2, 1}, 3, replicated.data());
  EXPECT_EQ(replicated, (std::vector<float>{7, 9, 7, 9, 7, 9}));
}

TEST(ImageTransforms, RandomAugmentIsAFunctionOfSeedEpochIndex) {
  Size image{10, 12}, crop{4, 4};
  std::set<int64_t> tops, lefts;
  int flips = 0, changed = 0;
  for (int64_t i = 0; i < 4000; ++i) {
    Augment a = randomAugment(7, 1, i, image, crop, 0.5);
    Augment again = randomAugment(7, 1, i, image, crop, 0.5);
    EXPECT_EQ(a.top, again.top);
    EXPECT_EQ(a.left, again.left);
    EXPECT_EQ(a.flip, again.flip);
    ASSERT_GE(a.top, 0);
    ASSERT_LE(a.top, 6);
    ASSERT_GE(a.left, 0);
    ASSERT_LE(a.left, 8);
    tops.insert(a.top);
    lefts.insert(a.left);
    flips += a.flip;
    Augment next = randomAugment(7, 2, i, image, crop, 0.5);
    Augment seeded = randomAugment(8, 1, i, image, crop, 0.5);
    changed += next.top != a.top || next.left != a.left || next.flip != a.flip;
    changed += seeded.top != a.top || seeded.left != a.left;
  }
  EXPECT_EQ(tops.size(), 7u); // every offset occurs
  EXPECT_EQ(lefts.size(), 9u);
  EXPECT_NEAR(flips / 4000.0, 0.5, 0.03);
  EXPECT_GT(changed, 7000); // epochs and seeds draw afresh
  for (int64_t i = 0; i < 100; ++i) {
    EXPECT_FALSE(randomAugment(7, 1, i, image, crop, 0.0).flip);
    EXPECT_TRUE(randomAugment(7, 1, i, image, crop, 1.0).flip);
    Augment none = randomAugment(7, 1, i, image, image, 0.0);
    EXPECT_EQ(none.top, 0);
    EXPECT_EQ(none.left, 0);
  }
}

std::shared_ptr<const toml::table> dataset(const std::string &keys) {
  return std::make_shared<toml::table>(
      toml::parse("[dataset]\ntype = \"x\"\n" + keys));
}

TransformSpec specOf(const std::string &keys, bool train = true) {
  plugin::TomlConfig tc(dataset(keys), "dataset");
  return TransformSpec::fromConfig(plugin::Config(tc.config()), train);
}

TEST(ImageTransforms, ApplyComposes) {
  // Grey 2x2 -> RGB, resized to 4x4 (the upsample case above), the centre
  // 2x2, normalised per channel.
  TransformSpec t = specOf("channels = 3\nimage_size = [4, 4]\ncrop = 2\n"
                           "mean = [0.5, 0.0, 0.25]\nstd = [0.5, 1, 2]\n");
  t.checkChannels(3);
  const uint8_t px[] = {0, 10, 20, 30};
  ImageView view{px, 2, 2, 1};
  EXPECT_EQ(t.output(view.size()), (Size{2, 2}));
  std::vector<float> out(12);
  t.apply(view, 3, Augment{}, out.data());
  const float window[] = {7.5, 12.5, 17.5, 22.5};
  const float mean[] = {0.5, 0.0, 0.25}, stdv[] = {0.5, 1, 2};
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 4; ++i)
      EXPECT_NEAR(out[size_t(c * 4 + i)],
                  (window[i] / 255.0 - mean[c]) / stdv[c], 1e-6)
          << c << "," << i;

  // A random crop at (0, 2), flipped; the eval split ignores both.
  TransformSpec r =
      specOf("image_size = [4, 4]\ncrop = [2, 2]\ncrop_mode = \"random\"\n"
             "hflip = 1.0\nnormalize = false\n");
  EXPECT_TRUE(r.random());
  std::vector<float> one(4);
  r.apply(view, 1, Augment{0, 2, true}, one.data());
  EXPECT_EQ(one, (std::vector<float>{10, 7.5, 15, 12.5}));
  TransformSpec e = specOf("image_size = [4, 4]\ncrop = [2, 2]\n"
                           "crop_mode = \"random\"\nhflip = 1.0\n"
                           "normalize = false\n",
                           /*train=*/false);
  EXPECT_FALSE(e.random());
  e.apply(view, 1, Augment{0, 2, true}, one.data());
  EXPECT_EQ(one, (std::vector<float>{7.5, 12.5, 17.5, 22.5}));
}

TEST(ImageTransforms, ShorterSideThenCrop) {
  TransformSpec t = specOf("image_size = 4\ncrop = 3\n");
  EXPECT_EQ(t.resized({2, 6}), (Size{4, 12}));
  EXPECT_EQ(t.output({2, 6}), (Size{3, 3}));
  EXPECT_EQ(t.problem({2, 6}), "");
  TransformSpec big = specOf("crop = [3, 9]\n");
  EXPECT_EQ(big.problem({2, 6}), "the crop 3x9 is larger than the image (2x6)");
}

TEST(ImageTransforms, KeyErrorsNameTheKey) {
  auto keyOf = [](const std::string &keys, int64_t channels = 1) {
    try {
      specOf(keys).checkChannels(channels);
    } catch (const plugin::Error &e) {
      return std::string(e.key()) + ": " + e.what();
    }
    return std::string("no error");
  };
  EXPECT_EQ(keyOf("channels = 2\n"),
            "channels: channels = 2: an image has 1 (grey) or 3 (RGB) "
            "channels");
  EXPECT_EQ(keyOf("image_size = [1, 2, 3]\n"),
            "image_size: image_size has 3 values; give one (the shorter "
            "side) or [height, width]");
  EXPECT_EQ(keyOf("crop_mode = \"random\"\n"),
            "crop_mode: crop_mode = \"random\" needs crop, the size of the "
            "crop");
  EXPECT_EQ(keyOf("hflip = 1.5\n"),
            "hflip: hflip = 1.500000 is not a probability in [0, 1]");
  EXPECT_EQ(keyOf("std = [1, 0]\n", 2),
            "std: std = 0.000000 is outside (0, 1e6]");
  EXPECT_EQ(keyOf("mean = [0.1, 0.2]\n", 3),
            "mean: mean has 2 values, but the images have 3 channels: give "
            "one value, or one per channel");
  EXPECT_EQ(keyOf("mean = 0.5\nstd = [0.2, 0.2, 0.2]\n", 3), "no error");
}

} // namespace
