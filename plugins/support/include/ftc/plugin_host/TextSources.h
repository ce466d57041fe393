//===- TextSources.h - The files a text dataset names ----------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The language-model datasets (masked-lm, causal-lm) take `train` / `eval`
// as a file, a directory or a glob; errors blame that key.
//===----------------------------------------------------------------------===//
#ifndef FTC_PLUGIN_HOST_TEXTSOURCES_H
#define FTC_PLUGIN_HOST_TEXTSOURCES_H

#include "ftc/plugin.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <glob.h>
#include <string>
#include <vector>

namespace ftc::plugin {

/// The files `source` names: itself, the files of a directory whose
/// extension is one of `extensions` (sorted), or the matches of a glob
/// pattern (sorted; `{a,b}` alternatives allowed).
inline std::vector<std::string>
expandSource(const std::string &source, const char *key,
             const std::vector<std::string> &extensions) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(source, ec)) {
    std::vector<std::string> files;
    for (const fs::directory_entry &e : fs::directory_iterator(source, ec))
      if (std::count(extensions.begin(), extensions.end(),
                     e.path().extension().string()) &&
          e.is_regular_file(ec))
        files.push_back(e.path().string());
    if (ec)
      throw Error(FTC_STATUS_IO_ERROR,
                  source + ": cannot list the directory: " + ec.message(), key);
    if (files.empty()) {
      std::string kinds;
      for (size_t i = 0; i < extensions.size(); ++i)
        kinds += (i ? " or " : "") + extensions[i];
      throw Error(FTC_STATUS_NOT_FOUND,
                  source + ": the directory holds no " + kinds + " file", key);
    }
    std::sort(files.begin(), files.end());
    return files;
  }
  if (source.find_first_of("*?[{") != std::string::npos) {
    glob_t g{};
    int rc = ::glob(source.c_str(), GLOB_BRACE, nullptr, &g);
    std::vector<std::string> files;
    for (size_t i = 0; rc == 0 && i < g.gl_pathc; ++i)
      if (fs::is_regular_file(g.gl_pathv[i], ec))
        files.push_back(g.gl_pathv[i]);
    globfree(&g);
    if (files.empty())
      throw Error(FTC_STATUS_NOT_FOUND,
                  source + ": the pattern matches no file", key);
    std::sort(files.begin(), files.end());
    return files;
  }
  return {source};
}

/// The bytes of `path` without a UTF-8 byte order mark.
inline std::string readSourceFile(const std::string &path, const char *key) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    throw Error(errno == ENOENT ? FTC_STATUS_NOT_FOUND : FTC_STATUS_IO_ERROR,
                path + ": cannot open: " + std::strerror(errno), key);
  std::string data;
  char chunk[1 << 16];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), f)) > 0)
    data.append(chunk, n);
  bool bad = std::ferror(f);
  int err = errno;
  std::fclose(f);
  if (bad)
    throw Error(FTC_STATUS_IO_ERROR,
                path + ": cannot read: " + std::strerror(err), key);
  if (data.compare(0, 3, "\xEF\xBB\xBF") == 0)
    data.erase(0, 3);
  return data;
}

} // namespace ftc::plugin

#endif // FTC_PLUGIN_HOST_TEXTSOURCES_H
