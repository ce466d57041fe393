//===- WordPiece.h - BERT WordPiece tokenizer -------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// A tokenizer that gives the ids Hugging Face's BertTokenizer gives (the
// slow python BasicTokenizer + WordpieceTokenizer, which for
// bert-base-uncased equals the fast BertNormalizer + BertPreTokenizer +
// WordPiece): special tokens in the raw text are kept whole; the rest is
// cleaned (NUL, U+FFFD and control characters dropped, whitespace made a
// space), CJK ideographs are spaced, lower-cased and accent-stripped (NFD,
// then nonspacing marks dropped) as configured, split on whitespace and
// punctuation, and each word is split greedily longest-match-first into
// vocabulary pieces ("##" marks a continuation), or [UNK] when it cannot be
// or is longer than maxInputCharsPerWord code points.
//
// Input is UTF-8; invalid sequences decode to U+FFFD (like Python's
// errors="replace"), which cleaning drops. Plain C++17, no dependencies
// beyond nlohmann_json (for tokenizer.json). Thread-safe for concurrent
// const use.
//
//===----------------------------------------------------------------------===//
#ifndef FTC_PLUGIN_HOST_WORDPIECE_H
#define FTC_PLUGIN_HOST_WORDPIECE_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ftc::text {

struct WordPieceOptions {
  bool lowercase = true;
  /// std::nullopt: strip accents exactly when lower-casing (HF's default).
  std::optional<bool> stripAccents;
  bool cleanText = true;
  bool handleChineseChars = true;
  /// Words longer than this (in code points) become [UNK].
  size_t maxInputCharsPerWord = 100;
  std::string continuingSubwordPrefix = "##";
  std::string unkToken = "[UNK]";
  std::string clsToken = "[CLS]";
  std::string sepToken = "[SEP]";
  std::string padToken = "[PAD]";
  std::string maskToken = "[MASK]";
};

/// One encoded example (or pair), as BertTokenizer's __call__ returns it.
struct Encoding {
  std::vector<int32_t> ids, typeIds, attentionMask;
  /// Before truncation: the length with special tokens, and how many of the
  /// tokens are the unknown token (the data report's facts).
  size_t fullLength = 0, unknownTokens = 0;
};

class WordPiece {
public:
  /// Reads a vocab.txt (one token per line; the line index is the id; a
  /// later duplicate wins, as in transformers' load_vocab). Throws
  /// std::runtime_error naming the file (and line) on failure.
  static WordPiece fromVocabFile(const std::string &path,
                                 WordPieceOptions options = {});
  /// Reads a Hugging Face tokenizer.json with a WordPiece model: the vocab
  /// map, unk token, prefix and word limit from "model", the BertNormalizer
  /// settings from "normalizer", special tokens from "added_tokens" and
  /// [CLS]/[SEP] from the post-processor. Throws std::runtime_error.
  static WordPiece fromTokenizerJson(const std::string &path);
  /// A file ending in ".json" is a tokenizer.json, any other a vocab.txt; a
  /// directory is searched for tokenizer.json, then vocab.txt. `options`
  /// applies to a vocab.txt only (tokenizer.json carries its own settings).
  static WordPiece fromPath(const std::string &path,
                            const WordPieceOptions &options = {});
  /// From tokens in id order (tests, tools).
  static WordPiece fromTokens(const std::vector<std::string> &tokens,
                              WordPieceOptions options = {});

  /// `[CLS] text [SEP]` or `[CLS] text [SEP] pair [SEP]`, token types 0 for
  /// the first part and 1 for the second. maxLength > 0 truncates the
  /// longest sequence first, one token at a time (HF's "longest_first"), so
  /// that the total with special tokens fits; padToMax then pads with [PAD]
  /// (type 0, mask 0) up to maxLength. maxLength = 0: no limit, no padding.
  /// Throws std::invalid_argument when maxLength cannot hold the special
  /// tokens.
  Encoding encode(std::string_view text,
                  std::optional<std::string_view> pair = std::nullopt,
                  size_t maxLength = 0, bool padToMax = false) const;
  /// Ids of `text` without special tokens added.
  std::vector<int32_t> encodeIds(std::string_view text) const;
  /// The tokens of `text` (without [CLS]/[SEP]).
  std::vector<std::string> tokenize(std::string_view text) const;
  /// The words before WordPiece (BasicTokenizer.tokenize), special tokens
  /// in the text included.
  std::vector<std::string> basicTokenize(std::string_view text) const;

  /// The id of `token`, or -1 when it is not in the vocabulary.
  int32_t tokenId(std::string_view token) const;
  /// The token of `id`; throws std::out_of_range.
  const std::string &token(int32_t id) const;
  size_t vocabSize() const { return tokens.size(); }
  const WordPieceOptions &options() const { return opts; }
  int32_t unkId() const { return unk; }
  int32_t clsId() const { return cls; }
  int32_t sepId() const { return sep; }
  int32_t padId() const { return pad; }
  /// The Unicode version of the character tables.
  static const char *unicodeVersion();

private:
  WordPiece() = default;
  void finish(const std::string &origin);
  /// Splits `text` into runs: special tokens (id >= 0) and text (id -1).
  void splitSpecial(const std::u32string &text,
                    std::vector<std::pair<std::u32string, int32_t>> &out) const;
  void basicWords(const std::u32string &text,
                  std::vector<std::u32string> &words) const;
  void wordPiece(const std::u32string &word, std::vector<int32_t> &ids,
                 std::vector<std::string> *pieces) const;
  void run(std::string_view text, std::vector<int32_t> &ids,
           std::vector<std::string> *pieces) const;

  WordPieceOptions opts;
  std::unordered_map<std::string, int32_t> vocab;
  std::vector<std::string> tokens; // by id; "" for holes in a JSON vocab
  std::vector<std::pair<std::u32string, int32_t>> specials; // raw-text matches
  int32_t unk = -1, cls = -1, sep = -1, pad = -1;
  size_t maxTokenChars = 0; // longest vocabulary entry, in code points
};

/// UTF-8 helpers shared with the dataset plugin.
std::u32string decodeUtf8(std::string_view bytes);
void appendUtf8(std::string &out, char32_t cp);
std::string encodeUtf8(const std::u32string &text);

} // namespace ftc::text

#endif // FTC_PLUGIN_HOST_WORDPIECE_H
