//===- ImageDecode.cpp - PNG and JPEG files to 8-bit pixels ---------------===//
// SPDX-License-Identifier: Apache-2.0
//
// Both libraries report errors by longjmp. Each decoder keeps its C++ state
// (the output vector) in the caller's frame and only plain C values in the
// frame that calls setjmp, so a longjmp never skips a destructor.
//===----------------------------------------------------------------------===//
#include "ImageDecode.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <new>

#include <jpeglib.h>
#include <png.h>

using namespace ftc::image;

namespace {

/// Larger images are refused before their pixels are allocated (a corrupt
/// header can claim anything).
constexpr uint64_t kMaxBytes = uint64_t(1) << 31;

//===----------------------------------------------------------------------===//
// PNG
//===----------------------------------------------------------------------===//

struct PngSource {
  const uint8_t *data;
  size_t size, pos;
  char error[256];
};

void pngRead(png_structp png, png_bytep out, size_t n) {
  auto *src = static_cast<PngSource *>(png_get_io_ptr(png));
  if (n > src->size - src->pos)
    png_error(png, "truncated: the file ends early");
  std::memcpy(out, src->data + src->pos, n);
  src->pos += n;
}

void pngError(png_structp png, png_const_charp message) {
  auto *src = static_cast<PngSource *>(png_get_error_ptr(png));
  std::snprintf(src->error, sizeof(src->error), "%s", message);
  png_longjmp(png, 1);
}

// Warnings (an unknown chunk, an incorrect sRGB profile) do not make the
// pixels wrong; errors (CRC, truncation, bad data) do.
void pngWarning(png_structp, png_const_charp) {}

bool decodePng(PngSource *src, Decoded *out) {
  png_structp png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, src, pngError, pngWarning);
  if (!png) {
    std::snprintf(src->error, sizeof(src->error), "cannot initialise libpng");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    std::snprintf(src->error, sizeof(src->error), "cannot initialise libpng");
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, src, pngRead);
  png_read_info(png, info);
  png_set_expand(png); // palette -> RGB, 1/2/4-bit grey -> 8, tRNS -> alpha
  png_set_scale_16(png);
  png_set_strip_alpha(png);
  int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  png_uint_32 width = png_get_image_width(png, info);
  png_uint_32 height = png_get_image_height(png, info);
  int channels = png_get_channels(png, info);
  if (channels != 1 && channels != 3)
    png_error(png, "unexpected channel count after conversion");
  uint64_t bytes = uint64_t(width) * height * uint64_t(channels);
  if (bytes > kMaxBytes)
    png_error(png, "the image is too large");
  bool allocated = true;
  try {
    out->pixels.assign(size_t(bytes), 0);
  } catch (const std::bad_alloc &) {
    allocated = false;
  }
  if (!allocated)
    png_error(png, "out of memory");
  out->height = height;
  out->width = width;
  out->channels = channels;
  size_t stride = size_t(width) * size_t(channels);
  for (int pass = 0; pass < passes; ++pass)
    for (png_uint_32 y = 0; y < height; ++y)
      png_read_row(png, out->pixels.data() + size_t(y) * stride, nullptr);
  png_read_end(png, nullptr); // the chunks after the image, and their CRCs
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

//===----------------------------------------------------------------------===//
// JPEG
//===----------------------------------------------------------------------===//

struct JpegError {
  jpeg_error_mgr mgr; // first: libjpeg sees a jpeg_error_mgr *
  jmp_buf jump;
  char error[JMSG_LENGTH_MAX];
};

[[noreturn]] void jpegFail(j_common_ptr cinfo) {
  auto *err = reinterpret_cast<JpegError *>(cinfo->err);
  cinfo->err->format_message(cinfo, err->error);
  std::longjmp(err->jump, 1);
}

void jpegErrorExit(j_common_ptr cinfo) { jpegFail(cinfo); }

// Level -1 is a warning: corrupt data, a premature end of the file. The
// decoder would go on with made-up pixels; the image counts as corrupt.
void jpegEmit(j_common_ptr cinfo, int level) {
  if (level < 0)
    jpegFail(cinfo);
}

bool decodeJpeg(const uint8_t *data, size_t size, Decoded *out,
                JpegError *err) {
  jpeg_decompress_struct cinfo;
  cinfo.err = jpeg_std_error(&err->mgr);
  err->mgr.error_exit = jpegErrorExit;
  err->mgr.emit_message = jpegEmit;
  if (setjmp(err->jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.num_components == 1) {
    cinfo.out_color_space = JCS_GRAYSCALE;
  } else if (cinfo.num_components == 3) {
    cinfo.out_color_space = JCS_RGB;
  } else {
    std::snprintf(err->error, sizeof(err->error),
                  "a JPEG with %d components (CMYK?) is not supported",
                  cinfo.num_components);
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_start_decompress(&cinfo);
  uint64_t bytes = uint64_t(cinfo.output_width) * cinfo.output_height *
                   uint64_t(cinfo.output_components);
  bool allocated = bytes <= kMaxBytes;
  if (allocated) {
    try {
      out->pixels.assign(size_t(bytes), 0);
    } catch (const std::bad_alloc &) {
      allocated = false;
    }
  }
  if (!allocated) {
    std::snprintf(err->error, sizeof(err->error), "the image is too large");
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  out->height = cinfo.output_height;
  out->width = cinfo.output_width;
  out->channels = cinfo.output_components;
  size_t stride = size_t(cinfo.output_width) * size_t(out->channels);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out->pixels.data() + size_t(cinfo.output_scanline) * stride;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

} // namespace

Format ftc::image::sniff(const uint8_t *data, size_t size) {
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (size >= 8 && std::memcmp(data, kPng, 8) == 0)
    return Format::Png;
  if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
    return Format::Jpeg;
  return Format::Unknown;
}

bool ftc::image::decode(const uint8_t *data, size_t size, Decoded &out,
                        std::string &why) {
  out = Decoded{};
  switch (sniff(data, size)) {
  case Format::Png: {
    PngSource src{data, size, 0, {0}};
    if (decodePng(&src, &out))
      return true;
    why = std::string("corrupt PNG: ") + src.error;
    break;
  }
  case Format::Jpeg: {
    JpegError err{};
    if (decodeJpeg(data, size, &out, &err))
      return true;
    why = std::string("corrupt JPEG: ") + err.error;
    break;
  }
  case Format::Unknown:
    why = size == 0 ? "empty file"
                    : "not a PNG or JPEG image (by its first bytes)";
    break;
  }
  out = Decoded{};
  return false;
}
