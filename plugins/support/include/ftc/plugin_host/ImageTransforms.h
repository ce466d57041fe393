//===- ImageTransforms.h - Resize, crop, flip, normalise images -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The image transforms of the image dataset plugins (image-folder, idx),
// in the order torchvision's usual pipeline applies them:
//
//   channels  grey -> RGB by replication, RGB -> grey by ITU-R 601-2 luma
//             (0.299 R + 0.587 G + 0.114 B, in float, not rounded)
//   resize    bilinear with half-pixel centres and no antialiasing: PyTorch's
//             interpolate(mode="bilinear", align_corners=False,
//             antialias=False), i.e. torchvision's Resize(antialias=False)
//             on a float tensor
//   crop      a window of the resized image: centred as torchvision's
//             CenterCrop (offsets rounded half to even), or at an offset
//             drawn per example (train split)
//   flip      left-right, drawn per example with a probability (train split)
//   normalise x = (x * scale - mean[c]) / std[c], scale 1/255 or 1
//
// The output is planar float [channels, height, width]. Random choices are
// a pure function of (seed, epoch, example index) through SplitMix64, so an
// epoch's augmented examples are the same in a resumed run.
//
// The keys the plugins declare for them are here too (k*Key), with
// TransformSpec::fromConfig reading and validating them.
//===----------------------------------------------------------------------===//
#ifndef FTC_PLUGIN_HOST_IMAGETRANSFORMS_H
#define FTC_PLUGIN_HOST_IMAGETRANSFORMS_H

#include "ftc/plugin.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace ftc::image {

struct Size {
  int64_t height = 0, width = 0;
  bool empty() const { return height <= 0 || width <= 0; }
  bool operator==(const Size &o) const {
    return height == o.height && width == o.width;
  }
  bool operator!=(const Size &o) const { return !(*this == o); }
  /// "28x28" (height x width).
  std::string str() const;
};

/// An 8-bit image as decoded: rows of interleaved channels (HWC), 1 (grey)
/// or 3 (RGB) channels. Does not own its pixels.
struct ImageView {
  const uint8_t *pixels = nullptr;
  int64_t height = 0, width = 0, channels = 0;
  Size size() const { return {height, width}; }
};

//===----------------------------------------------------------------------===//
// The primitives (planar float images [channels, height, width])
//===----------------------------------------------------------------------===//

/// `src` as planar float in 0..255 with `channels` (1 or 3) channels: grey
/// is replicated to RGB, RGB becomes grey by ITU-R 601-2 luma.
void toPlanar(const ImageView &src, int64_t channels, float *dst);

/// Bilinear resize of each of `channels` planes from `in` to `out`, with
/// half-pixel centres and no antialiasing: output x samples the input at
/// sx = max(0, (x + 0.5) * in.width / out.width - 0.5), between columns
/// floor(sx) and floor(sx) + 1 (the last column repeated at the edge), and
/// the same for rows. Equal sizes copy.
void resizeBilinear(const float *src, int64_t channels, Size in, float *dst,
                    Size out);

/// torchvision's Resize(int): the shorter side becomes `shorter`, the longer
/// one keeps the aspect ratio, truncated (int(shorter * long / short)).
Size resizeShorter(Size in, int64_t shorter);

/// The top-left corner of torchvision's CenterCrop of `crop` inside `in`:
/// round((in - crop) / 2) with ties to even, as Python's round().
void centerCropOffset(Size in, Size crop, int64_t &top, int64_t &left);

/// Copies the window [top, top + crop.height) x [left, left + crop.width)
/// of each plane of `src` (size `in`) to `dst`, mirrored left-right when
/// `flip`. The window must lie inside `in`.
void cropFlip(const float *src, int64_t channels, Size in, int64_t top,
              int64_t left, Size crop, bool flip, float *dst);

//===----------------------------------------------------------------------===//
// Per-example random choices
//===----------------------------------------------------------------------===//

/// SplitMix64's output function.
uint64_t mix64(uint64_t z);

struct Augment {
  int64_t top = 0, left = 0; // the crop's corner
  bool flip = false;
};

/// The random crop corner (uniform over every window of `crop` inside
/// `image`) and flip (probability `flipProb`) of example `index` in `epoch`
/// of a job seeded `seed`: a pure function of these.
Augment randomAugment(uint64_t seed, int64_t epoch, int64_t index, Size image,
                      Size crop, double flipProb);

