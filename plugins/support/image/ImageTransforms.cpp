//===- ImageTransforms.cpp - Resize, crop, flip, normalise images ---------===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/plugin_host/ImageTransforms.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace ftc;
using namespace ftc::image;
using plugin::Error;

std::string Size::str() const {
  return std::to_string(height) + "x" + std::to_string(width);
}

void image::toPlanar(const ImageView &src, int64_t channels, float *dst) {
  size_t plane = size_t(src.height) * size_t(src.width);
  const uint8_t *p = src.pixels;
  if (src.channels == channels) {
    for (size_t i = 0; i < plane; ++i)
      for (int64_t c = 0; c < channels; ++c)
        dst[size_t(c) * plane + i] = float(p[i * size_t(channels) + size_t(c)]);
  } else if (src.channels == 1 && channels == 3) {
    for (size_t i = 0; i < plane; ++i)
      dst[i] = dst[plane + i] = dst[2 * plane + i] = float(p[i]);
  } else if (src.channels == 3 && channels == 1) {
    // ITU-R 601-2 luma, as PIL's convert("L") without its rounding.
    for (size_t i = 0; i < plane; ++i)
      dst[i] = 0.299f * float(p[3 * i]) + 0.587f * float(p[3 * i + 1]) +
               0.114f * float(p[3 * i + 2]);
  } else {
    throw Error(FTC_STATUS_INTERNAL,
                "cannot convert " + std::to_string(src.channels) +
                    " channels to " + std::to_string(channels));
  }
}

namespace {
/// One output coordinate's two source indices and weights along an axis.
struct Tap {
  int64_t i0, i1;
  float w0, w1;
};

/// PyTorch's area_pixel_compute_source_index (align_corners = False) and
/// the linear taps of upsample_bilinear2d.
std::vector<Tap> taps(int64_t in, int64_t out) {
  std::vector<Tap> t(static_cast<size_t>(out));
  float scale = float(in) / float(out);
  for (int64_t o = 0; o < out; ++o) {
    float src = scale * (float(o) + 0.5f) - 0.5f;
    if (src < 0)
      src = 0;
    int64_t i0 = std::min(int64_t(src), in - 1);
    int64_t i1 = i0 + (i0 < in - 1 ? 1 : 0);
    float w1 = src - float(i0);
    t[size_t(o)] = {i0, i1, 1.0f - w1, w1};
  }
  return t;
}
} // namespace

void image::resizeBilinear(const float *src, int64_t channels, Size in,
                           float *dst, Size out) {
  size_t inPlane = size_t(in.height) * size_t(in.width);
  size_t outPlane = size_t(out.height) * size_t(out.width);
  if (in == out) {
    std::memcpy(dst, src, sizeof(float) * inPlane * size_t(channels));
    return;
  }
  std::vector<Tap> rows = taps(in.height, out.height);
  std::vector<Tap> cols = taps(in.width, out.width);
  for (int64_t c = 0; c < channels; ++c) {
    const float *s = src + size_t(c) * inPlane;
    float *d = dst + size_t(c) * outPlane;
    for (int64_t y = 0; y < out.height; ++y) {
      const Tap &r = rows[size_t(y)];
      const float *row0 = s + size_t(r.i0) * size_t(in.width);
      const float *row1 = s + size_t(r.i1) * size_t(in.width);
      for (int64_t x = 0; x < out.width; ++x) {
        const Tap &k = cols[size_t(x)];
        float top = k.w0 * row0[k.i0] + k.w1 * row0[k.i1];
        float bottom = k.w0 * row1[k.i0] + k.w1 * row1[k.i1];
        d[size_t(y) * size_t(out.width) + size_t(x)] =
            r.w0 * top + r.w1 * bottom;
      }
    }
  }
}

Size image::resizeShorter(Size in, int64_t shorter) {
  bool wide = in.width > in.height;
  int64_t shortSide = wide ? in.height : in.width;
  int64_t longSide = wide ? in.width : in.height;
  // Python's int(n * long / short): a true division, truncated.
  int64_t newLong = int64_t(double(shorter * longSide) / double(shortSide));
  return wide ? Size{shorter, newLong} : Size{newLong, shorter};
}

