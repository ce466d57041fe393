//===- CausalLm.cpp - Causal-language-model (GPT) training text -----------===//
// SPDX-License-Identifier: Apache-2.0
//
// Reads documents from text files (a file, a directory of .txt and .jsonl
// files, or a glob): in a .jsonl file each line is one document (the string
// field text_field); in any other file a document is a blank-line-separated
// paragraph, a line or the whole file, as `document` says. At open() each
// document is tokenized with the byte-level BPE (ftc::text::ByteLevelBpe),
// followed by <|endoftext|> (eos = true), and all of them are concatenated
// in file order and cut into blocks of block_size tokens; the tail is one
// more block, padded with <|endoftext|>.
//
// Features, all I32 [block_size]: input_ids, attention_mask (1 for real
// tokens) and labels, the next token of the block where there is one and
// -100 at the block's last real token and on padding: the targets Hugging
// Face's GPT2LMHeadModel shifts labels = input_ids into, so the model's loss
// (ignore_index -100) needs no shift. No label feature.
//
//===----------------------------------------------------------------------===//
#include "ftc/plugin.hpp"
#include "ftc/plugin_host/ByteLevelBpe.h"
#include "ftc/plugin_host/SpecTokenizer.h"
#include "ftc/plugin_host/TextSources.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace ftc::plugin;

namespace {

constexpr int32_t kIgnore = -100;

bool isBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r\f\v") == std::string_view::npos;
}

/// The token stream: documents' ids, each followed by EOS when asked, and
/// the 1-based source line where each document starts.
struct Stream {
  std::vector<int32_t> ids;
  std::vector<size_t> docStart; // index in ids of each document's first id
  std::vector<int64_t> docLine;
};

/// Cuts files into documents and appends their ids to a Stream.
struct Tokenizing {
  const ftc::text::ByteLevelBpe &bpe;
  std::optional<int32_t> eos; // appended after each document
  Stream &out;

  void document(std::string_view text, size_t line) {
    size_t before = out.ids.size();
    std::vector<int32_t> ids = bpe.encode(text);
    if (ids.empty())
      return;
    out.docStart.push_back(before);
    out.docLine.push_back(int64_t(line));
    out.ids.insert(out.ids.end(), ids.begin(), ids.end());
    if (eos)
      out.ids.push_back(*eos);
  }

  /// A text file: paragraphs (their lines joined by "\n"), lines or the
  /// whole file; a "\r" before "\n" is dropped.
  void text(const std::string &raw, const std::string &unit) {
    std::string data;
    data.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i)
      if (raw[i] != '\r' || i + 1 == raw.size() || raw[i + 1] != '\n')
        data += raw[i];
    if (unit == "file") {
      if (!isBlank(data))
        document(data, 1);
      return;
    }
    size_t pos = 0, line = 0, start = 0, startLine = 0;
    auto flush = [&](size_t end) {
      if (startLine)
        document(std::string_view(data).substr(start, end - start), startLine);
      startLine = 0;
    };
    while (pos <= data.size()) {
      ++line;
      size_t nl = std::min(data.find('\n', pos), data.size());
      std::string_view l(data.data() + pos, nl - pos);
      if (isBlank(l)) {
        flush(pos ? pos - 1 : 0);
      } else if (unit == "line") {
        document(l, line);
      } else if (!startLine) {
        start = pos;
        startLine = line;
      }
      pos = nl + 1;
    }
    flush(data.size());
  }

  /// JSON lines: the string field `field` of each non-blank line.
  void jsonl(const std::string &data, const std::string &path,
             const std::string &field, const char *key) {
    size_t pos = 0, line = 0;
    while (pos < data.size()) {
      ++line;
      size_t nl = std::min(data.find('\n', pos), data.size());
      std::string_view l(data.data() + pos, nl - pos);
      pos = nl + 1;
      if (isBlank(l))
        continue;
      auto bad = [&](const std::string &what) {
        return Error(FTC_STATUS_DATA_ERROR,
                     path + ":" + std::to_string(line) + ": " + what, key);
      };
      nlohmann::json obj;
      try {
        obj = nlohmann::json::parse(l);
      } catch (const nlohmann::json::exception &e) {
        std::string what = e.what(); // "[json.exception.parse_error.101] ..."
        size_t at = what.find("] ");
        throw bad("invalid JSON: " +
                  (at == std::string::npos ? what : what.substr(at + 2)));
      }
      if (!obj.is_object())
        throw bad(std::string("expected a JSON object, got ") +
                  obj.type_name());
      auto it = obj.find(field);
      if (it == obj.end())
        throw bad("missing field '" + field + "' (text_field)");
      if (!it->is_string())
        throw bad("field '" + field + "' is " + it->type_name() +
                  ", expected a string");
      document(it->get_ref<const std::string &>(), line);
    }
  }
};

class CausalLmDataset : public Dataset {
public:
  CausalLmDataset(Stream tokens, int64_t blockSize, int32_t pad)
      : s(std::move(tokens)), L(size_t(blockSize)), pad(pad) {
    addFeature("input_ids", FTC_DTYPE_I32, {blockSize});
    addFeature("attention_mask", FTC_DTYPE_I32, {blockSize});
    addFeature("labels", FTC_DTYPE_I32, {blockSize});
    setNumExamples(int64_t((s.ids.size() + L - 1) / L));
  }

