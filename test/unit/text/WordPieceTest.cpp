//===- WordPieceTest.cpp - The WordPiece tokenizer on a small vocab -------===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/plugin_host/WordPiece.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

using ftc::text::Encoding;
using ftc::text::WordPiece;
using ftc::text::WordPieceOptions;
using Tokens = std::vector<std::string>;

namespace {

// ids: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, then the rest in order.
const std::vector<std::string> kVocab = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]",  "[MASK]", "un",  "##aff", "##able",
    "hello", "world", ",",     "!",      "'",      "a",   "##a",   "b",
    "##b",   "the",   "cafe",  "中",     "文",     "σ",   "ς",     "ο",
    "##δ",   "##ος",  "##σ",   "i",      "##i",    "x",   "##x",   "##",
    "#",     "ه",     "and",   "ω",      "e",      "##e", "naive", "ε",
    "ᄒ",    "##ᅡ",  "##ᆫ",  "straße", "##ο"};

WordPiece vocab(WordPieceOptions options = {}) {
  return WordPiece::fromTokens(kVocab, std::move(options));
}

} // namespace

TEST(WordPiece, GreedyLongestMatchFirst) {
  WordPiece wp = vocab();
  EXPECT_EQ(wp.tokenize("unaffable"), (Tokens{"un", "##aff", "##able"}));
  EXPECT_EQ(wp.tokenize("Hello, World!"), (Tokens{"hello", ",", "world", "!"}));
  EXPECT_EQ(wp.tokenize("aaa"), (Tokens{"a", "##a", "##a"}));
  // One unmatchable piece makes the whole word [UNK].
  EXPECT_EQ(wp.tokenize("unaffz hello"), (Tokens{"[UNK]", "hello"}));
  EXPECT_EQ(wp.tokenId("hello"), 8);
  EXPECT_EQ(wp.tokenId("nope"), -1);
  EXPECT_EQ(wp.token(8), "hello");
}

TEST(WordPiece, CleaningAndWhitespace) {
  WordPiece wp = vocab();
  // NUL, U+FFFD, controls (Cc, Cf) are dropped; they do not split words.
  EXPECT_EQ(wp.tokenize(std::string("he\0llo", 6)), (Tokens{"hello"}));
  EXPECT_EQ(wp.tokenize("he\xEF\xBF\xBDllo"), (Tokens{"hello"}));
  EXPECT_EQ(wp.tokenize("hel\u200blo\x07"), (Tokens{"hello"}));
  // Unicode whitespace splits: tab, newline, NBSP, em space, U+2028.
  EXPECT_EQ(wp.tokenize("hello\tworld\nhello\u00a0world\u2003a\u2028b"),
            (Tokens{"hello", "world", "hello", "world", "a", "b"}));
  EXPECT_EQ(wp.tokenize("   "), Tokens{});
  EXPECT_EQ(wp.tokenize(""), Tokens{});
  // Unassigned code points (Cn) are control characters too (Python).
  EXPECT_EQ(wp.tokenize("hel\U000E0080lo"), (Tokens{"hello"}));
}

TEST(WordPiece, InvalidUtf8NeverCrashes) {
  WordPiece wp = vocab();
  EXPECT_EQ(wp.tokenize("hel\xFFlo"), (Tokens{"hello"}));
  EXPECT_EQ(wp.tokenize("hel\xE2\x82lo"), (Tokens{"hello"}));     // truncated
  EXPECT_EQ(wp.tokenize("hel\xED\xA0\x80lo"), (Tokens{"hello"})); // surrogate
  EXPECT_EQ(wp.tokenize("hel\xC0\xAFlo"), (Tokens{"hello"}));     // overlong
  EXPECT_EQ(wp.tokenize("\xF0\x9F"), Tokens{});
  std::string garbage;
  for (int i = 0; i < 4096; ++i)
    garbage.push_back(char((i * 7919) & 0xFF));
  EXPECT_NO_THROW(wp.encode(garbage, garbage, 64, true));
}