void image::centerCropOffset(Size in, Size crop, int64_t &top, int64_t &left) {
  // round(d / 2) with ties to even: d odd gives q + 0.5, rounded to the
  // even one of q and q + 1.
  auto half = [](int64_t d) {
    int64_t q = d / 2;
    return d % 2 != 0 && q % 2 != 0 ? q + 1 : q;
  };
  top = half(in.height - crop.height);
  left = half(in.width - crop.width);
}

void image::cropFlip(const float *src, int64_t channels, Size in, int64_t top,
                     int64_t left, Size crop, bool flip, float *dst) {
  size_t inPlane = size_t(in.height) * size_t(in.width);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t y = 0; y < crop.height; ++y) {
      const float *row = src + size_t(c) * inPlane +
                         size_t(top + y) * size_t(in.width) + size_t(left);
      float *out = dst + (size_t(c) * size_t(crop.height) + size_t(y)) *
                             size_t(crop.width);
      if (flip)
        for (int64_t x = 0; x < crop.width; ++x)
          out[x] = row[crop.width - 1 - x];
      else
        std::memcpy(out, row, sizeof(float) * size_t(crop.width));
    }
}

uint64_t image::mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

Augment image::randomAugment(uint64_t seed, int64_t epoch, int64_t index,
                             Size image, Size crop, double flipProb) {
  // One SplitMix64 stream per (seed, epoch, index); three draws in a fixed
  // order: the row, the column, the flip.
  uint64_t state =
      mix64(mix64(seed ^ 0x696d616765ull) ^
            mix64(uint64_t(epoch) * 0xd1b54a32d192ed03ull) ^ uint64_t(index));
  auto next = [&] {
    state += 0x9e3779b97f4a7c15ull;
    return mix64(state);
  };
  // Uniform in [0, n]: the high 64 bits of r * (n + 1).
  auto below = [](uint64_t r, int64_t n) {
    return int64_t((unsigned __int128)r * uint64_t(n + 1) >> 64);
  };
  Augment a;
  a.top = below(next(), std::max<int64_t>(0, image.height - crop.height));
  a.left = below(next(), std::max<int64_t>(0, image.width - crop.width));
  a.flip = double(next() >> 11) * 0x1.0p-53 < flipProb;
  return a;
}

//===----------------------------------------------------------------------===//
// TransformSpec
//===----------------------------------------------------------------------===//

namespace {
/// A size key: one number (`square` then says what it means) or [h, w].
std::vector<int64_t> sizeKey(const plugin::Config &config, const char *key,
                             const char *one) {
  std::vector<int64_t> v = config.getInts(key);
  if (v.size() > 2)
    throw Error(FTC_STATUS_INVALID_ARGUMENT,
                std::string(key) + " has " + std::to_string(v.size()) +
                    " values; give one (" + one + ") or [height, width]",
                key);
  for (int64_t x : v)
    if (x < 1 || x > 65536)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  std::string(key) + " = " + std::to_string(x) +
                      " is outside [1, 65536]",
                  key);
  return v;
}
} // namespace