  /// The data report's facts: a block's tokens are its input, its record
  /// the line where the document of its first token starts.
  bool describe(ftc_split_facts_t &out) override {
    facts.resize(size_t(numExamples()));
    for (size_t b = 0; b < facts.size(); ++b) {
      size_t begin = b * L, n = std::min(L, s.ids.size() - begin);
      size_t doc =
          size_t(std::upper_bound(s.docStart.begin(), s.docStart.end(), begin) -
                 s.docStart.begin()) -
          1;
      ftc_example_facts_t &f = facts[b];
      f.hash = f.normalized_hash = hashBytes(std::string_view(
          reinterpret_cast<const char *>(&s.ids[begin]), n * sizeof(int32_t)));
      f.record = s.docLine[doc];
      f.length = int64_t(n);
      f.unknown = 0; // byte-level: every text has a spelling
    }
    out.source = source.c_str();
    out.record_unit = "line";
    out.length_unit = "tokens";
    out.max_length = 0; // packing truncates nothing
    out.examples = facts.data();
    return true;
  }

  void fill(const int64_t *indices, size_t count,
            void *const *buffers) override {
    for (size_t i = 0; i < count; ++i) {
      int32_t *row = static_cast<int32_t *>(buffers[0]) + i * L;
      int32_t *mask = static_cast<int32_t *>(buffers[1]) + i * L;
      int32_t *labels = static_cast<int32_t *>(buffers[2]) + i * L;
      size_t begin = size_t(indices[i]) * L;
      size_t n = std::min(L, s.ids.size() - begin);
      std::copy(s.ids.begin() + begin, s.ids.begin() + begin + n, row);
      std::fill(row + n, row + L, pad);
      std::fill(mask, mask + n, 1);
      std::fill(mask + n, mask + L, 0);
      std::copy(row + 1, row + n, labels);
      std::fill(labels + n - 1, labels + L, kIgnore);
    }
  }

  std::string source; // the spec's train/eval value, for the report

private:
  Stream s;
  size_t L;
  int32_t pad;
  std::vector<ftc_example_facts_t> facts;
};

struct CausalLm {
  static constexpr const char *kName = "causal-lm";
  static constexpr const char *kVersion = "1.0.0";
  static constexpr const char *kDescription =
      "plain text or JSON lines for GPT-style causal-LM training: byte-level "
      "BPE, documents joined by <|endoftext|> and packed into blocks";
  static constexpr ftc_key_decl_t kKeys[] = {
      stringKey("tokenizer", nullptr, nullptr,
                "a byte-level BPE tokenizer.json, or a directory with "
                "tokenizer.json or vocab.json + merges.txt; default: "
                "model.checkpoint"),
      intKey("block_size", "128", 2, 65536,
             "tokens per example: the token stream is cut into blocks of "
             "this many, the last one padded"),
      boolKey("eos", "true",
              "append <|endoftext|> after each document, so that the model "
              "sees where one ends"),
      stringKey("document", "\"paragraph\"", "paragraph|line|file",
                "what one document is in a text (non-.jsonl) file: a "
                "blank-line-separated paragraph (its lines joined by "
                "newlines), a non-blank line, or the whole file"),
      stringKey("text_field", "\"text\"", nullptr,
                "the field of a .jsonl line that holds its document"),
  };

  static std::unique_ptr<Dataset> open(const Config &config,
                                       const std::string &split) {
    const char *key = splitKey(split);
    std::optional<std::string> source = config.findString(key);
    if (!source || source->empty())
      throw Error(FTC_STATUS_NOT_FOUND,
                  std::string("the causal-lm dataset needs '") + key +
                      "': a text or .jsonl file, a directory of them or a "
                      "glob",
                  key);
    int64_t blockSize = config.getInt("block_size");
    if (blockSize < 2 || blockSize > 65536)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "block_size = " + std::to_string(blockSize) +
                      " is outside [2, 65536]",
                  "block_size");
    std::string unit = config.getString("document");
    if (unit != "paragraph" && unit != "line" && unit != "file")
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "document = '" + unit +
                      "' is not one of paragraph, line, file",
                  "document");
    std::string field = config.getString("text_field");

    ftc::text::ByteLevelBpe bpe = loadSpecByteLevelBpe(config, "causal-lm");
    std::optional<int32_t> eos = bpe.eosId();
    if (!eos) // also the padding token
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  std::string("the tokenizer has no ") +
                      ftc::text::ByteLevelBpe::kEndOfText,
                  "tokenizer");

    Stream stream;
    Tokenizing t{bpe, config.getBool("eos") ? eos : std::nullopt, stream};
    for (const std::string &file :
         expandSource(*source, key, {".txt", ".jsonl"})) {
      std::string data = readSourceFile(file, key);
      if (std::filesystem::path(file).extension() == ".jsonl")
        t.jsonl(data, file, field, key);
      else
        t.text(data, unit);
    }
    if (stream.ids.empty())
      throw Error(FTC_STATUS_DATA_ERROR, *source + ": holds no text", key);
    auto ds =
        std::make_unique<CausalLmDataset>(std::move(stream), blockSize, *eos);
    ds->source = *source;
    return ds;
  }
};

} // namespace

FTC_DEFINE_DATASET_PLUGIN(CausalLm)
