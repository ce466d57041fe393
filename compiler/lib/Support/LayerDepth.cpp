//===- LayerDepth.cpp - Where a parameter sits in a layered model ---------===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/Support/LayerDepth.h"

#include <cctype>
#include <vector>

namespace {
std::vector<std::string> components(const std::string &name) {
  std::vector<std::string> parts(1);
  for (char c : name) {
    if (c == '.')
      parts.emplace_back();
    else
      parts.back() += c;
  }
  return parts;
}

bool isNumber(const std::string &s) {
  if (s.empty() || s.size() > 9)
    return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return false;
  return true;
}
} // namespace

std::optional<int64_t> ftc::layerIndex(const std::string &name) {
  std::vector<std::string> parts = components(name);
  for (size_t i = 0; i + 1 < parts.size(); ++i)
    if ((parts[i] == "layer" || parts[i] == "layers") && isNumber(parts[i + 1]))
      return std::stoll(parts[i + 1]);
  return std::nullopt;
}

bool ftc::isEmbedding(const std::string &name) {
  for (const std::string &part : components(name))
    if (part == "embeddings")
      return true;
  return false;
}
