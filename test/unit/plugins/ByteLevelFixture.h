//===- ByteLevelFixture.h - Small byte-level BPE tokenizers -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_TEST_UNIT_PLUGINS_BYTELEVELFIXTURE_H
#define FTC_TEST_UNIT_PLUGINS_BYTELEVELFIXTURE_H

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace ftc::test {

using Merges = std::vector<std::pair<std::string, std::string>>;

/// GPT-2's bytes_to_unicode: the character that stands for byte `b`, UTF-8.
inline std::string byteChar(unsigned b) {
  auto printable = [](unsigned x) {
    return (x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) ||
           (x >= 0xAE && x <= 0xFF);
  };
  unsigned c = b;
  if (!printable(b)) {
    c = 0x100;
    for (unsigned x = 0; x < b; ++x)
      c += !printable(x);
  }
  if (c < 0x80)
    return std::string(1, char(c));
  return {char(0xC0 | (c >> 6)), char(0x80 | (c & 0x3F))};
}

/// The vocabulary <|endoftext|> = 0, byte b = 1 + b, then one token per
/// merge in order.
inline nlohmann::json byteLevelVocab(const Merges &merges) {
  nlohmann::json vocab = nlohmann::json::object();
  vocab["<|endoftext|>"] = 0;
  for (unsigned b = 0; b < 256; ++b)
    vocab[byteChar(b)] = 1 + b;
  for (const auto &[a, b] : merges)
    if (!vocab.contains(a + b))
      vocab[a + b] = vocab.size();
  return vocab;
}

/// A GPT-2-style tokenizer.json over byteLevelVocab(merges).
inline nlohmann::json byteLevelTokenizerJson(const Merges &merges) {
  using nlohmann::json;
  json j;
  j["added_tokens"] = {{{"id", 0},
                        {"content", "<|endoftext|>"},
                        {"lstrip", false},
                        {"rstrip", false},
                        {"normalized", false},
                        {"special", true}}};
  j["normalizer"] = nullptr;
  j["pre_tokenizer"] = {
      {"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}};
  j["decoder"] = {{"type", "ByteLevel"}};
  json m = json::array();
  for (const auto &[a, b] : merges)
    m.push_back({a, b});
  j["model"] = {{"type", "BPE"},
                {"dropout", nullptr},
                {"vocab", byteLevelVocab(merges)},
                {"merges", m}};
  return j;
}

} // namespace ftc::test

#endif // FTC_TEST_UNIT_PLUGINS_BYTELEVELFIXTURE_H
