//===- FileBytes.h - A data file's bytes -----------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The whole of a binary file, for the dataset plugins that decode their own
// formats (idx, image-folder): false with the reason when it cannot be read,
// so that each reports it in its own terms (a located error, or a skipped
// record).
//===----------------------------------------------------------------------===//
#ifndef FTC_PLUGIN_HOST_FILEBYTES_H
#define FTC_PLUGIN_HOST_FILEBYTES_H

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace ftc::plugin_host {

/// Reads `path` into `data`; on failure returns false and sets `why`
/// ("cannot open: ..." or "cannot read: ...", with errno's text).
inline bool readFileBytes(const std::string &path, std::vector<uint8_t> &data,
                          std::string &why) {
  data.clear();
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    why = std::string("cannot open: ") + std::strerror(errno);
    return false;
  }
  uint8_t chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), f)) > 0)
    data.insert(data.end(), chunk, chunk + n);
  bool bad = std::ferror(f);
  int err = errno;
  std::fclose(f);
  if (bad) {
    why = std::string("cannot read: ") + std::strerror(err);
    return false;
  }
  return true;
}

} // namespace ftc::plugin_host

#endif // FTC_PLUGIN_HOST_FILEBYTES_H
