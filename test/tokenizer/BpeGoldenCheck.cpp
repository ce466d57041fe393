//===- BpeGoldenCheck.cpp - Compare ftc's byte-level BPE with expected ids ===//
// SPDX-License-Identifier: Apache-2.0
//
// usage: ftc-bpe-golden <tokenizer dir> <variants dir> <corpus.jsonl>
//                       <expected.jsonl>
//
// Encodes every corpus line (a JSON string) with ftc::text::ByteLevelBpe
// and compares the ids with the expected line (written by bpe_expected.py
// from Hugging Face's tokenizers): {"ids": {variant: ids}}. The variant
// "default" is checked twice, loaded from <tokenizer dir>/tokenizer.json and
// from its vocab.json + merges.txt, and must also decode back to the text;
// any other variant is <variants dir>/<variant>/tokenizer.json. Prints
// every mismatch and a summary; exits 1 when anything differs.
//
//===----------------------------------------------------------------------===//
#include "ftc/plugin_host/ByteLevelBpe.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using ftc::text::ByteLevelBpe;
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

struct Named {
  std::string name;
  ByteLevelBpe bpe;
};

} // namespace

int main(int argc, char **argv) {
  if (argc != 5) {
    std::cerr << "usage: ftc-bpe-golden <tokenizer dir> <variants dir> "
                 "<corpus.jsonl> <expected.jsonl>\n";
    return 2;
  }
  try {
    std::string dir = argv[1], variantsDir = argv[2];
    std::map<std::string, std::vector<Named>> tokenizers;
    tokenizers["default"].push_back(
        {"tokenizer.json",
         ByteLevelBpe::fromTokenizerJson(dir + "/tokenizer.json")});
    tokenizers["default"].push_back(
        {"vocab.json + merges.txt",
         ByteLevelBpe::fromVocabAndMerges(dir + "/vocab.json",
                                          dir + "/merges.txt")});
    std::vector<std::string> corpus = readLines(argv[3]);
    std::vector<std::string> expected = readLines(argv[4]);
    if (corpus.size() != expected.size()) {
      std::cerr << "error: " << corpus.size() << " corpus lines but "
                << expected.size() << " expected lines\n";
      return 1;
    }
    size_t mismatches = 0, checks = 0;
    for (size_t i = 0; i < corpus.size(); ++i) {
      std::string text = json::parse(corpus[i]).get<std::string>();
      json e = json::parse(expected[i]);
      for (auto &[variant, want] : e.at("ids").items()) {
        std::vector<Named> &toks = tokenizers[variant];
        if (toks.empty())
          toks.push_back(
              {variant, ByteLevelBpe::fromTokenizerJson(
                            variantsDir + "/" + variant + "/tokenizer.json")});
        auto wantIds = want.get<std::vector<int32_t>>();
        for (const Named &t : toks) {
          std::vector<int32_t> got = t.bpe.encode(text);
          ++checks;
          if (got != wantIds) {
            ++mismatches;
            std::cout << "MISMATCH line " << (i + 1) << " (" << variant << ", "
                      << t.name << "): " << corpus[i] << "\n  expected "
                      << show(wantIds) << "\n  got      " << show(got)
                      << "\n  expected tokens " << e["tokens"].dump()
                      << "\n  got tokens      "
                      << showTokens(t.bpe.tokenize(text)) << "\n";
          }
          if (variant != "default")
            continue;
          ++checks;
          std::string back = t.bpe.decode(got);
          if (back != text) {
            ++mismatches;
            std::cout << "MISMATCH line " << (i + 1) << " (" << t.name
                      << ", decode): " << corpus[i] << "\n  decoded "
                      << json(back).dump(-1, ' ', false,
                                         json::error_handler_t::replace)
                      << "\n";
          }
        }
      }
    }
    std::cout << corpus.size() << " strings, " << checks << " checks, "
              << mismatches << " mismatches (Unicode tables "
              << ByteLevelBpe::unicodeVersion() << ")\n";
    return mismatches ? 1 : 0;
  } catch (const std::exception &e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
