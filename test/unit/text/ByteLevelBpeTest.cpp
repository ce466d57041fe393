//===- ByteLevelBpeTest.cpp - The byte-level BPE tokenizer, small cases ---===//
// SPDX-License-Identifier: Apache-2.0
//
// Hand-made vocabularies for the rules; test/tokenizer/bpe_golden.test
// compares a real one with Hugging Face's tokenizers.
//
//===----------------------------------------------------------------------===//
#include "ftc/plugin_host/ByteLevelBpe.h"

#include "ByteLevelFixture.h"
#include "TestSupport.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <thread>

using ftc::text::ByteLevelBpe;
using nlohmann::json;
using Strings = std::vector<std::string>;
using Ids = std::vector<int32_t>;
using ftc::test::Merges;

namespace {

/// A tokenizer's files in a temporary directory.
struct Files {
  ftc::test::TempDir dir;
  Merges merges;
  json vocab;

  explicit Files(Merges m)
      : merges(std::move(m)), vocab(ftc::test::byteLevelVocab(merges)) {}
  json tokenizerJson() const {
    return ftc::test::byteLevelTokenizerJson(merges);
  }
  std::string write(const json &j, const std::string &name = "tokenizer.json") {
    ftc::test::writeBytes(dir.path(name), j.dump());
    return dir.path(name);
  }
  void writePair(const std::string &mergesText) {
    ftc::test::writeBytes(dir.path("vocab.json"), vocab.dump());
    ftc::test::writeBytes(dir.path("merges.txt"), mergesText);
  }
  std::string mergesText() const {
    std::string s = "#version: 0.2\n";
    for (const auto &[a, b] : merges)
      s += a + " " + b + "\n";
    return s;
  }
};

/// The error text of loading `path`, or "" when it loads.
std::string loadError(const std::string &path) {
  try {
    ByteLevelBpe::fromPath(path);
  } catch (const std::runtime_error &e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(ByteLevelBpe, PreTokenizerRegex) {
  Files f(Merges{});
  ByteLevelBpe bpe = ByteLevelBpe::fromPath(f.write(f.tokenizerJson()));
  auto split = [&](std::string_view s) { return bpe.preTokenize(s); };
  EXPECT_EQ(split("Hello, world!"), (Strings{"Hello", ",", " world", "!"}));
  // Lower-case contractions split off; upper-case ones are punctuation.
  EXPECT_EQ(split("it's IT'S we'll"),
            (Strings{"it", "'s", " IT", "'", "S", " we", "'ll"}));
  EXPECT_EQ(split("''s 'x"), (Strings{"''", "s", " '", "x"}));
  // \s+(?!\S): a run of spaces leaves its last one to the next word.
  EXPECT_EQ(split("a   b"), (Strings{"a", "  ", " b"}));
  EXPECT_EQ(split("a b  "), (Strings{"a", " b", "  "}));
  EXPECT_EQ(split("a\n\nb"), (Strings{"a", "\n", "\n", "b"}));
  EXPECT_EQ(split("a\t b"), (Strings{"a", "\t", " b"}));
  EXPECT_EQ(split("a\u00a0b"), (Strings{"a", "\u00a0", "b"}));
  EXPECT_EQ(split("x1234 \u0663\u0664\u00b2\u00bd"),
            (Strings{"x", "1234", " \u0663\u0664\u00b2\u00bd"}));
  EXPECT_EQ(split("caf\u00e9 cafe\u0301"),
            (Strings{"caf\u00e9", " cafe", "\u0301"}));
  EXPECT_EQ(split("a<|endoftext|> b"), (Strings{"a", "<|endoftext|>", " b"}));
  EXPECT_EQ(split(""), Strings{});
}

TEST(ByteLevelBpe, MergesLowestRankFirst) {
  // "b c" outranks "a b", so "abc" becomes a + bc, not ab + c.
  Files f(Merges{{"b", "c"}, {"a", "b"}, {"a", "bc"}, {"Ġ", "a"}});
  ByteLevelBpe bpe = ByteLevelBpe::fromPath(f.write(f.tokenizerJson()));
  EXPECT_EQ(bpe.tokenize("abc"), (Strings{"abc"}));
  // b+c first; then a+bc (rank 2) before the stale a+b (rank 1 no more:
  // the pair is a, bc now) and Ġ+a (rank 3).
  EXPECT_EQ(bpe.tokenize("ab abc"), (Strings{"ab", "Ġ", "abc"}));
  EXPECT_EQ(bpe.tokenize("abab"), (Strings{"ab", "ab"}));
  EXPECT_EQ(bpe.encode("a"), (Ids{1 + 'a'}));
  EXPECT_EQ(bpe.tokenToId("bc"), 257);
  EXPECT_EQ(bpe.tokenToId("cb"), std::nullopt);
  EXPECT_EQ(bpe.idToToken(258), "ab");
  EXPECT_THROW(bpe.idToToken(1000), std::out_of_range);
  EXPECT_EQ(bpe.vocabSize(), 261u);
  EXPECT_EQ(bpe.eosId(), 0);
}

TEST(ByteLevelBpe, AnyBytesRoundTrip) {
  Files f(Merges{{"h", "e"}, {"Ġ", "he"}});
  ByteLevelBpe bpe = ByteLevelBpe::fromPath(f.write(f.tokenizerJson()));
  for (std::string s :
       {std::string("he he\xFF\xFEhe \xE2\x82 x"), std::string("a\0b", 3),
        std::string("<|endoftext|>\xC3"), std::string("\xF0\x9F\x98\x80 ok")})
    EXPECT_EQ(bpe.decode(bpe.encode(s)), s);
  // An invalid byte is punctuation-like: it joins the run of symbols.
  EXPECT_EQ(bpe.preTokenize("he!\xFF!he"), (Strings{"he", "!\xFF!", "he"}));
}

TEST(ByteLevelBpe, VocabAndMergesEqualTokenizerJson) {
  Files f(Merges{{"h", "e"}, {"Ġ", "he"}, {"l", "l"}, {"he", "ll"}});
  f.writePair(f.mergesText());
  ByteLevelBpe a = ByteLevelBpe::fromTokenizerJson(f.write(f.tokenizerJson()));
  ByteLevelBpe b = ByteLevelBpe::fromVocabAndMerges(f.dir.path("vocab.json"),
                                                    f.dir.path("merges.txt"));
  ByteLevelBpe c = ByteLevelBpe::fromPath(f.dir.path("merges.txt"));
  std::string text = "hell, he said<|endoftext|>hello  there";
  EXPECT_EQ(a.encode(text), b.encode(text));
  EXPECT_EQ(a.encode(text), c.encode(text));
  EXPECT_EQ(b.preTokenize(text)[3], " said");
  EXPECT_EQ(b.preTokenize(text)[4], "<|endoftext|>");
}

TEST(ByteLevelBpe, PrefixSpaceAndNoRegex) {
  Files f(Merges{{"Ġ", "a"}});
  json j = f.tokenizerJson();
  j["pre_tokenizer"]["add_prefix_space"] = true;
  ByteLevelBpe prefixed = ByteLevelBpe::fromPath(f.write(j));
  // Each piece between added tokens gets its space.
  EXPECT_EQ(prefixed.tokenize("a<|endoftext|>a"),
            (Strings{"Ġa", "<|endoftext|>", "Ġa"}));
  EXPECT_EQ(prefixed.tokenize(" a"), (Strings{"Ġa"}));
  j["pre_tokenizer"]["add_prefix_space"] = false;
  j["pre_tokenizer"]["use_regex"] = false;
  ByteLevelBpe whole = ByteLevelBpe::fromPath(f.write(j));
  EXPECT_EQ(whole.preTokenize("it's a  b"), (Strings{"it's a  b"}));
}

TEST(ByteLevelBpe, ConcurrentEncodeIsSafe) {
  Files f(Merges{{"h", "e"}, {"Ġ", "he"}});
  ByteLevelBpe bpe = ByteLevelBpe::fromPath(f.write(f.tokenizerJson()));
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "he said he " + std::to_string(i) + "\n";
  Ids want = bpe.encode(text);
  std::vector<std::thread> threads;
  std::vector<Ids> got(4);
  for (size_t t = 0; t < got.size(); ++t)
    threads.emplace_back([&, t] { got[t] = bpe.encode(text); });
  for (std::thread &t : threads)
    t.join();
  for (const Ids &g : got)
    EXPECT_EQ(g, want);
}

TEST(ByteLevelBpe, RefusesWhatItCannotHonour) {
  Files f(Merges{{"h", "e"}});
  auto refused = [&](json j, const std::string &want) {
    std::string path = f.write(j, "t.json");
    std::string error = loadError(path);
    EXPECT_NE(error.find(path + ": "), std::string::npos) << error;
    EXPECT_NE(error.find(want), std::string::npos) << error;
  };
  json j = f.tokenizerJson();
  j["model"]["type"] = "WordPiece";
  refused(j, "model.type is 'WordPiece'");
  j = f.tokenizerJson();
  j["model"]["dropout"] = 0.1;
  refused(j, "dropout");
  j = f.tokenizerJson();
  j["model"]["byte_fallback"] = true;
  refused(j, "byte_fallback");
  j = f.tokenizerJson();
  j["model"]["continuing_subword_prefix"] = "##";
  refused(j, "continuing_subword_prefix");
  j = f.tokenizerJson();
  j["normalizer"] = {{"type", "NFC"}};
  refused(j, "normalizer 'NFC'");
  j = f.tokenizerJson();
  j["pre_tokenizer"] = {{"type", "Whitespace"}};
  refused(j, "pre_tokenizer 'Whitespace'");
  j = f.tokenizerJson();
  j["decoder"] = {{"type", "WordPiece"}};
  refused(j, "decoder 'WordPiece'");
  j = f.tokenizerJson();
  j["added_tokens"][0]["single_word"] = true;
  refused(j, "single_word");
  j = f.tokenizerJson();
  j["added_tokens"][0]["id"] = 5;
  refused(j, "has id 5, but Hugging Face's tokenizers gives it 0");
  j = f.tokenizerJson();
  j["model"]["merges"].push_back({"x", "yz"});
  refused(j, "model.merges[1]: merge 'x yz' needs 'yz'");
  j = f.tokenizerJson();
  j["model"]["merges"] = {"h e", "he"};
  refused(j, "model.merges[1] is not \"a b\" or [a, b]");
  refused(json::array(), "unexpected tokenizer.json layout");
}

TEST(ByteLevelBpe, MergesFileErrorsNameTheLine) {
  Files f(Merges{{"h", "e"}});
  f.writePair("#version: 0.2\nh e\nh e l\n");
  EXPECT_NE(loadError(f.dir.path("vocab.json"))
                .find(f.dir.path("merges.txt") + ":3: expected one merge"),
            std::string::npos);
  f.writePair("h e\n\n");
  EXPECT_NE(loadError(f.dir.path("vocab.json"))
                .find(f.dir.path("merges.txt") + ":2:"),
            std::string::npos);
  f.writePair("h q\n");
  EXPECT_NE(loadError(f.dir.path("vocab.json")).find("needs 'hq'"),
            std::string::npos);
  ftc::test::TempDir empty;
  EXPECT_NE(loadError(empty.str()).find("no tokenizer.json or vocab.json"),
            std::string::npos);
  EXPECT_NE(loadError(empty.path("nope.json")).find("no such file"),
            std::string::npos);
  ftc::test::writeBytes(empty.path("x.json"), "{not json");
  EXPECT_NE(loadError(empty.path("x.json")).find("invalid JSON"),
            std::string::npos);
}
