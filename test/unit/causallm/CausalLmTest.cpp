//===- CausalLmTest.cpp - The causal-lm dataset plugin --------------------===//
// SPDX-License-Identifier: Apache-2.0
//
// With a bytes-only tokenizer (no merges: byte b is id 1 + b, <|endoftext|>
// is 0) the packing is easy to follow by hand; test/datasets/causal_lm.test
// compares a real tokenizer's examples with Hugging Face's tokenizers.
//
//===----------------------------------------------------------------------===//
#include "ByteLevelFixture.h"
#include "TestSupport.h"

#include "ftc/plugin_host/ErrorBuffer.h"

using namespace ftc;
using Ids = std::vector<int32_t>;

namespace {

constexpr int32_t kEos = 0;
int32_t id(char c) { return 1 + int32_t(uint8_t(c)); }

struct Fixture {
  test::TempDir dir;
  Fixture() {
    test::writeBytes(dir.path("tokenizer.json"),
                     test::byteLevelTokenizerJson({}).dump());
  }
  std::string write(const std::string &name, const std::string &bytes) {
    test::writeBytes(dir.path(name), bytes);
    return dir.path(name);
  }
  /// A spec whose [dataset] reads `train` with these extra keys.
  std::string spec(const std::string &train, const std::string &keys = "",
                   std::optional<std::string> tokenizer = std::nullopt) const {
    return "[dataset]\ntype = \"causal-lm\"\ntrain = \"" + train +
           "\"\ntokenizer = \"" + tokenizer.value_or(dir.path("")) + "\"\n" +
           keys + "\n";
  }
};

struct Example {
  Ids ids, mask, labels;
};

std::vector<Example> all(const test::OpenedSplit &o) {
  size_t L = size_t(o.info.features[0].shape[0]);
  std::vector<Example> out(size_t(o.info.num_examples));
  for (size_t i = 0; i < out.size(); ++i) {
    Example &e = out[i];
    for (Ids *v : {&e.ids, &e.mask, &e.labels})
      v->assign(L, -7);
    void *bufs[3] = {e.ids.data(), e.mask.data(), e.labels.data()};
    int64_t index = int64_t(i);
    plugin::ErrorBuffer err;
    EXPECT_EQ(o.plugin->fill(o.handle, &index, 1, bufs, err.get()),
              FTC_STATUS_OK)
        << err.message();
  }
  return out;
}

/// The real tokens of every example, in order.
Ids stream(const std::vector<Example> &examples) {
  Ids out;
  for (const Example &e : examples)
    for (size_t t = 0; t < e.ids.size(); ++t)
      if (e.mask[t])
        out.push_back(e.ids[t]);
  return out;
}

Ids ids(const std::string &text) {
  Ids out;
  for (char c : text)
    out.push_back(id(c));
  return out;
}

Ids cat(std::initializer_list<Ids> parts) {
  Ids out;
  for (const Ids &p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

} // namespace

TEST(CausalLm, FeaturesAndPacking) {
  Fixture f;
  test::OpenedSplit o;
  test::openSplit(o, "causal-lm",
                  f.spec(f.write("a.txt", "ab\n\ncd"), "block_size = 4"));
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  ASSERT_EQ(o.info.num_features, 3u);
  EXPECT_STREQ(o.info.features[0].name, "input_ids");
  EXPECT_STREQ(o.info.features[1].name, "attention_mask");
  EXPECT_STREQ(o.info.features[2].name, "labels");
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(o.info.features[i].dtype, FTC_DTYPE_I32);
    EXPECT_EQ(o.info.features[i].rank, 1u);
    EXPECT_EQ(o.info.features[i].shape[0], 4);
  }
  EXPECT_EQ(o.info.label_feature, nullptr);
  // a b EOS c | d EOS, padded with EOS.
  std::vector<Example> ex = all(o);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].ids, (Ids{id('a'), id('b'), kEos, id('c')}));
  EXPECT_EQ(ex[0].mask, (Ids{1, 1, 1, 1}));
  EXPECT_EQ(ex[0].labels, (Ids{id('b'), kEos, id('c'), -100}));
  EXPECT_EQ(ex[1].ids, (Ids{id('d'), kEos, kEos, kEos}));
  EXPECT_EQ(ex[1].mask, (Ids{1, 1, 0, 0}));
  EXPECT_EQ(ex[1].labels, (Ids{kEos, -100, -100, -100}));
}

TEST(CausalLm, WhatADocumentIs) {
  Fixture f;
  std::string file = f.write("a.txt", "ab\r\ncd\n \t\nef\n\n\n");
  auto open = [&](const std::string &keys) {
    test::OpenedSplit o;
    test::openSplit(o, "causal-lm", f.spec(file, keys + "\nblock_size = 5"));
    EXPECT_EQ(o.status, FTC_STATUS_OK) << o.message;
    return stream(all(o));
  };
  Ids eos{kEos};
  EXPECT_EQ(open(""), cat({ids("ab\ncd"), eos, ids("ef"), eos}));
  EXPECT_EQ(open("document = \"line\""),
            cat({ids("ab"), eos, ids("cd"), eos, ids("ef"), eos}));
  EXPECT_EQ(open("document = \"file\""),
            cat({ids("ab\ncd\n \t\nef\n\n\n"), eos}));
  EXPECT_EQ(open("eos = false"), cat({ids("ab\ncd"), ids("ef")}));
}