TEST(WordPiece, LowercaseAndAccents) {
  WordPiece wp = vocab();
  EXPECT_EQ(wp.tokenize("Café NAÏVE"), (Tokens{"cafe", "naive"}));
  // Combining marks are stripped after NFD; precomposed and decomposed agree.
  EXPECT_EQ(wp.tokenize("cafe\u0301"), (Tokens{"cafe"}));
  // Hangul syllables decompose into jamo.
  EXPECT_EQ(wp.tokenize("한"), (Tokens{"ᄒ", "##ᅡ", "##ᆫ"}));
  // No final-sigma rule: Hugging Face's tokenizers lower-case code point by
  // code point (Python's str.lower() in the slow tokenizer would give ος).
  EXPECT_EQ(wp.tokenize("ΟΔΟΣ"), (Tokens{"ο", "##δ", "##ο", "##σ"}));
  EXPECT_EQ(wp.tokenize("Σ"), (Tokens{"σ"}));
  // İ lowers to i + U+0307, whose mark is then stripped.
  EXPECT_EQ(wp.tokenize("İ"), (Tokens{"i"}));
  EXPECT_EQ(wp.tokenize("straße"), (Tokens{"straße"}));

  WordPieceOptions cased;
  cased.lowercase = false;
  WordPiece wc = vocab(cased);
  EXPECT_EQ(wc.tokenize("Hello hello"), (Tokens{"[UNK]", "hello"}));
  EXPECT_EQ(wc.tokenize("café"), (Tokens{"[UNK]"}));

  WordPieceOptions lowerKeepAccents;
  lowerKeepAccents.stripAccents = false;
  EXPECT_EQ(vocab(lowerKeepAccents).tokenize("Café"), (Tokens{"[UNK]"}));
  WordPieceOptions casedStrip;
  casedStrip.lowercase = false;
  casedStrip.stripAccents = true;
  EXPECT_EQ(vocab(casedStrip).tokenize("café"), (Tokens{"cafe"}));
}

TEST(WordPiece, PunctuationAndChinese) {
  WordPiece wp = vocab();
  EXPECT_EQ(wp.tokenize("a'b"), (Tokens{"a", "'", "b"}));
  EXPECT_EQ(wp.tokenize("##"), (Tokens{"#", "#"}));
  EXPECT_EQ(wp.tokenize("中文"), (Tokens{"中", "文"}));
  EXPECT_EQ(wp.tokenize("a中b"), (Tokens{"a", "中", "b"}));
  // '$' and '^' are ASCII punctuation although not Unicode P*.
  EXPECT_EQ(wp.tokenize("a$b^x"), (Tokens{"a", "[UNK]", "b", "[UNK]", "x"}));
}

TEST(WordPiece, SpecialTokensInText) {
  WordPiece wp = vocab();
  EXPECT_EQ(wp.tokenize("hello[MASK]world"),
            (Tokens{"hello", "[MASK]", "world"}));
  // Matched case-sensitively on the raw text only.
  EXPECT_EQ(wp.tokenize("[mask]"), (Tokens{"[UNK]", "[UNK]", "[UNK]"}));
  EXPECT_EQ(wp.encodeIds("[SEP]"), (std::vector<int32_t>{3}));
}

TEST(WordPiece, WordLengthLimit) {
  WordPiece wp = vocab();
  EXPECT_EQ(wp.tokenize(std::string(100, 'a')).size(), 100u);
  EXPECT_EQ(wp.tokenize(std::string(101, 'a')), (Tokens{"[UNK]"}));
  // Counted in code points after normalization: 100 x "e\u0301" -> 100.
  std::string e;
  for (int i = 0; i < 100; ++i)
    e += "e\u0301";
  EXPECT_EQ(wp.tokenize(e).size(), 100u);
  WordPieceOptions small;
  small.maxInputCharsPerWord = 3;
  EXPECT_EQ(vocab(small).tokenize("aaa aaaa"),
            (Tokens{"a", "##a", "##a", "[UNK]"}));
}