TransformSpec TransformSpec::fromConfig(const plugin::Config &config,
                                        bool train) {
  TransformSpec t;
  if (std::optional<int64_t> c = config.findInt("channels")) {
    if (*c != 1 && *c != 3)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "channels = " + std::to_string(*c) +
                      ": an image has 1 (grey) or 3 (RGB) channels",
                  "channels");
    t.channels = *c;
  }
  std::vector<int64_t> size = sizeKey(config, "image_size", "the shorter side");
  if (size.size() == 1)
    t.shorter = size[0];
  else if (size.size() == 2)
    t.resize = {size[0], size[1]};
  std::vector<int64_t> crop = sizeKey(config, "crop", "a square");
  if (crop.size() == 1)
    t.crop = {crop[0], crop[0]};
  else if (crop.size() == 2)
    t.crop = {crop[0], crop[1]};
  std::string mode = config.findString("crop_mode").value_or("center");
  if (mode != "center" && mode != "random")
    throw Error(FTC_STATUS_INVALID_ARGUMENT,
                "crop_mode = \"" + mode +
                    "\": expected \"center\" or \"random\"",
                "crop_mode");
  if (mode == "random" && t.crop.empty())
    throw Error(FTC_STATUS_INVALID_ARGUMENT,
                "crop_mode = \"random\" needs crop, the size of the crop",
                "crop_mode");
  t.randomCrop = mode == "random";
  t.hflip = config.findFloat("hflip").value_or(0.0);
  if (!(t.hflip >= 0 && t.hflip <= 1))
    throw Error(FTC_STATUS_INVALID_ARGUMENT,
                "hflip = " + std::to_string(t.hflip) +
                    " is not a probability in [0, 1]",
                "hflip");
  t.normalize = config.findBool("normalize").value_or(true);
  t.mean = config.getFloats("mean");
  t.stddev = config.getFloats("std");
  if (t.mean.empty())
    t.mean = {0.0};
  if (t.stddev.empty())
    t.stddev = {1.0};
  for (double m : t.mean)
    if (!std::isfinite(m))
      throw Error(FTC_STATUS_INVALID_ARGUMENT, "mean must be finite", "mean");
  for (double s : t.stddev)
    if (!(s > 0 && s <= 1e6))
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "std = " + std::to_string(s) + " is outside (0, 1e6]", "std");
  if (!train) {
    // Evaluation and prediction see every image the same way.
    t.randomCrop = false;
    t.hflip = 0;
  }
  return t;
}

Size TransformSpec::resized(Size in) const {
  if (!resize.empty())
    return resize;
  if (shorter)
    return resizeShorter(in, shorter);
  return in;
}

void TransformSpec::checkChannels(int64_t outChannels) const {
  for (auto [values, key] :
       {std::pair{&mean, "mean"}, std::pair{&stddev, "std"}})
    if (values->size() != 1 && int64_t(values->size()) != outChannels)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  std::string(key) + " has " + std::to_string(values->size()) +
                      " values, but the images have " +
                      std::to_string(outChannels) + " channel" +
                      (outChannels == 1 ? "" : "s") +
                      ": give one value, or one per channel",
                  key);
}

std::string TransformSpec::problem(Size in) const {
  Size r = resized(in);
  if (r.empty())
    return "resizing it to " + r.str() + " leaves nothing";
  if (!crop.empty() && (crop.height > r.height || crop.width > r.width))
    return "the crop " + crop.str() + " is larger than the image (" + r.str() +
           (r == in ? "" : " after image_size") + ")";
  return "";
}

Augment TransformSpec::augment(uint64_t seed, int64_t epoch, int64_t index,
                               Size in) const {
  Size r = resized(in);
  return randomAugment(seed, epoch, index, r, crop.empty() ? r : crop, hflip);
}

void TransformSpec::apply(const ImageView &src, int64_t outChannels,
                          const Augment &aug, float *dst) const {
  Size in = src.size();
  Size r = resized(in);
  Size out = output(in);
  std::vector<float> planar(size_t(outChannels) * size_t(in.height) *
                            size_t(in.width));
  toPlanar(src, outChannels, planar.data());
  std::vector<float> scaled;
  const float *image = planar.data();
  if (r != in) {
    scaled.resize(size_t(outChannels) * size_t(r.height) * size_t(r.width));
    resizeBilinear(planar.data(), outChannels, in, scaled.data(), r);
    image = scaled.data();
  }
  int64_t top = 0, left = 0;
  if (!crop.empty()) {
    if (randomCrop) {
      top = aug.top;
      left = aug.left;
    } else {
      centerCropOffset(r, crop, top, left);
    }
  }
  cropFlip(image, outChannels, r, top, left, out, hflip > 0 && aug.flip, dst);
  // The same float arithmetic as the idx plugin's table of 256 values.
  float scale = normalize ? 1.0f / 255.0f : 1.0f;
  size_t plane = size_t(out.height) * size_t(out.width);
  for (int64_t c = 0; c < outChannels; ++c) {
    float m = float(mean.size() == 1 ? mean[0] : mean[size_t(c)]);
    float s = float(stddev.size() == 1 ? stddev[0] : stddev[size_t(c)]);
    float *p = dst + size_t(c) * plane;
    for (size_t i = 0; i < plane; ++i)
      p[i] = (p[i] * scale - m) / s;
  }
}