//===----------------------------------------------------------------------===//
// The keys and the whole transform
//===----------------------------------------------------------------------===//

using plugin::floatArrayKey;
using plugin::floatKey;
using plugin::intArrayKey;
using plugin::intKey;
using plugin::stringKey;

inline constexpr ftc_key_decl_t kChannelsKey = intKey(
    "channels", nullptr, 1, 3,
    "channels of the image feature, 1 or 3: grey is replicated to RGB, "
    "RGB becomes grey by ITU-R 601-2 luma; the feature is then [C, H, W]");
inline constexpr ftc_key_decl_t kImageSizeKey =
    intArrayKey("image_size", nullptr, 1, 65536,
                "resize (bilinear, half-pixel centres, no antialiasing): one "
                "number sets the shorter side keeping the aspect ratio, "
                "[height, width] the size",
                FTC_KEY_SCALAR_OR_ARRAY);
inline constexpr ftc_key_decl_t kCropKey =
    intArrayKey("crop", nullptr, 1, 65536,
                "crop the resized image to this size: one number for a "
                "square, or [height, width]",
                FTC_KEY_SCALAR_OR_ARRAY);
inline constexpr ftc_key_decl_t kCropModeKey =
    stringKey("crop_mode", "\"center\"", "center|random",
              "where the crop is taken: the centre, or a random place per "
              "example and epoch on the train split (eval is always centred)");
inline constexpr ftc_key_decl_t kHflipKey =
    floatKey("hflip", "0.0", 0.0, 1.0,
             "probability of a left-right flip per example and epoch, train "
             "split only");
inline constexpr ftc_key_decl_t kNormalizeKey = plugin::boolKey(
    "normalize", "true", "scale pixels from [0, 255] to [0, 1]");
inline constexpr ftc_key_decl_t kMeanKey = floatArrayKey(
    "mean", "0.0", plugin::kNoMin, plugin::kNoMax,
    "subtracted after normalize, one number or one per channel: x = (x - "
    "mean) / std",
    FTC_KEY_SCALAR_OR_ARRAY);
inline constexpr ftc_key_decl_t kStdKey =
    floatArrayKey("std", "1.0", 0.0, 1e6,
                  "divided by after normalize, one number or one per channel, "
                  "each in (0, 1e6]",
                  FTC_KEY_SCALAR_OR_ARRAY);

/// What the keys ask for. The spec's values are validated by fromConfig
/// (each error names its key).
struct TransformSpec {
  int64_t channels = 0;    // 0 = as the images are
  Size resize;             // image_size = [h, w]
  int64_t shorter = 0;     // image_size = n
  Size crop;               // empty = none
  bool randomCrop = false; // crop_mode = "random" (train split)
  double hflip = 0;        // train split
  bool normalize = true;   // scale 1/255
  std::vector<double> mean{0.0}, stddev{1.0}; // 1 or `channels` values

  /// Reads channels, image_size, crop, crop_mode, hflip, mean, std and
  /// normalize (those present); `train` keeps random crops and flips,
  /// other splits drop them.
  static TransformSpec fromConfig(const plugin::Config &config, bool train);

  /// Whether the image changes shape or content beyond normalisation.
  bool reshapes() const {
    return channels || !resize.empty() || shorter || !crop.empty() ||
           randomCrop || hflip > 0;
  }
  /// Whether examples depend on the epoch.
  bool random() const { return (randomCrop && !crop.empty()) || hflip > 0; }
  /// The resized size of an image of size `in`.
  Size resized(Size in) const;
  /// The output size of an image of size `in`.
  Size output(Size in) const { return crop.empty() ? resized(in) : crop; }
  /// Checks that the mean and std lists fit `outChannels` (1 or that many
  /// values); throws plugin::Error at the key.
  void checkChannels(int64_t outChannels) const;
  /// An empty string when an image of size `in` can be transformed, else
  /// why not (the crop is larger than the resized image).
  std::string problem(Size in) const;

  /// Transforms `src` into `dst` ([outChannels, output(src).height,
  /// output(src).width]); `aug` is the example's random choice (ignored
  /// where the spec has none).
  void apply(const ImageView &src, int64_t outChannels, const Augment &aug,
             float *dst) const;
  /// The example's random choices (seed, epoch, index).
  Augment augment(uint64_t seed, int64_t epoch, int64_t index, Size in) const;
};

} // namespace ftc::image

#endif // FTC_PLUGIN_HOST_IMAGETRANSFORMS_H
