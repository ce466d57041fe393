//===- Generate.cpp - ftc generate: sampling text from a causal LM --------===//
// SPDX-License-Identifier: Apache-2.0
//
// Compiles the job with one example per batch, loads a saved model and
// extends a prompt token by token: each new token reruns predict_step over
// the last block_size tokens (the plan has no key/value cache) and draws
// from the logits at the last position, greedily or by temperature and
// top-k from a seeded generator of its own (so a seed gives the same text on
// every platform). The prompt is encoded and the result decoded with the
// byte-level BPE of the spec's dataset.tokenizer.
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "PlanCache.h"
#include "TrainerSetup.h"

#include "ftc/plugin_host/ByteLevelBpe.h"
#include "ftc/runtime/Backend.h"
#include "ftc/runtime/Error.h"
#include "ftc/runtime/Trainer.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <numeric>

using namespace ftc;
using namespace ftc::tool;

namespace {

/// SplitMix64: a tiny generator whose output is fixed by its seed alone.
class SeededUniform {
public:
  explicit SeededUniform(uint64_t seed) : state(seed) {}
  /// A double in [0, 1) from 53 random bits.
  double next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return double(z >> 11) * 0x1.0p-53;
  }

private:
  uint64_t state;
};

/// The next token from one row of logits.
int32_t sample(const float *logits, int64_t vocab,
               const GenerateOptions &options, SeededUniform &random) {
  if (options.temperature <= 0)
    return int32_t(std::max_element(logits, logits + vocab) - logits);
  std::vector<int32_t> order(static_cast<size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  // Highest first; ties by id, so the draw does not depend on the sort.
  auto higher = [&](int32_t a, int32_t b) {
    return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
  };
  int64_t k = options.topK > 0 ? std::min(options.topK, vocab) : vocab;
  std::partial_sort(order.begin(), order.begin() + k, order.end(), higher);
  std::vector<double> weight(static_cast<size_t>(k));
  double top = logits[order[0]], sum = 0;
  for (int64_t i = 0; i < k; ++i)
    sum += weight[size_t(i)] = std::exp(
        (double(logits[order[size_t(i)]]) - top) / options.temperature);
  double u = random.next() * sum;
  for (int64_t i = 0; i < k; ++i) {
    u -= weight[size_t(i)];
    if (u < 0)
      return order[size_t(i)];
  }
  return order[size_t(k - 1)];
}

} // namespace

int tool::runGenerate(JobArgs args, const CommandOptions &opts) {
  return guarded([&] {
    // One sequence at a time: a batch of one.
    args.overrides.push_back("train.batch_size=1");
    std::unique_ptr<Job> job = Job::load(args, /*openData=*/true);
    if (!job)
      return int(kUserError);
    const spec::Spec &s = job->spec();
    if (!s.has("model.task") || s.getString("model.task") != "causal-lm")
      throw rt::Error("ftc generate needs a causal-lm model (model.task = "
                      "\"causal-lm\")");
    if (!s.has("dataset.tokenizer"))
      throw rt::Error("ftc generate encodes the prompt with the spec's "
                      "dataset.tokenizer, which is not set");
    text::ByteLevelBpe tokenizer =
        text::ByteLevelBpe::fromPath(s.getString("dataset.tokenizer"));
    rt::TrainerOptions options = savedModelOptions(*job, *opts.checkpoint);

    SavedModel model;
    if (!loadSavedModel(*job, options, model))
      return int(kUserError);
    const plan::Plan &p = *model.plan;
    rt::Backend *backend = model.backend.get();
    const plan::Program *predict = p.findProgram(plan::programs::kPredict);
    if (!predict || !predict->outputs.count("logits") ||
        !p.featureInputs.count("input_ids"))
      throw rt::Error("the compiled model has no input_ids and logits");
    int32_t idsBuf = p.featureInputs.at("input_ids"),
            logitsBuf = predict->outputs.at("logits");
    int64_t block = p.buffers[size_t(idsBuf)].numElements();
    int64_t vocab = p.buffers[size_t(logitsBuf)].shape.at(1);
    if (p.buffers[size_t(logitsBuf)].shape.at(0) != block)
      throw rt::Error("the model's logits are not one row per position");

    std::vector<int32_t> ids = tokenizer.encode(opts.prompt);
    if (ids.empty())
      ids.push_back(tokenizer.eosId().value_or(0));
    std::optional<int32_t> eos = tokenizer.eosId();
    // Every other feature the model reads (labels, masks) is zero, but the
    // mask that marks the real tokens.
    std::vector<std::vector<int32_t>> zeros;
    for (auto &[name, id] : p.featureInputs)
      if (name != "input_ids") {
        zeros.emplace_back(size_t(p.buffers[size_t(id)].numElements()), 0);
        backend->write(id, zeros.back().data());
      }
    auto maskIt = p.featureInputs.find("attention_mask");
    SeededUniform random(opts.seed);
    std::vector<float> logits(size_t(block * vocab));
    size_t promptTokens = ids.size();
    for (int64_t n = 0; n < opts.generate.maxNewTokens; ++n) {
      size_t start = ids.size() > size_t(block) ? ids.size() - block : 0;
      std::vector<int32_t> window(size_t(block), eos.value_or(0)),
          mask(size_t(block), 0);
      std::copy(ids.begin() + long(start), ids.end(), window.begin());
      std::fill(mask.begin(), mask.begin() + long(ids.size() - start), 1);
      backend->write(idsBuf, window.data());
      if (maskIt != p.featureInputs.end())
        backend->write(maskIt->second, mask.data());
      backend->run(plan::programs::kPredict);
      backend->read(logitsBuf, logits.data());
      int64_t last = int64_t(ids.size() - start) - 1;
      int32_t next =
          sample(logits.data() + last * vocab, vocab, opts.generate, random);
      if (eos && next == *eos)
        break;
      ids.push_back(next);
    }
    std::cout << tokenizer.decode(ids) << "\n";
    std::cerr << "generated " << ids.size() - promptTokens << " tokens after "
              << promptTokens << " of prompt\n";
    return int(kOk);
  });
}