TEST(CausalLm, JsonLinesAndDirectories) {
  Fixture f;
  test::TempDir data;
  test::writeBytes(data.path("b.jsonl"),
                   "{\"body\": \"xy\", \"text\": 1}\n\n{\"body\": \"\"}\n"
                   "{\"body\": \"z<|endoftext|>\"}\n");
  test::writeBytes(data.path("a.txt"), "p\n");
  test::writeBytes(data.path("c.csv"), "ignored\n");
  test::OpenedSplit o;
  test::openSplit(o, "causal-lm",
                  f.spec(data.str(), "text_field = \"body\"\nblock_size = 3"));
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  // a.txt first (sorted); the empty document adds nothing, not even EOS;
  // <|endoftext|> in the text is the token.
  EXPECT_EQ(stream(all(o)),
            (Ids{id('p'), kEos, id('x'), id('y'), kEos, id('z'), kEos, kEos}));

  // The data report: the line where each block's first document starts.
  ftc_split_facts_t facts{};
  plugin::ErrorBuffer err;
  ASSERT_EQ(o.plugin->describe(o.handle, &facts, err.get()), FTC_STATUS_OK);
  EXPECT_STREQ(facts.record_unit, "line");
  EXPECT_STREQ(facts.length_unit, "tokens");
  ASSERT_EQ(o.info.num_examples, 3);
  EXPECT_EQ(facts.examples[0].record, 1); // a.txt:1
  EXPECT_EQ(facts.examples[1].record, 1); // b.jsonl:1, mid-document
  EXPECT_EQ(facts.examples[2].record, 4); // b.jsonl:4
  EXPECT_EQ(facts.examples[2].length, 2);
  EXPECT_EQ(facts.examples[0].unknown, 0);
  EXPECT_NE(facts.examples[0].hash, facts.examples[1].hash);
}

TEST(CausalLm, Errors) {
  Fixture f;
  auto error = [&](const std::string &spec, const char *split = "train") {
    test::OpenedSplit o;
    test::openSplit(o, "causal-lm", spec, split);
    EXPECT_NE(o.status, FTC_STATUS_OK);
    return o.key + ": " + o.message;
  };
  auto has = [](const std::string &s, const std::string &part) {
    return s.find(part) != std::string::npos;
  };
  std::string text = f.write("a.txt", "hello\n");
  EXPECT_PRED2(has, error(f.spec(f.dir.path("missing.txt"))),
               "train: " + f.dir.path("missing.txt") + ": cannot open");
  EXPECT_PRED2(has, error(f.spec(text), "eval"),
               "eval: the causal-lm dataset needs 'eval'");
  std::string bad = f.write("bad.jsonl", "{\"text\": \"a\"}\n\n{\"text\": \n");
  EXPECT_PRED2(has, error(f.spec(bad)), "train: " + bad + ":3: invalid JSON");
  std::string noField = f.write("nofield.jsonl", "{\"text\": \"a\"}\n{}\n");
  EXPECT_PRED2(has, error(f.spec(noField)),
               noField + ":2: missing field 'text' (text_field)");
  std::string notString = f.write("num.jsonl", "{\"text\": 5}\n");
  EXPECT_PRED2(has, error(f.spec(notString)),
               notString + ":1: field 'text' is number, expected a string");
  EXPECT_PRED2(has, error(f.spec(f.write("blank.txt", " \n\n"))),
               "holds no text");
  test::TempDir empty;
  EXPECT_PRED2(has, error(f.spec(empty.str())),
               "the directory holds no .txt or .jsonl file");
  EXPECT_PRED2(has, error(f.spec(f.dir.path("none-*.txt"))),
               "the pattern matches no file");
  // A WordPiece tokenizer.json is not a byte-level BPE.
  std::string wordPiece = f.write(
      "wp.json", R"({"model": {"type": "WordPiece", "vocab": {"a": 0}}})");
  EXPECT_PRED2(has, error(f.spec(text, "", wordPiece)),
               "tokenizer: " + wordPiece + ": model.type is 'WordPiece'");
  // No tokenizer and no model.checkpoint.
  EXPECT_PRED2(
      has, error("[dataset]\ntype = \"causal-lm\"\ntrain = \"" + text + "\"\n"),
      "tokenizer: the causal-lm dataset needs a vocabulary");
  // A vocabulary without <|endoftext|> cannot mark document ends or pad.
  nlohmann::json noEos = test::byteLevelTokenizerJson({});
  noEos["added_tokens"] = nlohmann::json::array();
  noEos["model"]["vocab"].erase("<|endoftext|>");
  noEos["model"]["vocab"]["!!"] = 0;
  std::string noEosPath = f.write("noeos.json", noEos.dump());
  EXPECT_PRED2(has, error(f.spec(text, "", noEosPath)),
               "tokenizer: the tokenizer has no <|endoftext|>");
}
