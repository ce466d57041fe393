//===- ByteLevelBpe.h - GPT-2's byte-level BPE tokenizer --------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// A tokenizer that gives the ids Hugging Face's `tokenizers` gives for a
// byte-level BPE (GPT-2's, and ByteLevelBPETokenizer's): added tokens such
// as <|endoftext|> are kept whole where they appear in the raw text; the
// rest is split by GPT-2's pre-tokenizer regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// (matched by hand), each piece's UTF-8 bytes become byte symbols, and the
// merges are applied lowest rank first (leftmost first among equal ranks),
// exactly as tokenizers' BPE model does.
//
// Input is UTF-8. Byte-level BPE loses nothing: an invalid byte counts as a
// punctuation-like character for the regex and is encoded as its byte, so
// decode(encode(text)) == text for any bytes. Plain C++17, no dependencies
// beyond nlohmann_json. Thread-safe for concurrent const use (no cache).
//
//===----------------------------------------------------------------------===//
#ifndef FTC_PLUGIN_HOST_BYTELEVELBPE_H
#define FTC_PLUGIN_HOST_BYTELEVELBPE_H

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ftc::text {

class ByteLevelBpe {
public:
  /// Reads a Hugging Face tokenizer.json whose model is "BPE" (merges as
  /// "a b" strings or [a, b] pairs) with the ByteLevel pre-tokenizer
  /// (add_prefix_space and use_regex honoured), no normalizer and a
  /// ByteLevel or no decoder; added_tokens are matched in the raw text
  /// (lstrip/rstrip honoured). Anything else that changes the ids (dropout,
  /// byte_fallback, subword prefixes, a normalizer, single_word tokens, ...)
  /// is refused. The post-processor, truncation and padding are ignored:
  /// encode() is tokenizers' encode(text, add_special_tokens=False) without
  /// truncation or padding. Throws std::runtime_error naming the file.
  static ByteLevelBpe fromTokenizerJson(const std::string &path);
  /// GPT-2's original files: vocab.json ({token: id}) and merges.txt (one
  /// "a b" merge a line, highest priority first; "#version" lines are
  /// skipped). No prefix space; <|endoftext|>, when in the vocabulary, is
  /// kept whole in the raw text (GPT2Tokenizer's bos/eos/unk). Throws
  /// std::runtime_error naming the file and line.
  static ByteLevelBpe fromVocabAndMerges(const std::string &vocabJson,
                                         const std::string &mergesTxt);
  /// A directory: its tokenizer.json, else its vocab.json + merges.txt. A
  /// file named vocab.json or merges.txt: that pair; any other file: a
  /// tokenizer.json.
  static ByteLevelBpe fromPath(const std::string &path);
  /// Whether fromPath(path) is the loader to use: a tokenizer.json whose
  /// model is BPE, or GPT-2's vocab.json + merges.txt. False for WordPiece
  /// files and for what cannot be read (the other loader reports it).
  static bool recognizes(const std::string &path);

  /// The ids of `text`; no special tokens are added (GPT-2 adds none).
  std::vector<int32_t> encode(std::string_view text) const;
  /// The tokens of `text` (byte-level strings such as "Ġthe").
  std::vector<std::string> tokenize(std::string_view text) const;
  /// The pieces the pre-tokenizer cuts `text` into (raw UTF-8, before the
  /// byte mapping), added tokens included.
  std::vector<std::string> preTokenize(std::string_view text) const;
  /// The bytes of the text back: added tokens as written, other tokens
  /// through the byte-level table. Throws std::out_of_range on an unknown id.
  std::string decode(const std::vector<int32_t> &ids) const;

  std::optional<int32_t> tokenToId(std::string_view token) const;
  /// The token of `id`; throws std::out_of_range.
  const std::string &idToToken(int32_t id) const;
  /// The number of ids, the largest id + 1 (the embedding rows a model
  /// needs).
  size_t vocabSize() const { return tokens.size(); }
  /// The id of <|endoftext|> (GPT-2's bos, eos and unk), if any.
  std::optional<int32_t> eosId() const { return tokenToId(kEndOfText); }
  bool addPrefixSpace() const { return prefixSpace; }
  bool useRegex() const { return regex; }
  /// The Unicode version of the letter/number/whitespace tables.
  static const char *unicodeVersion();

  static constexpr const char *kEndOfText = "<|endoftext|>";

private:
  struct Added {
    std::string content;
    int32_t id;
    bool lstrip, rstrip, normalized;
  };
  struct Merge {
    int32_t rank, id;
  };
  struct Piece {
    std::string_view text;
    int32_t id; // an added token's id, or -1 for text to tokenize
  };

  ByteLevelBpe() = default;
  void setToken(const std::string &token, int32_t id);
  /// Merges a + b with priority `rank` (lower first).
  void addMerge(const std::string &a, const std::string &b, int32_t rank,
                const std::string &where);
  void finish(const std::string &origin);
  void splitAdded(std::string_view text, std::vector<Piece> &out) const;
  void splitWords(std::string_view text,
                  std::vector<std::string_view> &words) const;
  void bpe(std::string_view word, std::vector<int32_t> &ids) const;
  template <typename F> void run(std::string_view text, F &&emit) const;

  std::unordered_map<std::string, int32_t> vocab; // model and added tokens
  std::vector<std::string> tokens;                // by id; "" for holes
  std::unordered_map<uint64_t, Merge> merges;     // (left << 32 | right)
  std::vector<Added> added;
  std::unordered_map<int32_t, std::string> addedById;
  std::array<int32_t, 256> byteIds{}; // the symbol of each byte, or -1
  std::optional<int32_t> unk;
  bool fuseUnk = false, ignoreMerges = false;
  bool prefixSpace = false, regex = true;
};

} // namespace ftc::text

#endif // FTC_PLUGIN_HOST_BYTELEVELBPE_H
