//===- MaskedLm.cpp - Masked-language-model pretraining dataset -----------===//
// SPDX-License-Identifier: Apache-2.0
//
// Reads plain text (a file, a directory of .txt files or a glob such as
// "data/{corpus/*.txt,extra.txt}"), tokenizes it line by line with BERT
// WordPiece (ftc::text::WordPiece) at open(), concatenates the token ids of
// all files in order and cuts them into blocks of max_length - 2 tokens, each
// served as `[CLS] block [SEP]` (the last block padded). Features, all I32
// [max_length]: input_ids (masked), token_type_ids (zeros), attention_mask
// (1 for real tokens) and labels (the original id at masked positions, -100
// elsewhere); no label feature.
//
// Masking is BERT's: each real token other than [CLS]/[SEP] is chosen with
// probability mask_prob; a chosen token becomes [MASK] (80%), a random
// vocabulary token (10%) or stays unchanged (10%). A block with no chosen
// token gets one, so every block has a loss term. The choice is a pure
// function of (seed, example index): static masking, so an example has the
// same mask in every epoch and every run with the same seed.
//
//===----------------------------------------------------------------------===//
#include "ftc/plugin.hpp"
#include "ftc/plugin_host/SpecTokenizer.h"
#include "ftc/plugin_host/TextSources.h"
#include "ftc/plugin_host/WordPiece.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace ftc::plugin;

namespace {

constexpr int32_t kIgnore = -100;

/// SplitMix64: a small, fast, well-mixed generator; one stream per example.
struct SplitMix64 {
  uint64_t state;
  explicit SplitMix64(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1) with 53 bits.
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  /// Uniform in [0, n), n > 0 (the modulo bias is below 2^-40 for n < 2^24).
  uint64_t below(uint64_t n) { return next() % n; }
};

/// An error about the files that spec key `key` names.
[[noreturn]] void fail(ftc_status_t status, const std::string &message,
                       const char *key) {
  throw Error(status, message, key);
}

/// Appends the ids of every line of `text` to `ids`.
void tokenizeLines(const ftc::text::WordPiece &wp, const std::string &text,
                   std::vector<int32_t> &ids) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string::npos ? text.size() : nl;
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    if (line.find_first_not_of(" \t\r\f\v") == std::string_view::npos)
      continue;
    std::vector<int32_t> lineIds = wp.encodeIds(line);
    ids.insert(ids.end(), lineIds.begin(), lineIds.end());
  }
}

class MaskedLmDataset : public Dataset {
public:
  MaskedLmDataset(std::vector<int32_t> tokens, int64_t maxLength,
                  double maskProb, uint64_t seed, int32_t vocabSize,
                  int32_t cls, int32_t sep, int32_t pad, int32_t mask,
                  std::vector<int32_t> special, int64_t dupeFactor,
                  int64_t maxPredictions)
      : ids(std::move(tokens)), maxLen(maxLength), prob(maskProb), seed(seed),
        maxPred(maxPredictions), vocab(vocabSize), cls(cls), sep(sep), pad(pad),
        maskId(mask), specialIds(std::move(special)) {
    addFeature("input_ids", FTC_DTYPE_I32, {maxLen});
    addFeature("token_type_ids", FTC_DTYPE_I32, {maxLen});
    addFeature("attention_mask", FTC_DTYPE_I32, {maxLen});
    addFeature("labels", FTC_DTYPE_I32, {maxLen});
    if (maxPred > 0) {
      // The masked positions as a [P, L] one-hot selection (a model gathers
      // its hidden states with one batched matmul) and their labels.
      addFeature("masked_onehot", FTC_DTYPE_F32, {maxPred, maxLen});
      addFeature("masked_labels", FTC_DTYPE_I32, {maxPred});
    }
    size_t block = size_t(maxLen - 2);
    numBlocks = int64_t((ids.size() + block - 1) / block);
    // dupe_factor copies of every block, each masked with its own stream.
    setNumExamples(numBlocks * dupeFactor);
    std::sort(specialIds.begin(), specialIds.end());
  }

