//===- MaskedLmTest.cpp - The masked-lm dataset plugin --------------------===//
// SPDX-License-Identifier: Apache-2.0
#include "TestSupport.h"

#include "ftc/plugin_host/ErrorBuffer.h"

#include <set>

using namespace ftc;

namespace {

const ftc_dataset_plugin_v1_t &plugin() {
  const plugin::LoadedPlugin *p =
      test::builtinRegistry().find(FTC_PLUGIN_KIND_DATASET, "masked-lm");
  if (!p)
    throw std::runtime_error("masked-lm plugin not loaded");
  return *p->dataset;
}

// [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, then w0..w{N-1} = 5..N+4.
constexpr int32_t kPad = 0, kUnk = 1, kCls = 2, kSep = 3, kMask = 4,
                  kFirstWord = 5, kWords = 200;

/// `n` words w0 w1 ... (cycling through the vocabulary), `perLine` a line.
std::string words(int n, int perLine = 10) {
  std::string s;
  for (int i = 0; i < n; ++i)
    s += "w" + std::to_string(i % kWords) +
         ((i + 1) % perLine == 0 ? "\n" : " ");
  return s;
}

struct Fixture {
  test::TempDir dir;
  Fixture() {
    std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
    for (int i = 0; i < kWords; ++i)
      vocab += "w" + std::to_string(i) + "\n";
    test::writeBytes(dir.path("vocab.txt"), vocab);
  }
  std::string write(const std::string &name, const std::string &bytes) {
    test::writeBytes(dir.path(name), bytes);
    return dir.path(name);
  }
};

struct Batch {
  std::vector<int32_t> ids, types, mask, labels;
  size_t L = 0;
  int32_t at(const std::vector<int32_t> &v, size_t row, size_t t) const {
    return v[row * L + t];
  }
};

struct Opened {
  ftc_status_t status = FTC_STATUS_INTERNAL;
  std::string message, key;
  void *handle = nullptr;
  ftc_dataset_info_t info{};
  ~Opened() {
    if (handle)
      plugin().close(handle);
  }
  Batch fill(const std::vector<int64_t> &idx) {
    Batch b;
    b.L = size_t(info.features[0].shape[0]);
    for (auto *v : {&b.ids, &b.types, &b.mask, &b.labels})
      v->assign(idx.size() * b.L, -7);
    void *bufs[4] = {b.ids.data(), b.types.data(), b.mask.data(),
                     b.labels.data()};
    plugin::ErrorBuffer err;
    EXPECT_EQ(plugin().fill(handle, idx.data(), idx.size(), bufs, err.get()),
              FTC_STATUS_OK)
        << err.message();
    return b;
  }
  std::vector<int64_t> all() const {
    std::vector<int64_t> idx(size_t(info.num_examples));
    for (size_t i = 0; i < idx.size(); ++i)
      idx[i] = int64_t(i);
    return idx;
  }
};

std::string q(const std::string &path) { return "\"" + path + "\""; }

/// Opens `split` of a spec whose [dataset] section holds `datasetToml`;
/// `vocab` is the tokenizer key (empty: none).
void open(Opened &o, const Fixture &f, const std::string &datasetToml,
          const char *split = "train", int seed = 7,
          std::optional<std::string> tokenizer = std::nullopt) {
  const ftc_dataset_plugin_v1_t &d = plugin();
  std::string tok = tokenizer ? *tokenizer : f.dir.path("vocab.txt");
  auto root = test::resolvedSpec(
      "[pipeline]\nseed = " + std::to_string(seed) +
          "\n[model]\nfamily = \"bert\"\n[dataset]\ntype = \"masked-lm\"\n" +
          (tok.empty() ? "" : "tokenizer = " + q(tok) + "\n") + datasetToml +
          "\n",
      "dataset", d.keys, d.num_keys);
  plugin::TomlConfig config(root, "dataset");
  plugin::ErrorBuffer err;
  o.status = d.open(config.config(), split, &o.handle, err.get());
  if (o.status != FTC_STATUS_OK) {
    o.message = err.message();
    o.key = err.key() ? err.key() : "";
    EXPECT_EQ(o.handle, nullptr);
    return;
  }
  EXPECT_EQ(d.info(o.handle, &o.info), FTC_STATUS_OK);
}

/// The token before masking: the label where there is one.
int32_t original(const Batch &b, size_t row, size_t t) {
  int32_t l = b.at(b.labels, row, t);
  return l == -100 ? b.at(b.ids, row, t) : l;
}

TEST(MaskedLm, Features) {
  Fixture f;
  Opened o;
  open(o, f, "train = " + q(f.write("a.txt", words(30))) + "\nmax_length = 16");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  ASSERT_EQ(o.info.num_features, 4u);
  const char *names[] = {"input_ids", "token_type_ids", "attention_mask",
                         "labels"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_STREQ(o.info.features[i].name, names[i]);
    EXPECT_EQ(o.info.features[i].dtype, FTC_DTYPE_I32);
    ASSERT_EQ(o.info.features[i].rank, 1u);
    EXPECT_EQ(o.info.features[i].shape[0], 16);
  }
  EXPECT_EQ(o.info.label_feature, nullptr);
  EXPECT_EQ(o.info.num_classes, 0);
}

TEST(MaskedLm, PacksBlocks) {
  Fixture f;
  Opened o;
  // 30 tokens in blocks of 14: 14, 14, 2 (padded).
  open(o, f,
       "train = " + q(f.write("a.txt", words(30, 7))) + "\nmax_length = 16");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  ASSERT_EQ(o.info.num_examples, 3);
  Batch b = o.fill({0, 1, 2});
  int word = 0;
  for (size_t r = 0; r < 3; ++r) {
    size_t n = r < 2 ? 14 : 2;
    EXPECT_EQ(b.at(b.ids, r, 0), kCls);
    EXPECT_EQ(b.at(b.labels, r, 0), -100);
    for (size_t t = 1; t <= n; ++t, ++word)
      EXPECT_EQ(original(b, r, t), kFirstWord + word) << r << "," << t;
    EXPECT_EQ(b.at(b.ids, r, n + 1), kSep);
    EXPECT_EQ(b.at(b.labels, r, n + 1), -100);
    for (size_t t = 0; t < 16; ++t) {
      EXPECT_EQ(b.at(b.types, r, t), 0);
      EXPECT_EQ(b.at(b.mask, r, t), t < n + 2 ? 1 : 0);
      if (t >= n + 2) {
        EXPECT_EQ(b.at(b.ids, r, t), kPad);
        EXPECT_EQ(b.at(b.labels, r, t), -100);
      }
    }
  }
  EXPECT_EQ(word, 30);
}

TEST(MaskedLm, ConcatenatesDirectoryInNameOrder) {
  Fixture f;
  std::filesystem::create_directory(f.dir.path("texts"));
  f.write("texts/b.txt", "w3 w4\n\n  \nw5\n");
  f.write("texts/a.txt", "w0 w1 w2");
  f.write("texts/ignored.md", "w9 w9 w9");
  Opened o;
  open(o, f, "train = " + q(f.dir.path("texts")) + "\nmax_length = 8\n");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  ASSERT_EQ(o.info.num_examples, 1);
  Batch b = o.fill({0});
  for (size_t t = 1; t <= 6; ++t)
    EXPECT_EQ(original(b, 0, t), kFirstWord + int32_t(t) - 1);
  EXPECT_EQ(b.at(b.ids, 0, 7), kSep);

  Opened g; // the same files through a glob
  open(g, f, "train = " + q(f.dir.path("texts/*.txt")) + "\nmax_length = 8\n");
  ASSERT_EQ(g.status, FTC_STATUS_OK) << g.message;
  Batch c = g.fill({0});
  EXPECT_EQ(c.labels, b.labels);
  EXPECT_EQ(c.ids, b.ids);

  Opened h; // brace alternatives; the matches are sorted by path
  open(h, f,
       "train = " + q(f.dir.path("texts/{b,a}.txt")) + "\nmax_length = 8\n");
  ASSERT_EQ(h.status, FTC_STATUS_OK) << h.message;
  Batch d = h.fill({0});
  EXPECT_EQ(d.ids, b.ids);
}

TEST(MaskedLm, LabelsOnlyAtMaskedPositions) {
  Fixture f;
  Opened o;
  open(o, f,
       "train = " + q(f.write("a.txt", words(5000))) + "\nmax_length = 32");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  Batch b = o.fill(o.all());
  for (size_t r = 0; r * b.L < b.ids.size(); ++r) {
    size_t chosen = 0;
    for (size_t t = 0; t < b.L; ++t) {
      int32_t id = b.at(b.ids, r, t), label = b.at(b.labels, r, t);
      bool special = id == kCls || id == kSep || id == kPad;
      if (special && label == -100)
        continue;
      ASSERT_FALSE(special && label != -100) << r << "," << t;
      if (label == -100) {
        // Not chosen: the original word, never [MASK].
        EXPECT_GE(id, kFirstWord);
        continue;
      }
      ++chosen;
      EXPECT_GE(label, kFirstWord);
      EXPECT_NE(id, kUnk);
    }
    EXPECT_GE(chosen, 1u) << "example " << r << " has no masked token";
  }
}

TEST(MaskedLm, MaskingRateAnd801010) {
  Fixture f;
  Opened o;
  open(o, f,
       "train = " + q(f.write("a.txt", words(200000))) +
           "\nmax_length = 64\nmask_prob = 0.15");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  Batch b = o.fill(o.all());
  size_t real = 0, chosen = 0, masked = 0, random = 0, kept = 0;
  for (size_t i = 0; i < b.ids.size(); ++i) {
    int32_t id = b.ids[i], label = b.labels[i];
    if (b.mask[i] && id != kCls && id != kSep)
      ++real;
    if (label == -100)
      continue;
    ++chosen;
    if (id == kMask)
      ++masked;
    else if (id == label)
      ++kept; // unchanged, or a random draw of the same token (1/200)
    else
      ++random;
  }
  ASSERT_GT(real, 190000u);
  double rate = double(chosen) / double(real);
  EXPECT_NEAR(rate, 0.15, 0.005);
  EXPECT_NEAR(double(masked) / chosen, 0.8, 0.01);
  EXPECT_NEAR(double(random) / chosen, 0.1, 0.01);
  EXPECT_NEAR(double(kept) / chosen, 0.1, 0.01);

  Opened all; // mask_prob = 1: every real token is a target
  open(all, f,
       "train = " + q(f.dir.path("a.txt")) +
           "\nmax_length = 64\nmask_prob = 1.0");
  ASSERT_EQ(all.status, FTC_STATUS_OK) << all.message;
  Batch c = all.fill({0, 5});
  for (size_t r = 0; r < 2; ++r)
    for (size_t t = 1; t < 63; ++t)
      EXPECT_NE(c.at(c.labels, r, t), -100);
}

TEST(MaskedLm, RandomTokensAreNotSpecial) {
  Fixture f;
  Opened o;
  open(o, f,
       "train = " + q(f.write("a.txt", words(20000))) +
           "\nmax_length = 64\nmask_prob = 1.0");
  ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
  Batch b = o.fill(o.all());
  for (size_t i = 0; i < b.ids.size(); ++i)
    if (b.labels[i] != -100 && b.ids[i] != kMask) {
      ASSERT_GE(b.ids[i], kFirstWord);
      ASSERT_LT(b.ids[i], kFirstWord + kWords);
    }
}

TEST(MaskedLm, StaticAndDeterministic) {
  Fixture f;
  std::string file = f.write("a.txt", words(3000));
  Opened a, b, other, eval;
  open(a, f, "train = " + q(file) + "\nmax_length = 32");
  open(b, f, "train = " + q(file) + "\nmax_length = 32");
  open(other, f, "train = " + q(file) + "\nmax_length = 32", "train", 8);
  open(eval, f,
       "train = " + q(file) + "\neval = " + q(file) + "\nmax_length = 32",
       "eval");
  for (Opened *o : {&a, &b, &other, &eval})
    ASSERT_EQ(o->status, FTC_STATUS_OK) << o->message;
  // The same example gets the same mask whatever the batch and order.
  Batch x = a.fill({3, 9, 4});
  Batch y = a.fill({4, 3});
  Batch z = b.fill({3});
  for (size_t t = 0; t < x.L; ++t) {
    EXPECT_EQ(x.at(x.ids, 0, t), y.at(y.ids, 1, t));
    EXPECT_EQ(x.at(x.labels, 0, t), y.at(y.labels, 1, t));
    EXPECT_EQ(x.at(x.ids, 2, t), y.at(y.ids, 0, t));
    EXPECT_EQ(x.at(x.ids, 0, t), z.at(z.ids, 0, t));
    EXPECT_EQ(x.at(x.labels, 0, t), z.at(z.labels, 0, t));
  }
  // Another seed, or the eval split, masks differently.
  EXPECT_NE(a.fill(a.all()).labels, other.fill(other.all()).labels);
  EXPECT_NE(a.fill(a.all()).labels, eval.fill(eval.all()).labels);
}

TEST(MaskedLm, SeedKeyOverridesPipelineSeed) {
  Fixture f;
  std::string file = f.write("a.txt", words(3000));
  Opened a, b, c;
  open(a, f, "train = " + q(file) + "\nmax_length = 32\nseed = 11", "train", 1);
  open(b, f, "train = " + q(file) + "\nmax_length = 32\nseed = 11", "train", 2);
  open(c, f, "train = " + q(file) + "\nmax_length = 32", "train", 11);
  for (Opened *o : {&a, &b, &c})
    ASSERT_EQ(o->status, FTC_STATUS_OK) << o->message;
  Batch x = a.fill(a.all());
  EXPECT_EQ(x.labels, b.fill(b.all()).labels);
  EXPECT_EQ(x.ids, c.fill(c.all()).ids); // seed = 0: pipeline.seed
}

TEST(MaskedLm, Errors) {
  Fixture f;
  {
    Opened o;
    open(o, f, "train = " + q(f.dir.path("missing.txt")));
    EXPECT_EQ(o.status, FTC_STATUS_NOT_FOUND);
    EXPECT_NE(o.message.find("missing.txt: cannot open"), std::string::npos)
        << o.message;
    EXPECT_EQ(o.key, "train");
  }
  {
    Opened o;
    open(o, f, "train = " + q(f.write("a.txt", words(10))), "eval");
    EXPECT_EQ(o.status, FTC_STATUS_NOT_FOUND);
    EXPECT_EQ(o.key, "eval");
  }
  {
    Opened o;
    open(o, f, "");
    EXPECT_EQ(o.status, FTC_STATUS_NOT_FOUND);
    EXPECT_EQ(o.key, "train");
  }
  {
    Opened o;
    open(o, f, "train = " + q(f.dir.path("nothing-*.txt")));
    EXPECT_EQ(o.status, FTC_STATUS_NOT_FOUND);
    EXPECT_NE(o.message.find("matches no file"), std::string::npos)
        << o.message;
  }
  {
    std::filesystem::create_directory(f.dir.path("empty"));
    Opened o;
    open(o, f, "train = " + q(f.dir.path("empty")));
    EXPECT_EQ(o.status, FTC_STATUS_NOT_FOUND);
    EXPECT_NE(o.message.find("no .txt file"), std::string::npos) << o.message;
  }
  {
    Opened o;
    open(o, f, "train = " + q(f.write("blank.txt", "\n  \n\n")));
    EXPECT_EQ(o.status, FTC_STATUS_DATA_ERROR);
    EXPECT_NE(o.message.find("holds no text"), std::string::npos) << o.message;
  }
  {
    Opened o; // no tokenizer and no model.checkpoint
    open(o, f, "train = " + q(f.dir.path("a.txt")), "train", 7, "");
    EXPECT_EQ(o.status, FTC_STATUS_NOT_FOUND);
    EXPECT_EQ(o.key, "tokenizer");
  }
  {
    Opened o; // a vocabulary without [MASK]
    std::string vocab =
        f.write("nomask.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nw0\n");
    open(o, f, "train = " + q(f.dir.path("a.txt")), "train", 7, vocab);
    EXPECT_EQ(o.status, FTC_STATUS_INVALID_ARGUMENT);
    EXPECT_NE(o.message.find("[MASK]"), std::string::npos) << o.message;
  }
  {
    Opened o; // fill() outside the examples
    open(o, f, "train = " + q(f.dir.path("a.txt")));
    ASSERT_EQ(o.status, FTC_STATUS_OK) << o.message;
    int32_t buf[4][128];
    void *bufs[4] = {buf[0], buf[1], buf[2], buf[3]};
    int64_t idx = o.info.num_examples;
    plugin::ErrorBuffer err;
    EXPECT_EQ(plugin().fill(o.handle, &idx, 1, bufs, err.get()),
              FTC_STATUS_INVALID_ARGUMENT);
  }
}

TEST(MaskedLm, DupeFactorServesDifferentlyMaskedCopies) {
  Fixture f;
  std::string file = f.write("a.txt", words(3000));
  Opened once, thrice, eval;
  open(once, f, "train = " + q(file) + "\nmax_length = 32");
  open(thrice, f, "train = " + q(file) + "\nmax_length = 32\ndupe_factor = 3");
  open(eval, f,
       "train = " + q(file) + "\neval = " + q(file) +
           "\nmax_length = 32\ndupe_factor = 3",
       "eval");
  for (Opened *o : {&once, &thrice, &eval})
    ASSERT_EQ(o->status, FTC_STATUS_OK) << o->message;
  int64_t blocks = once.info.num_examples;
  ASSERT_GT(blocks, 2);
  EXPECT_EQ(thrice.info.num_examples, 3 * blocks);
  EXPECT_EQ(eval.info.num_examples, blocks); // eval is served once
  // Copy k of block i is example i + k * blocks: the same text, its own mask.
  Batch b = thrice.fill({1, 1 + blocks, 1 + 2 * blocks});
  Batch first = once.fill({1});
  size_t maskedDiffer = 0;
  for (size_t t = 0; t < b.L; ++t) {
    EXPECT_EQ(original(b, 0, t), original(first, 0, t));
    EXPECT_EQ(original(b, 1, t), original(b, 0, t));
    EXPECT_EQ(original(b, 2, t), original(b, 0, t));
    maskedDiffer += b.at(b.labels, 0, t) != b.at(b.labels, 1, t);
  }
  EXPECT_GT(maskedDiffer, 0u);
  // The first copy is exactly the undupped dataset.
  EXPECT_EQ(b.ids.size() / 3, first.ids.size());
  for (size_t t = 0; t < b.L; ++t)
    EXPECT_EQ(b.at(b.ids, 0, t), first.at(first.ids, 0, t));
}

TEST(MaskedLm, MaxPredictionsGathersTheMaskedTokens) {
  Fixture f;
  std::string file = f.write("a.txt", words(3000));
  Opened full, capped;
  open(full, f,
       "train = " + q(file) + "\nmax_length = 32\nmax_predictions = 30");
  open(capped, f,
       "train = " + q(file) +
           "\nmax_length = 32\nmax_predictions = 2\n"
           "mask_prob = 0.5");
  for (Opened *o : {&full, &capped})
    ASSERT_EQ(o->status, FTC_STATUS_OK) << o->message;
  ASSERT_EQ(full.info.num_features, 6u);
  EXPECT_STREQ(full.info.features[4].name, "masked_onehot");
  EXPECT_EQ(full.info.features[4].dtype, FTC_DTYPE_F32);
  EXPECT_EQ(full.info.features[4].shape[0], 30);
  EXPECT_EQ(full.info.features[4].shape[1], 32);
  EXPECT_STREQ(full.info.features[5].name, "masked_labels");

  for (Opened *o : {&full, &capped}) {
    size_t P = size_t(o->info.features[4].shape[0]), L = 32, n = 3;
    std::vector<int32_t> ids(n * L), types(n * L), mask(n * L), labels(n * L),
        picked(n * P);
    std::vector<float> onehot(n * P * L, -1.f);
    void *bufs[6] = {ids.data(),    types.data(),  mask.data(),
                     labels.data(), onehot.data(), picked.data()};
    std::vector<int64_t> idx{0, 1, 2};
    plugin::ErrorBuffer err;
    ASSERT_EQ(plugin().fill(o->handle, idx.data(), idx.size(), bufs, err.get()),
              FTC_STATUS_OK);
    for (size_t r = 0; r < n; ++r) {
      // Row k of the one-hot selects the k-th labelled token, in order.
      std::vector<size_t> positions;
      for (size_t t = 0; t < L; ++t)
        if (labels[r * L + t] != -100)
          positions.push_back(t);
      ASSERT_LE(positions.size(), P);
      ASSERT_GE(positions.size(), 1u);
      for (size_t k = 0; k < P; ++k) {
        float rowSum = 0;
        for (size_t t = 0; t < L; ++t)
          rowSum += onehot[(r * P + k) * L + t];
        if (k < positions.size()) {
          EXPECT_EQ(rowSum, 1.f);
          EXPECT_EQ(onehot[(r * P + k) * L + positions[k]], 1.f);
          EXPECT_EQ(picked[r * P + k], labels[r * L + positions[k]]);
        } else {
          EXPECT_EQ(rowSum, 0.f);
          EXPECT_EQ(picked[r * P + k], -100);
        }
      }
    }
    if (o == &capped) // mask_prob 0.5 over 30 tokens: the cap of 2 binds
      for (size_t r = 0; r < n; ++r)
        EXPECT_EQ(std::count_if(labels.begin() + long(r * L),
                                labels.begin() + long((r + 1) * L),
                                [](int32_t l) { return l != -100; }),
                  2);
  }
}

} // namespace
