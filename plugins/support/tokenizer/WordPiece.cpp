//===- WordPiece.cpp - BERT WordPiece tokenizer ---------------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// Follows transformers' BasicTokenizer / WordpieceTokenizer step by step;
// the character classes come from UnicodeTables.inc, generated from
// Python's unicodedata by gen_unicode_tables.py.
//
//===----------------------------------------------------------------------===//
#include "ftc/plugin_host/WordPiece.h"
#include "ReadFile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace ftc::text {

namespace {

#include "UnicodeTables.inc"

enum : uint8_t {
  kPunct = 1,
  kControl = 2,
  kWhitespace = 4,
  kMn = 8,
  // 16 and 32 (case-ignorable, cased) are in the tables for CPython's
  // Final_Sigma rule, which lower-casing no longer applies (it follows
  // Hugging Face's tokenizers); unused until the tables are regenerated.
};

uint8_t flags(char32_t cp) {
  if (cp >= 0x110000)
    return kControl;
  return kFlagStage2[(size_t(kFlagStage1[cp >> kBlockShift]) << kBlockShift) |
                     (cp & ((1u << kBlockShift) - 1))];
}

uint8_t combiningClass(char32_t cp) {
  if (cp >= 0x110000)
    return 0;
  return kCccStage2[(size_t(kCccStage1[cp >> kBlockShift]) << kBlockShift) |
                    (cp & ((1u << kBlockShift) - 1))];
}

template <size_t N>
const uint32_t *findKey(const uint32_t (&keys)[N], char32_t cp) {
  const uint32_t *it = std::lower_bound(keys, keys + N, uint32_t(cp));
  return it != keys + N && *it == cp ? it : nullptr;
}

bool isChineseChar(char32_t cp) {
  // transformers' _is_chinese_char: the CJK Unified Ideographs blocks.
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

/// Lower-cases code point by code point, as Hugging Face's `tokenizers`
/// (the fast tokenizer every transformers pipeline uses) does: no
/// context-dependent rule, so a word-final capital sigma becomes σ, not the
/// ς of Python's str.lower() in the slow BertTokenizer.
std::u32string lower(const std::u32string &s) {
  std::u32string out;
  out.reserve(s.size());
  for (char32_t c : s) {
    if (const uint32_t *k = findKey(kLowerKeys, c)) {
      out.push_back(kLowerValues[k - kLowerKeys]);
      continue;
    }
    bool multi = false;
    for (const LowerMulti &m : kLowerMulti)
      if (m.key == c) {
        out.append(m.cps, m.cps + m.len);
        multi = true;
      }
    if (!multi)
      out.push_back(c);
  }
  return out;
}

/// unicodedata.normalize("NFD", s) with the nonspacing marks (Mn) removed:
/// transformers' _run_strip_accents.
std::u32string stripAccents(const std::u32string &s) {
  std::u32string d;
  d.reserve(s.size());
  for (char32_t c : s) {
    if (c >= 0xAC00 && c <= 0xD7A3) { // Hangul syllables
      uint32_t idx = c - 0xAC00;
      d.push_back(0x1100 + idx / 588);
      d.push_back(0x1161 + (idx % 588) / 28);
      if (idx % 28)
        d.push_back(0x11A7 + idx % 28);
    } else if (const uint32_t *k = findKey(kNfdKeys, c)) {
      uint32_t ref = kNfdRefs[k - kNfdKeys];
      d.append(kNfdPool + (ref >> 8), kNfdPool + (ref >> 8) + (ref & 0xFF));
    } else {
      d.push_back(c);
    }
  }
  // Canonical ordering: stable sort of each run of non-starters by class.
  for (size_t i = 0; i < d.size();) {
    if (!combiningClass(d[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < d.size() && combiningClass(d[j]))
      ++j;
    std::stable_sort(d.begin() + i, d.begin() + j, [](char32_t a, char32_t b) {
      return combiningClass(a) < combiningClass(b);
    });
    i = j;
  }
  std::u32string out;
  out.reserve(d.size());
  for (char32_t c : d)
    if (!(flags(c) & kMn))
      out.push_back(c);
  return out;
}

using detail::readFile;

bool validUtf8(std::string_view s) { return encodeUtf8(decodeUtf8(s)) == s; }

} // namespace

//===----------------------------------------------------------------------===//
// UTF-8
//===----------------------------------------------------------------------===//

std::u32string decodeUtf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  auto cont = [&](size_t i, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return i < s.size() && uint8_t(s[i]) >= lo && uint8_t(s[i]) <= hi;
  };
  size_t i = 0;
  while (i < s.size()) {
    unsigned b = uint8_t(s[i]);
    if (b < 0x80) {
      out.push_back(b);
      ++i;
    } else if (b >= 0xC2 && b <= 0xDF) {
      if (!cont(i + 1)) {
        out.push_back(0xFFFD);
        ++i;
        continue;
      }
      out.push_back(((b & 0x1F) << 6) | (uint8_t(s[i + 1]) & 0x3F));
      i += 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      unsigned lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
      // Replace the maximal valid prefix (W3C / Python "replace").
      if (!cont(i + 1, lo, hi)) {
        out.push_back(0xFFFD);
        ++i;
      } else if (!cont(i + 2)) {
        out.push_back(0xFFFD);
        i += 2;
      } else {
        out.push_back(((b & 0x0F) << 12) | ((uint8_t(s[i + 1]) & 0x3F) << 6) |
                      (uint8_t(s[i + 2]) & 0x3F));
        i += 3;
      }
    } else if (b >= 0xF0 && b <= 0xF4) {
      unsigned lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
      if (!cont(i + 1, lo, hi)) {
        out.push_back(0xFFFD);
        ++i;
      } else if (!cont(i + 2)) {
        out.push_back(0xFFFD);
        i += 2;
      } else if (!cont(i + 3)) {
        out.push_back(0xFFFD);
        i += 3;
      } else {
        out.push_back(((b & 0x07) << 18) | ((uint8_t(s[i + 1]) & 0x3F) << 12) |
                      ((uint8_t(s[i + 2]) & 0x3F) << 6) |
                      (uint8_t(s[i + 3]) & 0x3F));
        i += 4;
      }
    } else {
      out.push_back(0xFFFD);
      ++i;
    }
  }
  return out;
}

void appendUtf8(std::string &out, char32_t c) {
  if (c < 0x80) {
    out.push_back(char(c));
  } else if (c < 0x800) {
    out.push_back(char(0xC0 | (c >> 6)));
    out.push_back(char(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(char(0xE0 | (c >> 12)));
    out.push_back(char(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(char(0x80 | (c & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (c >> 18)));
    out.push_back(char(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(char(0x80 | (c & 0x3F)));
  }
}

std::string encodeUtf8(const std::u32string &text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text)
    appendUtf8(out, c);
  return out;
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

const char *WordPiece::unicodeVersion() { return kUnicodeVersion; }

WordPiece WordPiece::fromTokens(const std::vector<std::string> &tokens,
                                WordPieceOptions options) {
  WordPiece wp;
  wp.opts = std::move(options);
  wp.tokens = tokens;
  for (size_t i = 0; i < tokens.size(); ++i)
    wp.vocab[tokens[i]] = int32_t(i); // a later duplicate wins
  wp.finish("vocabulary");
  return wp;
}

WordPiece WordPiece::fromVocabFile(const std::string &path,
                                   WordPieceOptions options) {
  std::string data = readFile(path);
  std::vector<std::string> tokens;
  size_t pos = 0, line = 0;
  if (data.size() >= 3 && data.compare(0, 3, "\xEF\xBB\xBF") == 0)
    pos = 3;
  while (pos < data.size()) {
    ++line;
    size_t nl = data.find('\n', pos);
    size_t end = nl == std::string::npos ? data.size() : nl;
    std::string tok = data.substr(pos, end - pos);
    if (!tok.empty() && tok.back() == '\r')
      tok.pop_back();
    std::string where = path + ":" + std::to_string(line) + ": ";
    if (tok.empty())
      throw std::runtime_error(where + "empty token (every line of a "
                                       "vocab.txt is one token; its id is "
                                       "the line number - 1)");
    if (!validUtf8(tok))
      throw std::runtime_error(where + "token is not valid UTF-8");
    tokens.push_back(std::move(tok));
    pos = nl == std::string::npos ? data.size() : nl + 1;
  }
  if (tokens.empty())
    throw std::runtime_error(path + ": empty vocabulary");
  if (tokens.size() > size_t(INT32_MAX))
    throw std::runtime_error(path + ": vocabulary too large");
  WordPiece wp;
  wp.opts = std::move(options);
  wp.tokens = std::move(tokens);
  for (size_t i = 0; i < wp.tokens.size(); ++i)
    wp.vocab[wp.tokens[i]] = int32_t(i);
  wp.finish(path);
  return wp;
}

WordPiece WordPiece::fromTokenizerJson(const std::string &path) {
  using nlohmann::json;
  json j;
  try {
    j = json::parse(readFile(path));
  } catch (const json::exception &e) {
    throw std::runtime_error(path + ": invalid JSON: " + e.what());
  }
  auto fail = [&](const std::string &what) -> std::runtime_error {
    return std::runtime_error(path + ": " + what);
  };
  try {
    WordPiece wp;
    const json &model = j.at("model");
    if (model.value("type", std::string("WordPiece")) != "WordPiece")
      throw fail("model.type is '" + model["type"].get<std::string>() +
                 "'; only WordPiece is supported");
    if (model.contains("unk_token") && model["unk_token"].is_string())
      wp.opts.unkToken = model["unk_token"].get<std::string>();
    if (model.contains("continuing_subword_prefix") &&
        model["continuing_subword_prefix"].is_string())
      wp.opts.continuingSubwordPrefix =
          model["continuing_subword_prefix"].get<std::string>();
    if (model.contains("max_input_chars_per_word") &&
        model["max_input_chars_per_word"].is_number_unsigned())
      wp.opts.maxInputCharsPerWord =
          model["max_input_chars_per_word"].get<size_t>();
    const json &vocab = model.at("vocab");
    if (!vocab.is_object())
      throw fail("model.vocab is not an object");
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
          it.value().get<int64_t>() >= INT32_MAX)
        throw fail("model.vocab['" + it.key() + "'] is not a valid id");
      auto id = it.value().get<int32_t>();
      wp.vocab[it.key()] = id;
      if (size_t(id) >= wp.tokens.size())
        wp.tokens.resize(size_t(id) + 1);
      wp.tokens[size_t(id)] = it.key();
    }

    const json &norm = j.contains("normalizer") ? j["normalizer"] : json();
    if (norm.is_null()) {
      wp.opts.cleanText = wp.opts.handleChineseChars = wp.opts.lowercase =
          false;
      wp.opts.stripAccents = false;
    } else if (norm.value("type", std::string()) == "BertNormalizer") {
      wp.opts.cleanText = norm.value("clean_text", true);
      wp.opts.handleChineseChars = norm.value("handle_chinese_chars", true);
      wp.opts.lowercase = norm.value("lowercase", true);
      if (norm.contains("strip_accents") && norm["strip_accents"].is_boolean())
        wp.opts.stripAccents = norm["strip_accents"].get<bool>();
    } else {
      throw fail("normalizer type '" + norm.value("type", std::string("?")) +
                 "' is not supported (expected BertNormalizer)");
    }
    if (j.contains("pre_tokenizer") && !j["pre_tokenizer"].is_null() &&
        j["pre_tokenizer"].value("type", std::string()) != "BertPreTokenizer")
      throw fail("pre_tokenizer type '" +
                 j["pre_tokenizer"].value("type", std::string("?")) +
                 "' is not supported (expected BertPreTokenizer)");

    if (j.contains("post_processor") && j["post_processor"].is_object()) {
      const json &pp = j["post_processor"];
      std::string type = pp.value("type", std::string());
      if (type == "BertProcessing") {
        wp.opts.clsToken = pp.at("cls").at(0).get<std::string>();
        wp.opts.sepToken = pp.at("sep").at(0).get<std::string>();
      } else if (type == "TemplateProcessing" && pp.contains("single") &&
                 pp["single"].is_array() && !pp["single"].empty()) {
        const json &first = pp["single"].front(), &last = pp["single"].back();
        if (first.contains("SpecialToken"))
          wp.opts.clsToken = first["SpecialToken"].at("id").get<std::string>();
        if (last.contains("SpecialToken"))
          wp.opts.sepToken = last["SpecialToken"].at("id").get<std::string>();
      }
    }
    if (j.contains("padding") && j["padding"].is_object() &&
        j["padding"].contains("pad_token"))
      wp.opts.padToken = j["padding"]["pad_token"].get<std::string>();

    wp.finish(path);
    if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
      wp.specials.clear();
      for (const json &t : j["added_tokens"]) {
        auto content = t.at("content").get<std::string>();
        auto id = t.at("id").get<int32_t>();
        if (!content.empty())
          wp.specials.emplace_back(decodeUtf8(content), id);
      }
    }
    return wp;
  } catch (const nlohmann::json::exception &e) {
    throw fail(std::string("unexpected tokenizer.json layout: ") + e.what());
  }
}

WordPiece WordPiece::fromPath(const std::string &path,
                              const WordPieceOptions &options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    fs::path dir(path);
    if (fs::exists(dir / "tokenizer.json", ec))
      return fromTokenizerJson((dir / "tokenizer.json").string());
    if (fs::exists(dir / "vocab.txt", ec))
      return fromVocabFile((dir / "vocab.txt").string(), options);
    throw std::runtime_error(path +
                             ": directory has no tokenizer.json or vocab.txt");
  }
  if (!fs::exists(path, ec))
    throw std::runtime_error(path + ": no such file or directory");
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0)
    return fromTokenizerJson(path);
  return fromVocabFile(path, options);
}

void WordPiece::finish(const std::string &origin) {
  unk = tokenId(opts.unkToken);
  if (unk < 0)
    throw std::runtime_error(origin +
                             ": the vocabulary has no unknown token '" +
                             opts.unkToken + "'");
  cls = tokenId(opts.clsToken);
  sep = tokenId(opts.sepToken);
  pad = tokenId(opts.padToken);
  specials.clear();
  for (const std::string *s : {&opts.unkToken, &opts.sepToken, &opts.padToken,
                               &opts.clsToken, &opts.maskToken}) {
    int32_t id = tokenId(*s);
    if (id >= 0 && !s->empty())
      specials.emplace_back(decodeUtf8(*s), id);
  }
  maxTokenChars = 0;
  for (const auto &kv : vocab)
    maxTokenChars = std::max(maxTokenChars, decodeUtf8(kv.first).size());
}

//===----------------------------------------------------------------------===//
// Tokenizing
//===----------------------------------------------------------------------===//

int32_t WordPiece::tokenId(std::string_view token) const {
  auto it = vocab.find(std::string(token));
  return it == vocab.end() ? -1 : it->second;
}

const std::string &WordPiece::token(int32_t id) const {
  if (id < 0 || size_t(id) >= tokens.size())
    throw std::out_of_range("token id " + std::to_string(id) +
                            " is outside the vocabulary");
  return tokens[size_t(id)];
}

void WordPiece::splitSpecial(
    const std::u32string &text,
    std::vector<std::pair<std::u32string, int32_t>> &out) const {
  size_t start = 0, i = 0;
  while (i < text.size()) {
    const std::pair<std::u32string, int32_t> *best = nullptr;
    for (const auto &s : specials)
      if (text.compare(i, s.first.size(), s.first) == 0 &&
          (!best || s.first.size() > best->first.size()))
        best = &s;
    if (!best) {
      ++i;
      continue;
    }
    if (i > start)
      out.emplace_back(text.substr(start, i - start), -1);
    out.emplace_back(best->first, best->second);
    i += best->first.size();
    start = i;
  }
  if (start < text.size())
    out.emplace_back(text.substr(start), -1);
}

void WordPiece::basicWords(const std::u32string &in,
                           std::vector<std::u32string> &words) const {
  std::u32string text;
  text.reserve(in.size() + 8);
  for (char32_t c : in) {
    if (opts.cleanText) {
      if (c == 0 || c == 0xFFFD || (flags(c) & kControl))
        continue;
      if (flags(c) & kWhitespace)
        c = U' ';
    }
    if (opts.handleChineseChars && isChineseChar(c)) {
      text.push_back(U' ');
      text.push_back(c);
      text.push_back(U' ');
    } else {
      text.push_back(c);
    }
  }
  bool strip = opts.stripAccents.value_or(opts.lowercase);
  if (opts.lowercase)
    text = lower(text);
  if (strip)
    text = stripAccents(text);

  std::u32string word;
  for (char32_t c : text) {
    uint8_t f = flags(c);
    if (f & kWhitespace) {
      if (!word.empty())
        words.push_back(std::move(word));
      word.clear();
    } else if (f & kPunct) {
      if (!word.empty())
        words.push_back(std::move(word));
      word.clear();
      words.emplace_back(1, c);
    } else {
      word.push_back(c);
    }
  }
  if (!word.empty())
    words.push_back(std::move(word));
}

void WordPiece::wordPiece(const std::u32string &word, std::vector<int32_t> &ids,
                          std::vector<std::string> *pieces) const {
  auto emitUnk = [&] {
    ids.push_back(unk);
    if (pieces)
      pieces->push_back(opts.unkToken);
  };
  if (word.size() > opts.maxInputCharsPerWord)
    return emitUnk();
  std::string utf8;
  std::vector<size_t> off;
  off.reserve(word.size() + 1);
  for (char32_t c : word) {
    off.push_back(utf8.size());
    appendUtf8(utf8, c);
  }
  off.push_back(utf8.size());

  size_t firstId = ids.size(), firstPiece = pieces ? pieces->size() : 0;
  std::string key;
  size_t start = 0;
  while (start < word.size()) {
    size_t end = std::min(word.size(), start + maxTokenChars);
    int32_t found = -1;
    for (; end > start; --end) {
      key.clear();
      if (start > 0)
        key = opts.continuingSubwordPrefix;
      key.append(utf8, off[start], off[end] - off[start]);
      auto it = vocab.find(key);
      if (it != vocab.end()) {
        found = it->second;
        break;
      }
    }
    if (found < 0) {
      ids.resize(firstId);
      if (pieces)
        pieces->resize(firstPiece);
      return emitUnk();
    }
    ids.push_back(found);
    if (pieces)
      pieces->push_back(key);
    start = end;
  }
}

void WordPiece::run(std::string_view text, std::vector<int32_t> &ids,
                    std::vector<std::string> *pieces) const {
  std::vector<std::pair<std::u32string, int32_t>> runs;
  splitSpecial(decodeUtf8(text), runs);
  std::vector<std::u32string> words;
  for (const auto &r : runs) {
    if (r.second >= 0) {
      ids.push_back(r.second);
      if (pieces)
        pieces->push_back(encodeUtf8(r.first));
      continue;
    }
    words.clear();
    basicWords(r.first, words);
    for (const std::u32string &w : words)
      wordPiece(w, ids, pieces);
  }
}

std::vector<std::string> WordPiece::basicTokenize(std::string_view text) const {
  std::vector<std::pair<std::u32string, int32_t>> runs;
  splitSpecial(decodeUtf8(text), runs);
  std::vector<std::string> out;
  std::vector<std::u32string> words;
  for (const auto &r : runs) {
    if (r.second >= 0) {
      out.push_back(encodeUtf8(r.first));
      continue;
    }
    words.clear();
    basicWords(r.first, words);
    for (const std::u32string &w : words)
      out.push_back(encodeUtf8(w));
  }
  return out;
}

std::vector<std::string> WordPiece::tokenize(std::string_view text) const {
  std::vector<int32_t> ids;
  std::vector<std::string> pieces;
  run(text, ids, &pieces);
  return pieces;
}

std::vector<int32_t> WordPiece::encodeIds(std::string_view text) const {
  std::vector<int32_t> ids;
  run(text, ids, nullptr);
  return ids;
}

Encoding WordPiece::encode(std::string_view text,
                           std::optional<std::string_view> pair,
                           size_t maxLength, bool padToMax) const {
  if (cls < 0 || sep < 0)
    throw std::invalid_argument("the vocabulary lacks '" + opts.clsToken +
                                "' or '" + opts.sepToken + "'");
  std::vector<int32_t> a = encodeIds(text), b;
  if (pair)
    b = encodeIds(*pair);
  size_t numSpecial = pair ? 3 : 2;
  size_t fullLength = a.size() + b.size() + numSpecial;
  size_t unknownTokens = size_t(std::count(a.begin(), a.end(), unk) +
                                std::count(b.begin(), b.end(), unk));
  if (maxLength) {
    if (maxLength < numSpecial)
      throw std::invalid_argument(
          "max_length " + std::to_string(maxLength) + " cannot hold the " +
          std::to_string(numSpecial) + " special tokens");
    size_t budget = maxLength - numSpecial;
    if (!pair) {
      a.resize(std::min(a.size(), budget));
    } else if (a.size() + b.size() > budget) {
      // Hugging Face tokenizers' longest_first (utils/truncation.rs): the
      // shorter input keeps its length when the longer one can absorb the
      // cut, else the budget is halved, the odd token going to the longer
      // (the second on a tie).
      bool swapped = a.size() > b.size();
      size_t shorter = std::min(a.size(), b.size());
      size_t longer =
          shorter > budget ? shorter : std::max(shorter, budget - shorter);
      if (shorter + longer > budget) {
        shorter = budget / 2;
        longer = shorter + budget % 2;
      }
      a.resize(std::min(a.size(), swapped ? longer : shorter));
      b.resize(std::min(b.size(), swapped ? shorter : longer));
    }
  }
  Encoding e;
  e.fullLength = fullLength;
  e.unknownTokens = unknownTokens;
  size_t n = a.size() + b.size() + numSpecial;
  size_t total = padToMax && maxLength > n ? maxLength : n;
  e.ids.reserve(total);
  e.ids.push_back(cls);
  e.ids.insert(e.ids.end(), a.begin(), a.end());
  e.ids.push_back(sep);
  e.typeIds.assign(e.ids.size(), 0);
  if (pair) {
    e.ids.insert(e.ids.end(), b.begin(), b.end());
    e.ids.push_back(sep);
    e.typeIds.resize(e.ids.size(), 1);
  }
  e.attentionMask.assign(e.ids.size(), 1);
  if (total > n) {
    if (pad < 0)
      throw std::invalid_argument("the vocabulary has no padding token '" +
                                  opts.padToken + "'");
    e.ids.resize(total, pad);
    e.typeIds.resize(total, 0);
    e.attentionMask.resize(total, 0);
  }
  return e;
}

} // namespace ftc::text