TEST(WordPiece, EncodeSpecialTokensTypesAndPadding) {
  WordPiece wp = vocab();
  Encoding e = wp.encode("hello", std::string_view("world"));
  EXPECT_EQ(e.ids, (std::vector<int32_t>{2, 8, 3, 9, 3}));
  EXPECT_EQ(e.typeIds, (std::vector<int32_t>{0, 0, 0, 1, 1}));
  EXPECT_EQ(e.attentionMask, (std::vector<int32_t>{1, 1, 1, 1, 1}));

  Encoding p = wp.encode("hello", std::nullopt, 6, true);
  EXPECT_EQ(p.ids, (std::vector<int32_t>{2, 8, 3, 0, 0, 0}));
  EXPECT_EQ(p.typeIds, (std::vector<int32_t>{0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(p.attentionMask, (std::vector<int32_t>{1, 1, 1, 0, 0, 0}));

  // An empty pair still adds its [SEP] (Python's text_pair="").
  EXPECT_EQ(wp.encode("hello", std::string_view("")).ids,
            (std::vector<int32_t>{2, 8, 3, 3}));
  EXPECT_THROW(wp.encode("a", std::string_view("b"), 2), std::invalid_argument);
}

TEST(WordPiece, TruncationLongestFirst) {
  WordPiece wp = vocab();
  // a: 5 tokens, b: 2 tokens; budget 8 - 3 = 5 -> a loses 2: 3 + 2.
  Encoding e = wp.encode("a a a a a", std::string_view("b b"), 8, true);
  EXPECT_EQ(e.ids, (std::vector<int32_t>{2, 13, 13, 13, 3, 15, 15, 3}));
  EXPECT_EQ(e.typeIds, (std::vector<int32_t>{0, 0, 0, 0, 0, 1, 1, 1}));
  // Both too long: the budget is halved, the odd token going to the second
  // (Hugging Face tokenizers' longest_first; equal lengths count as the
  // first being the shorter).
  Encoding f = wp.encode("a a a", std::string_view("b b b"), 6, false);
  EXPECT_EQ(f.ids, (std::vector<int32_t>{2, 13, 3, 15, 15, 3}));
  Encoding g = wp.encode("a a a", std::string_view("b b b"), 7, false);
  EXPECT_EQ(g.ids, (std::vector<int32_t>{2, 13, 13, 3, 15, 15, 3}));
  Encoding h = wp.encode("a a a", std::string_view("b b b"), 8, false);
  EXPECT_EQ(h.ids, (std::vector<int32_t>{2, 13, 13, 3, 15, 15, 15, 3}));
  // The longer first input gets the odd token when it is the longer one.
  Encoding k = wp.encode("a a a a", std::string_view("b b b"), 8, false);
  EXPECT_EQ(k.ids, (std::vector<int32_t>{2, 13, 13, 13, 3, 15, 15, 3}));
  // Single sequence: cut at the end, [SEP] kept.
  EXPECT_EQ(wp.encode("a b a b", std::nullopt, 4).ids,
            (std::vector<int32_t>{2, 13, 15, 3}));
}

TEST(WordPiece, VocabFileErrorsNameFileAndLine) {
  ftc::test::TempDir dir;
  ftc::test::writeBytes(dir.path("ok.txt"), "[PAD]\r\n[UNK]\nhello\n");
  WordPiece wp = WordPiece::fromVocabFile(dir.path("ok.txt"));
  EXPECT_EQ(wp.vocabSize(), 3u);
  EXPECT_EQ(wp.tokenId("hello"), 2);

  ftc::test::writeBytes(dir.path("empty-line.txt"), "[UNK]\n\nx\n");
  try {
    WordPiece::fromVocabFile(dir.path("empty-line.txt"));
    FAIL() << "no error";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("empty-line.txt:2:"),
              std::string::npos)
        << e.what();
  }
  ftc::test::writeBytes(dir.path("bad-utf8.txt"), "[UNK]\nok\nb\xFFz\n");
  try {
    WordPiece::fromVocabFile(dir.path("bad-utf8.txt"));
    FAIL() << "no error";
  } catch (const std::runtime_error &e) {
    EXPECT_NE(std::string(e.what()).find("bad-utf8.txt:3: token is not valid"),
              std::string::npos)
        << e.what();
  }
  ftc::test::writeBytes(dir.path("no-unk.txt"), "a\nb\n");
  EXPECT_THROW(WordPiece::fromVocabFile(dir.path("no-unk.txt")),
               std::runtime_error);
  EXPECT_THROW(WordPiece::fromVocabFile(dir.path("missing.txt")),
               std::runtime_error);
}

TEST(WordPiece, TokenizerJson) {
  ftc::test::TempDir dir;
  ftc::test::writeBytes(
      dir.path("tokenizer.json"),
      R"({"added_tokens": [{"id": 0, "content": "[PAD]", "special": true},
                           {"id": 3, "content": "[SEP]", "special": true}],
          "normalizer": {"type": "BertNormalizer", "clean_text": true,
                         "handle_chinese_chars": true, "strip_accents": null,
                         "lowercase": false},
          "pre_tokenizer": {"type": "BertPreTokenizer"},
          "model": {"type": "WordPiece", "unk_token": "[UNK]",
                    "continuing_subword_prefix": "##",
                    "max_input_chars_per_word": 100,
                    "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3,
                              "Hello": 4, "##lo": 5, "Hel": 6}}})");
  WordPiece wp = WordPiece::fromPath(dir.str());
  EXPECT_FALSE(wp.options().lowercase);
  EXPECT_EQ(wp.tokenize("Hello Hello[SEP]hello"),
            (Tokens{"Hello", "Hello", "[SEP]", "[UNK]"}));
  EXPECT_EQ(wp.encode("Hello").ids, (std::vector<int32_t>{2, 4, 3}));

  ftc::test::writeBytes(dir.path("bad.json"),
                        "{\"model\": {\"type\": \"BPE\"}}");
  EXPECT_THROW(WordPiece::fromTokenizerJson(dir.path("bad.json")),
               std::runtime_error);
  ftc::test::writeBytes(dir.path("broken.json"), "{");
  EXPECT_THROW(WordPiece::fromTokenizerJson(dir.path("broken.json")),
               std::runtime_error);
}