  /// The data report's facts: a block's tokens are its input (each of the
  /// dupe_factor copies hashed apart, as they are masked apart), its
  /// length the tokens with [CLS] and [SEP]; packing truncates nothing.
  bool describe(ftc_split_facts_t &out) override {
    size_t block = size_t(maxLen - 2);
    facts.resize(size_t(numExamples()));
    for (size_t i = 0; i < facts.size(); ++i) {
      size_t b = i % size_t(numBlocks), begin = b * block;
      size_t n = std::min(block, ids.size() - begin);
      uint64_t copy = i / size_t(numBlocks);
      uint64_t h = hashBytes(
          std::string_view(reinterpret_cast<const char *>(ids.data() + begin),
                           n * sizeof(int32_t)),
          hashBytes(std::string_view(reinterpret_cast<const char *>(&copy),
                                     sizeof(copy))));
      ftc_example_facts_t &f = facts[i];
      f.hash = f.normalized_hash = h;
      f.record = int64_t(i) + 1;
      f.length = int64_t(n) + 2;
      f.unknown =
          unk < 0 ? -1
                  : int64_t(std::count(ids.begin() + int64_t(begin),
                                       ids.begin() + int64_t(begin + n), unk));
    }
    out.source = source.c_str();
    out.record_unit = "block";
    out.length_unit = "tokens";
    out.max_length = 0;
    out.examples = facts.data();
    return true;
  }

  std::string source; // the spec's train/eval value, for the report
  int32_t unk = -1;

  void fill(const int64_t *indices, size_t count,
            void *const *buffers) override {
    auto *inputs = static_cast<int32_t *>(buffers[0]);
    auto *types = static_cast<int32_t *>(buffers[1]);
    auto *attention = static_cast<int32_t *>(buffers[2]);
    auto *labels = static_cast<int32_t *>(buffers[3]);
    size_t L = size_t(maxLen), P = size_t(maxPred);
    for (size_t i = 0; i < count; ++i) {
      fillOne(indices[i], inputs + i * L, types + i * L, attention + i * L,
              labels + i * L);
      if (!P)
        continue;
      float *onehot = static_cast<float *>(buffers[4]) + i * P * L;
      int32_t *picked = static_cast<int32_t *>(buffers[5]) + i * P;
      std::fill(onehot, onehot + P * L, 0.f);
      std::fill(picked, picked + P, kIgnore);
      size_t k = 0;
      for (size_t t = 0; t < L && k < P; ++t)
        if (labels[i * L + t] != kIgnore) {
          onehot[k * L + t] = 1.f;
          picked[k++] = labels[i * L + t];
        }
    }
  }

  /// One example: [CLS] block [SEP] [PAD]..., masked.
  void fillOne(int64_t index, int32_t *row, int32_t *types, int32_t *attention,
               int32_t *labels) const {
    size_t L = size_t(maxLen), block = L - 2;
    size_t begin = size_t(index % numBlocks) * block;
    size_t n = std::min(block, ids.size() - begin); // tokens of the block
    row[0] = cls;
    std::copy(ids.begin() + begin, ids.begin() + begin + n, row + 1);
    row[n + 1] = sep;
    std::fill(row + n + 2, row + L, pad);
    std::fill(types, types + L, 0);
    std::fill(attention, attention + n + 2, 1);
    std::fill(attention + n + 2, attention + L, 0);
    std::fill(labels, labels + L, kIgnore);

    // The stream of this example: a function of (seed, index) only.
    SplitMix64 rng(seed * 0xD1B54A32D192ED03ull ^ uint64_t(index));
    rng.next();
    // With max_predictions, at most that many tokens are chosen (as BERT's
    // max_predictions_per_seq): later draws past the cap mask nothing.
    size_t chosen = 0, cap = maxPred > 0 ? size_t(maxPred) : n;
    for (size_t t = 1; t <= n; ++t)
      if (rng.uniform() < prob && chosen < cap) {
        mask(rng, row, labels, t);
        ++chosen;
      }
    if (chosen == 0 && n > 0)
      mask(rng, row, labels, 1 + size_t(rng.below(n)));
  }

private:
  void mask(SplitMix64 &rng, int32_t *row, int32_t *labels, size_t t) const {
    labels[t] = row[t];
    double r = rng.uniform();
    if (r < 0.8)
      row[t] = maskId;
    else if (r < 0.9)
      row[t] = randomToken(rng);
    // else: unchanged
  }
  /// A uniform vocabulary id other than the special tokens.
  int32_t randomToken(SplitMix64 &rng) const {
    for (;;) {
      int32_t id = int32_t(rng.below(uint64_t(vocab)));
      if (!std::binary_search(specialIds.begin(), specialIds.end(), id))
        return id;
    }
  }

  std::vector<int32_t> ids;
  int64_t maxLen;
  double prob;
  uint64_t seed;
  int64_t maxPred = 0;
  int64_t numBlocks = 0;
  int32_t vocab, cls, sep, pad, maskId;
  std::vector<int32_t> specialIds;
  std::vector<ftc_example_facts_t> facts;
};

