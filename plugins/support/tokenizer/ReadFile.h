//===- ReadFile.h - A tokenizer file's bytes -------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Shared by the tokenizers of this library (private to it): the whole file,
// or a std::runtime_error naming it.
//===----------------------------------------------------------------------===//
#ifndef FTC_TOKENIZER_READFILE_H
#define FTC_TOKENIZER_READFILE_H

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace ftc::text::detail {

inline std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad())
    throw std::runtime_error(path + ": cannot read");
  return s.str();
}

} // namespace ftc::text::detail

#endif // FTC_TOKENIZER_READFILE_H
