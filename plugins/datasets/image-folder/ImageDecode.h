//===- ImageDecode.h - PNG and JPEG files to 8-bit pixels -------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Decodes PNG (libpng) and JPEG (libjpeg-turbo) bytes, told apart by their
// first bytes, into 8-bit grey or RGB pixels (rows of interleaved channels).
// Strict: an error or a warning of either library (a truncated file, a bad
// CRC, corrupt entropy-coded data) fails the image.
//===----------------------------------------------------------------------===//
#ifndef FTC_PLUGINS_IMAGE_FOLDER_IMAGEDECODE_H
#define FTC_PLUGINS_IMAGE_FOLDER_IMAGEDECODE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ftc::image {

enum class Format { Unknown, Png, Jpeg };

/// PNG: 89 50 4E 47 0D 0A 1A 0A; JPEG: FF D8 FF.
Format sniff(const uint8_t *data, size_t size);

struct Decoded {
  int64_t height = 0, width = 0, channels = 0; // channels: 1 or 3
  std::vector<uint8_t> pixels;                 // height x width x channels
};

/// Decodes `data`; false with `why` set when it is not a PNG or JPEG image
/// or cannot be decoded. PNG: palette and low bit depths are expanded,
/// 16-bit samples scaled to 8 bits, alpha dropped, gamma ignored. JPEG:
/// grey stays grey, YCbCr becomes RGB (libjpeg's default islow IDCT and
/// fancy upsampling, as PIL decodes); CMYK is not supported.
bool decode(const uint8_t *data, size_t size, Decoded &out, std::string &why);

} // namespace ftc::image

#endif // FTC_PLUGINS_IMAGE_FOLDER_IMAGEDECODE_H