struct MaskedLm {
  static constexpr const char *kName = "masked-lm";
  static constexpr const char *kVersion = "1.0.0";
  static constexpr const char *kDescription =
      "plain text for BERT masked-LM pretraining: WordPiece, packed into "
      "blocks, statically masked (80/10/10)";
  static constexpr ftc_key_decl_t kKeys[] = {
      stringKey("tokenizer", nullptr, nullptr,
                "vocab.txt, tokenizer.json, or a directory holding one "
                "(tokenizer.json first); default: model.checkpoint"),
      intKey("max_length", "128", 8, 4096,
             "tokens per example, [CLS] and [SEP] included: the text is cut "
             "into blocks of max_length - 2 tokens"),
      floatKey("mask_prob", "0.15", 1e-6, 1,
               "probability that a token is chosen for prediction (then 80% "
               "[MASK], 10% random token, 10% unchanged)"),
      intKey("seed", "0", 0, 9.2e18,
             "masking seed; 0 = pipeline.seed. The mask of an example is a "
             "function of (seed, example index): static masking"),
      boolKey("lowercase", "true",
              "lower-case and strip accents (uncased models); applies to a "
              "vocab.txt, a tokenizer.json carries its own setting"),
      intKey("max_predictions", "0", 0, 4096,
             "at most this many masked tokens per example, also served as "
             "masked_onehot [P, max_length] and masked_labels [P] so that a "
             "model computes its prediction head on those tokens only (BERT's "
             "max_predictions_per_seq); 0 = off"),
      intKey("dupe_factor", "1", 1, 1000,
             "the training text is served this many times per epoch, each "
             "copy masked differently (BERT's dupe_factor): more distinct "
             "masks for small corpora; the eval split is served once"),
  };

  static std::unique_ptr<Dataset> open(const Config &config,
                                       const std::string &split) {
    const char *key = splitKey(split);
    int64_t dupeFactor = split == "train" ? config.getInt("dupe_factor") : 1;
    int64_t maxPredictions = config.getInt("max_predictions");
    if (maxPredictions < 0 || maxPredictions > 4096)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "max_predictions = " + std::to_string(maxPredictions) +
                      " is outside [0, 4096]",
                  "max_predictions");
    if (dupeFactor < 1 || dupeFactor > 1000)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "dupe_factor = " + std::to_string(dupeFactor) +
                      " is outside [1, 1000]",
                  "dupe_factor");
    std::optional<std::string> source = config.findString(key);
    if (!source || source->empty())
      throw Error(FTC_STATUS_NOT_FOUND,
                  std::string("the masked-lm dataset needs '") + key +
                      "': a text file, a directory of .txt files or a glob",
                  key);
    int64_t maxLength = config.getInt("max_length");
    if (maxLength < 8 || maxLength > 4096)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "max_length = " + std::to_string(maxLength) +
                      " is outside [8, 4096]",
                  "max_length");
    double maskProb = config.getFloat("mask_prob");
    if (!(maskProb > 0 && maskProb <= 1))
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "mask_prob = " + std::to_string(maskProb) +
                      " is outside (0, 1]",
                  "mask_prob");
    int64_t seed = config.getInt("seed");
    if (seed == 0)
      seed = config.findInt("pipeline.seed").value_or(0);
    // The eval split masks with its own stream, so that a file used for
    // both splits is not masked identically.
    uint64_t splitSeed = uint64_t(seed) * 2 + (split == "eval" ? 1 : 0);

    ftc::text::WordPiece wp = loadSpecTokenizer(config, "masked-lm");
    int32_t maskId = wp.tokenId(wp.options().maskToken);
    if (wp.clsId() < 0 || wp.sepId() < 0 || wp.padId() < 0 || maskId < 0)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "the vocabulary lacks [CLS], [SEP], [PAD] or [MASK]",
                  "tokenizer");
    std::vector<int32_t> special = {wp.clsId(), wp.sepId(), wp.padId(), maskId};
    if (wp.unkId() >= 0)
      special.push_back(wp.unkId());
    if (wp.vocabSize() <= special.size())
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "the vocabulary holds only special tokens", "tokenizer");

    std::vector<int32_t> ids;
    for (const std::string &file : expandSource(*source, key, {".txt"}))
      tokenizeLines(wp, readSourceFile(file, key), ids);
    if (ids.empty())
      fail(FTC_STATUS_DATA_ERROR, *source + ": holds no text", key);
    auto ds = std::make_unique<MaskedLmDataset>(
        std::move(ids), maxLength, maskProb, splitSeed, int32_t(wp.vocabSize()),
        wp.clsId(), wp.sepId(), wp.padId(), maskId, std::move(special),
        dupeFactor, maxPredictions);
    ds->source = *source;
    ds->unk = wp.unkId();
    return ds;
  }
};

} // namespace

FTC_DEFINE_DATASET_PLUGIN(MaskedLm)
