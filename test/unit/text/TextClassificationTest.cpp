//===- TextClassificationTest.cpp - The text-classification dataset -------===//
// SPDX-License-Identifier: Apache-2.0
#include "TestSupport.h"

#include "ftc/plugin_host/ErrorBuffer.h"

using namespace ftc;

namespace {

/// A temp dir with a small vocab.txt.
struct Fixture {
  test::TempDir dir;
  Fixture() {
    // [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 good=4 bad=5 movie=6 ,=7 "=8 a=9
    test::writeBytes(dir.path("vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\ngood\n"
                                            "bad\nmovie\n,\n\"\na\n");
  }
  std::string write(const std::string &name, const std::string &bytes) {
    test::writeBytes(dir.path(name), bytes);
    return dir.path(name);
  }
};

struct Opened : test::OpenedSplit {
  /// Fills examples `idx` and returns the four feature buffers.
  std::vector<std::vector<int32_t>> fill(const std::vector<int64_t> &idx) {
    int64_t L = info.features[0].shape[0];
    std::vector<std::vector<int32_t>> b = {std::vector<int32_t>(idx.size() * L),
                                           std::vector<int32_t>(idx.size() * L),
                                           std::vector<int32_t>(idx.size() * L),
                                           std::vector<int32_t>(idx.size())};
    void *bufs[4] = {b[0].data(), b[1].data(), b[2].data(), b[3].data()};
    plugin::ErrorBuffer err;
    EXPECT_EQ(plugin->fill(handle, idx.data(), idx.size(), bufs, err.get()),
              FTC_STATUS_OK)
        << err.message();
    return b;
  }
};

void open(Opened &o, const Fixture &f, const std::string &datasetToml,
          const char *split = "train") {
  test::openSplit(o, "text-classification",
                  "[model]\nfamily = \"bert\"\ncheckpoint = \"" + f.dir.str() +
                      "\"\n[dataset]\ntype = \"text-classification\"\n" +
                      datasetToml + "\n",
                  split);
}

std::string q(const std::string &path) { return "\"" + path + "\""; }

std::vector<int32_t> row(const std::vector<int32_t> &v, size_t i, size_t L) {
  return std::vector<int32_t>(v.begin() + i * L, v.begin() + (i + 1) * L);
}

} // namespace

TEST(TextClassification, DeclaresKeysAndFeatures) {
  Fixture f;
  std::string train = f.write("t.csv", "text,label\ngood movie,pos\nbad,neg\n");
  Opened o;
  open(o, f, "train = " + q(train) + "\nmax_length = 8");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  ASSERT_EQ(o.info.num_features, 4u);
  const char *names[] = {"input_ids", "token_type_ids", "attention_mask",
                         "label"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_STREQ(o.info.features[i].name, names[i]);
    EXPECT_EQ(o.info.features[i].dtype, uint32_t(FTC_DTYPE_I32));
    EXPECT_EQ(o.info.features[i].rank, i < 3 ? 1u : 0u);
  }
  EXPECT_EQ(o.info.features[0].shape[0], 8);
  EXPECT_STREQ(o.info.label_feature, "label");
  EXPECT_EQ(o.info.num_examples, 2);
  EXPECT_EQ(o.info.num_classes, 2);
  auto b = o.fill({0, 1});
  EXPECT_EQ(row(b[0], 0, 8), (std::vector<int32_t>{2, 4, 6, 3, 0, 0, 0, 0}));
  EXPECT_EQ(row(b[2], 0, 8), (std::vector<int32_t>{1, 1, 1, 1, 0, 0, 0, 0}));
  EXPECT_EQ(row(b[0], 1, 8), (std::vector<int32_t>{2, 5, 3, 0, 0, 0, 0, 0}));
  // Sorted unique strings: neg = 0, pos = 1.
  EXPECT_EQ(b[3], (std::vector<int32_t>{1, 0}));
}

TEST(TextClassification, CsvQuotingEdgeCases) {
  Fixture f;
  std::string train = f.write("t.csv", "\xEF\xBB\xBFid,text,label\r\n"
                                       "1,\"good, good\",pos\r\n"
                                       "2,\"say \"\"bad\"\"\",neg\r\n"
                                       "\r\n"
                                       "3,\"multi\nline\ngood\",pos\r\n"
                                       "4,,neg\r\n"
                                       "5,\"\",neg");
  Opened o;
  open(o, f, "train = " + q(train) + "\nmax_length = 8");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  ASSERT_EQ(o.info.num_examples, 5);
  auto b = o.fill({0, 1, 2, 3, 4});
  EXPECT_EQ(row(b[0], 0, 8), (std::vector<int32_t>{2, 4, 7, 4, 3, 0, 0, 0}));
  EXPECT_EQ(row(b[0], 1, 8), (std::vector<int32_t>{2, 1, 8, 5, 8, 3, 0, 0}));
  EXPECT_EQ(row(b[0], 2, 8), (std::vector<int32_t>{2, 1, 1, 4, 3, 0, 0, 0}));
  EXPECT_EQ(row(b[0], 3, 8), (std::vector<int32_t>{2, 3, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(b[3], (std::vector<int32_t>{1, 0, 1, 0, 0}));
}

TEST(TextClassification, CsvErrorsNameFileAndLine) {
  Fixture f;
  {
    std::string train =
        f.write("unterminated.csv", "text,label\ngood,1\n\"bad,0\ngood,1\n");
    Opened o;
    open(o, f, "train = " + q(train));
    EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
    EXPECT_NE(o.message.find("unterminated.csv:3: unterminated quoted field"),
              std::string::npos)
        << o.message;
    EXPECT_EQ(o.key, "train");
  }
  {
    std::string train =
        f.write("fields.csv", "text,label\ngood,1\n\"a\nb\",0\nbad,0,extra\n");
    Opened o;
    open(o, f, "train = " + q(train));
    EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
    EXPECT_NE(o.message.find("fields.csv:5: the row has 3 fields, the header "
                             "has 2"),
              std::string::npos)
        << o.message;
  }
  {
    std::string train = f.write("afterquote.csv", "text,label\n\"a\"b,1\n");
    Opened o;
    open(o, f, "train = " + q(train));
    EXPECT_NE(o.message.find("afterquote.csv:2: unexpected character after"),
              std::string::npos)
        << o.message;
  }
  {
    std::string train = f.write("nocol.csv", "review,label\ngood,1\n");
    Opened o;
    open(o, f, "train = " + q(train));
    EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
    EXPECT_NE(o.message.find("no column 'text'"), std::string::npos)
        << o.message;
    EXPECT_EQ(o.key, "text");
  }
}

TEST(TextClassification, SkipBadRows) {
  Fixture f;
  std::string train = f.write(
      "t.csv", "text,label\ngood,1\n\"bad,0\nbad,0,x\nmovie,\ngood,0\n");
  Opened o;
  open(o, f, "train = " + q(train) + "\nskip_bad_rows = true\nmax_length = 8");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  // Lines 3 (unterminated quote), 4 (3 fields), 5 (empty label) are skipped.
  EXPECT_EQ(o.info.num_examples, 2);
  auto b = o.fill({0, 1});
  EXPECT_EQ(b[3], (std::vector<int32_t>{1, 0}));
}

TEST(TextClassification, TsvHasNoQuoting) {
  Fixture f;
  std::string train =
      f.write("t.tsv", "label\ttext\r\n0\t\"good\"\r\n1\tbad movie\r\n");
  Opened o;
  open(o, f, "train = " + q(train) + "\nmax_length = 8");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  auto b = o.fill({0, 1});
  EXPECT_EQ(row(b[0], 0, 8), (std::vector<int32_t>{2, 8, 4, 8, 3, 0, 0, 0}));
  EXPECT_EQ(b[3], (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(o.info.num_classes, 2);
}

TEST(TextClassification, JsonlAndPairs) {
  Fixture f;
  std::string train = f.write(
      "t.jsonl", "{\"q\": \"good\", \"a\": \"bad movie\", \"y\": 2}\n"
                 "\n"
                 "{\"q\": \"a\", \"a\": \"a\", \"y\": 0, \"extra\": [1]}\n");
  Opened o;
  open(o, f,
       "train = " + q(train) +
           "\ntext = \"q\"\ntext_pair = \"a\"\nlabel = \"y\"\nmax_length = 8");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  EXPECT_EQ(o.info.num_examples, 2);
  // Integer labels are class indices as they are: K = max + 1.
  EXPECT_EQ(o.info.num_classes, 3);
  auto b = o.fill({0, 1});
  EXPECT_EQ(row(b[0], 0, 8), (std::vector<int32_t>{2, 4, 3, 5, 6, 3, 0, 0}));
  EXPECT_EQ(row(b[1], 0, 8), (std::vector<int32_t>{0, 0, 0, 1, 1, 1, 0, 0}));
  EXPECT_EQ(b[3], (std::vector<int32_t>{2, 0}));
}

TEST(TextClassification, JsonlErrors) {
  Fixture f;
  struct Case {
    const char *body, *expect;
  } cases[] = {
      {"{\"text\": \"good\", \"label\": 1}\n{\"text\": 5, \"label\": 1}\n",
       "t.jsonl:2: field 'text' is number, expected a string"},
      {"{\"text\": \"good\"}\n", "t.jsonl:1: missing field 'label'"},
      {"{\"text\": \"a\", \"label\": 1}\n\n{\"text\": \"a\", \"label\": 1.5}\n",
       "t.jsonl:3: label field 'label' is number, expected a string or an "
       "integer"},
      {"{\"text\": \"a\", \"label\": 1}\n{\"text\": \"a\",\n",
       "t.jsonl:2: invalid JSON"},
      {"[1, 2]\n", "t.jsonl:1: expected a JSON object, got array"},
      {"{\"text\": \"a\", \"label\": -1}\n",
       "t.jsonl:1: integer label -1 is outside 0..K-1"},
  };
  for (const Case &c : cases) {
    std::string train = f.write("t.jsonl", c.body);
    Opened o;
    open(o, f, "train = " + q(train));
    EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR) << c.body;
    EXPECT_NE(o.message.find(c.expect), std::string::npos)
        << "got: " << o.message << "\nwant: " << c.expect;
    EXPECT_EQ(o.key, "train");
  }
}

TEST(TextClassification, EvalUsesTheTrainMapping) {
  Fixture f;
  std::string train = f.write("train.csv", "text,label\na,pos\na,neg\na,mid\n");
  std::string eval = f.write("eval.jsonl", "{\"text\": \"good\", \"label\": "
                                           "\"pos\"}\n{\"text\": \"bad\", "
                                           "\"label\": \"mid\"}\n");
  Opened o;
  open(o, f, "train = " + q(train) + "\neval = " + q(eval) + "\nmax_length = 8",
       "eval");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  EXPECT_EQ(o.info.num_classes, 3);
  auto b = o.fill({0, 1});
  EXPECT_EQ(b[3], (std::vector<int32_t>{2, 0})); // mid=0 neg=1 pos=2

  std::string bad = f.write("bad.csv", "text,label\ngood,pos\nbad,unknown\n");
  Opened u;
  open(u, f, "train = " + q(train) + "\neval = " + q(bad), "eval");
  EXPECT_EQ(u.status, FTC_STATUS_DATA_ERROR);
  EXPECT_NE(u.message.find("bad.csv: 1 label does not occur in the train "
                           "split"),
            std::string::npos)
      << u.message;
  EXPECT_NE(u.message.find("cannot predict it: 'unknown' (1 row, line 3)"),
            std::string::npos)
      << u.message;
  EXPECT_EQ(u.key, "eval");

  // Integer labels: an eval label >= K is unseen.
  std::string itrain = f.write("i.csv", "text,label\na,0\na,1\n");
  std::string ieval = f.write("ie.csv", "text,label\na,1\na,2\n");
  Opened i;
  open(i, f, "train = " + q(itrain) + "\neval = " + q(ieval), "eval");
  EXPECT_NE(i.message.find("ie.csv: 1 label does not occur in the train "
                           "split ("),
            std::string::npos)
      << i.message;
  EXPECT_NE(i.message.find("'2' (1 row, line 3)"), std::string::npos)
      << i.message;

  Opened missing;
  open(missing, f, "train = " + q(itrain), "eval");
  EXPECT_EQ(missing.status, FTC_STATUS_NOT_FOUND);
  EXPECT_EQ(missing.key, "eval");
}

TEST(TextClassification, TruncationAndPaddingShape) {
  Fixture f;
  std::string train = f.write(
      "t.csv", "text,p,label\n"
               "good good good good good good good good good good,bad bad,0\n"
               "good,bad,1\n");
  Opened o;
  open(o, f, "train = " + q(train) + "\ntext_pair = \"p\"\nmax_length = 8");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  auto b = o.fill({0, 1, 0});
  // Longest first: 10 + 2 tokens into 8 - 3 = 5 -> 3 + 2.
  EXPECT_EQ(row(b[0], 0, 8), (std::vector<int32_t>{2, 4, 4, 4, 3, 5, 5, 3}));
  EXPECT_EQ(row(b[1], 0, 8), (std::vector<int32_t>{0, 0, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(row(b[2], 0, 8), (std::vector<int32_t>{1, 1, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(row(b[0], 1, 8), (std::vector<int32_t>{2, 4, 3, 5, 3, 0, 0, 0}));
  EXPECT_EQ(row(b[1], 1, 8), (std::vector<int32_t>{0, 0, 0, 1, 1, 0, 0, 0}));
  EXPECT_EQ(row(b[2], 1, 8), (std::vector<int32_t>{1, 1, 1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(row(b[0], 2, 8), row(b[0], 0, 8));
}

TEST(TextClassification, TokenizerAndFormatErrors) {
  Fixture f;
  std::string train = f.write("t.txt", "text,label\ngood,1\n");
  Opened o;
  open(o, f, "train = " + q(train));
  EXPECT_EQ(o.status, FTC_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(o.key, "format");
  Opened ok;
  open(ok, f, "train = " + q(train) + "\nformat = \"csv\"");
  EXPECT_EQ(ok.status, FTC_STATUS_OK) << ok.message;

  Opened tok;
  open(tok, f,
       "train = " + q(train) + "\nformat = \"csv\"\ntokenizer = \"" +
           f.dir.path("nope") + "\"");
  EXPECT_EQ(tok.status, FTC_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(tok.key, "tokenizer");

  Opened nofile;
  open(nofile, f, "train = \"" + f.dir.path("missing.csv") + "\"");
  EXPECT_EQ(nofile.status, FTC_STATUS_NOT_FOUND);
  EXPECT_EQ(nofile.key, "train");
}
