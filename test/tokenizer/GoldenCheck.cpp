//===- GoldenCheck.cpp - Compare ftc's WordPiece with expected ids --------===//
// SPDX-License-Identifier: Apache-2.0
//
// usage: ftc-tokenizer-golden <model dir> <corpus.jsonl> <expected.jsonl>
//
// Tokenizes every corpus line (a JSON string, or {"text", "pair",
// "max_length"}) with ftc::text::WordPiece loaded twice, from
// <model dir>/vocab.txt and from <model dir>/tokenizer.json, and compares
// ids and token types with the expected line (written by expected.mjs from
// Hugging Face's tokenizer): untruncated with special tokens, and, when the
// case has max_length, truncated (longest_first) and padded. Prints every
// mismatch and a summary; exits 1 when anything differs.
//
//===----------------------------------------------------------------------===//
#include "ftc/plugin_host/WordPiece.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

using ftc::text::Encoding;
using ftc::text::WordPiece;
using nlohmann::json;

namespace {

std::vector<std::string> readLines(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error(path + ": cannot open");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty())
      lines.push_back(line);
  return lines;
}

std::string show(const std::vector<int32_t> &v) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < v.size(); ++i)
    s << (i ? "," : "") << v[i];
  return s.str() + "]";
}

std::string showTokens(const std::vector<std::string> &v) {
  return json(v).dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 4) {
    std::cerr << "usage: ftc-tokenizer-golden <model dir> <corpus.jsonl> "
                 "<expected.jsonl>\n";
    return 2;
  }
  try {
    std::string dir = argv[1];
    struct Named {
      const char *name;
      WordPiece wp;
    };
    std::vector<Named> tokenizers = {
        {"vocab.txt", WordPiece::fromVocabFile(dir + "/vocab.txt")},
        {"tokenizer.json",
         WordPiece::fromTokenizerJson(dir + "/tokenizer.json")},
    };
    std::vector<std::string> corpus = readLines(argv[2]);
    std::vector<std::string> expected = readLines(argv[3]);
    if (corpus.size() != expected.size()) {
      std::cerr << "error: " << corpus.size() << " corpus lines but "
                << expected.size() << " expected lines\n";
      return 1;
    }
    size_t mismatches = 0, checks = 0;
    for (size_t i = 0; i < corpus.size(); ++i) {
      json c = json::parse(corpus[i]);
      json e = json::parse(expected[i]);
      std::string text = c.is_string() ? c.get<std::string>()
                                       : c.at("text").get<std::string>();
      std::optional<std::string> pair;
      if (c.is_object() && c.contains("pair"))
        pair = c["pair"].get<std::string>();
      size_t maxLength = c.is_object() && c.contains("max_length")
                             ? c["max_length"].get<size_t>()
                             : 0;
      for (const Named &t : tokenizers) {
        auto report = [&](const char *what, const std::vector<int32_t> &want,
                          const std::vector<int32_t> &got) {
          ++mismatches;
          std::cout << "MISMATCH corpus.jsonl:" << (i + 1) << " (" << t.name
                    << ", " << what << "): " << corpus[i] << "\n  expected "
                    << show(want) << "\n  got      " << show(got)
                    << "\n  expected tokens " << e["tokens"].dump()
                    << "\n  got tokens      " << showTokens(t.wp.tokenize(text))
                    << "\n";
        };
        Encoding got = t.wp.encode(text, pair);
        ++checks;
        auto wantIds = e.at("ids").get<std::vector<int32_t>>();
        auto wantTypes = e.at("type_ids").get<std::vector<int32_t>>();
        if (got.ids != wantIds)
          report("ids", wantIds, got.ids);
        else if (got.typeIds != wantTypes)
          report("token_type_ids", wantTypes, got.typeIds);
        if (maxLength) {
          const json &tr = e.at("trunc");
          Encoding g = t.wp.encode(text, pair, maxLength, true);
          ++checks;
          auto ids = tr.at("ids").get<std::vector<int32_t>>();
          auto types = tr.at("type_ids").get<std::vector<int32_t>>();
          auto mask = tr.at("attention_mask").get<std::vector<int32_t>>();
          if (g.ids != ids)
            report("truncated ids", ids, g.ids);
          else if (g.typeIds != types)
            report("truncated token_type_ids", types, g.typeIds);
          else if (g.attentionMask != mask)
            report("truncated attention_mask", mask, g.attentionMask);
        }
      }
    }
    std::cout << corpus.size() << " strings, " << checks << " checks, "
              << mismatches << " mismatches (Unicode tables "
              << WordPiece::unicodeVersion() << ")\n";
    return mismatches ? 1 : 0;
  } catch (const std::exception &e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
