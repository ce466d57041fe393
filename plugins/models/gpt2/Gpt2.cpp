//===- Gpt2.cpp - GPT-2 with Hugging Face names and semantics -------------===//
// SPDX-License-Identifier: Apache-2.0
//
// The architecture of Hugging Face's GPT2Model (pre-LayerNorm decoder,
// learned positions, causal attention, `gelu_new`) with the same parameter
// names, so a `transformers` checkpoint loads tensor by tensor and the
// result loads back. GPT-2's Conv1D weights are stored [in, out]; the graph
// uses them as `linear` weights [out, in] and the family's stored_layout
// makes the host transpose them once at load and save, never per step.
//
// Tasks: causal-lm (GPT2LMHeadModel: the head tied to the token embeddings,
// the dataset's labels already shifted) and sequence-classification
// (GPT2ForSequenceClassification: `score` on the last real token).
//===----------------------------------------------------------------------===//
#include "ftc/plugin.hpp"
#include "ftc/plugin_host/HfConfig.h"

#include <cmath>
#include <string>

using namespace ftc::plugin;

namespace {

struct Gpt2Config {
  int64_t vocabSize = 50257, nPositions = 1024, nEmbd = 768, nLayer = 12,
          nHead = 12, nInner = 0; // 0: 4 · n_embd
  double residPdrop = 0.1, embdPdrop = 0.1, attnPdrop = 0.1,
         layerNormEpsilon = 1e-5, initializerRange = 0.02;
  std::string activation = "gelu_new";
  int64_t inner() const { return nInner > 0 ? nInner : 4 * nEmbd; }
};

class Gpt2Builder {
public:
  Gpt2Builder(Graph &g, const Gpt2Config &c, int64_t batch, int64_t seq)
      : g(g), c(c), batch(batch), seq(seq), headDim(c.nEmbd / c.nHead) {}

  Value normal(const std::string &name, std::vector<int64_t> shape, double std,
               bool head = false) {
    return g.param(name, shape, Init::normal(0.0, std), head);
  }
  Value zeros(const std::string &name, std::vector<int64_t> shape) {
    return g.param(name, shape, Init::zeros());
  }

  /// A Conv1D `<prefix>` as a linear layer: weight [out, in] in the graph
  /// ([in, out] in checkpoints), bias [out]. GPT2PreTrainedModel's init:
  /// normal(0.02), the residual projections (c_proj) scaled by
  /// 1/sqrt(2 · n_layer).
  Value conv1d(Value x, const std::string &prefix, int64_t in, int64_t out,
               bool residual = false) {
    double std = c.initializerRange;
    if (residual)
      std /= std::sqrt(2.0 * double(c.nLayer));
    Value w = normal(prefix + ".weight", {out, in}, std);
    return g.linear(x, w, zeros(prefix + ".bias", {out}));
  }

  Value layerNorm(Value x, const std::string &prefix) {
    Value gamma = g.param(prefix + ".weight", {c.nEmbd}, Init::ones());
    Value beta = zeros(prefix + ".bias", {c.nEmbd});
    return g.op1("layer_norm", {x, gamma, beta},
                 {Attr::f("eps", c.layerNormEpsilon)});
  }

  Value dropout(Value x, double p) {
    return p > 0 ? g.op1("dropout", {x}, {Attr::f("p", p)}) : x;
  }

  Value activation(Value x) {
    if (c.activation == "gelu_new" || c.activation == "gelu_pytorch_tanh")
      return g.op1("gelu", {x}, {Attr::str("approximate", "tanh")});
    if (c.activation == "gelu")
      return g.gelu(x);
    if (c.activation == "relu")
      return g.relu(x);
    throw Error(FTC_STATUS_INVALID_ARGUMENT,
                "activation_function '" + c.activation +
                    "' is not supported (gelu_new, gelu_pytorch_tanh, gelu, "
                    "relu)",
                "activation_function");
  }

  Value tokenEmbeddings() {
    return normal("transformer.wte.weight", {c.vocabSize, c.nEmbd},
                  c.initializerRange);
  }

  Value embeddings(Value ids) {
    Value words = g.op1("embedding", {tokenEmbeddings(), ids});
    Value positions = g.op1(
        "iota", {}, {Attr::ints("shape", {batch, seq}), Attr::i("axis", 1)});
    Value pos =
        g.op1("embedding", {normal("transformer.wpe.weight",
                                   {c.nPositions, c.nEmbd}, c.initializerRange),
                            positions});
    Value sum = g.reshape(g.op1("add", {words, pos}), {batch * seq, c.nEmbd});
    return dropout(sum, c.embdPdrop);
  }

  /// [B*S, H] -> [B, heads, S, head_dim]
  Value splitHeads(Value x) {
    Value r = g.reshape(x, {batch, seq, c.nHead, headDim});
    return g.op1("transpose", {r}, {Attr::ints("perm", {0, 2, 1, 3})});
  }

  Value attention(Value x, Value mask, const std::string &p) {
    int64_t h = c.nEmbd;
    Value qkv = conv1d(x, p + "c_attn", h, 3 * h);
    auto part = [&](int64_t i) {
      return splitHeads(g.op1(
          "slice", {qkv},
          {Attr::i("axis", 1), Attr::i("start", i * h), Attr::i("size", h)}));
    };
    Value q = part(0), k = part(1), v = part(2);
    Value scores = g.op1("batch_matmul", {q, k}, {Attr::i("transpose_rhs", 1)});
    std::vector<Value> softmaxArgs{scores};
    if (mask >= 0)
      softmaxArgs.push_back(mask);
    Value probs = g.op1("masked_softmax", softmaxArgs,
                        {Attr::f("scale", 1.0 / std::sqrt(double(headDim))),
                         Attr::i("causal", 1)});
    probs = dropout(probs, c.attnPdrop);
    Value context = g.op1("batch_matmul", {probs, v});
    context = g.op1("transpose", {context}, {Attr::ints("perm", {0, 2, 1, 3})});
    context = g.reshape(context, {batch * seq, h});
    return dropout(conv1d(context, p + "c_proj", h, h, true), c.residPdrop);
  }

  Value block(Value x, Value mask, int64_t i) {
    const std::string p = "transformer.h." + std::to_string(i) + ".";
    Value a = attention(layerNorm(x, p + "ln_1"), mask, p + "attn.");
    Value h1 = g.op1("add", {a, x});
    Value inner = activation(
        conv1d(layerNorm(h1, p + "ln_2"), p + "mlp.c_fc", c.nEmbd, c.inner()));
    Value m = dropout(conv1d(inner, p + "mlp.c_proj", c.inner(), c.nEmbd, true),
                      c.residPdrop);
    return g.op1("add", {m, h1});
  }

  /// [B*S, H] -> [B, H]: each example's hidden state at its last real token
  /// (the last position whose attention_mask is 1; right padding), as
  /// GPT2ForSequenceClassification picks the token before the first pad.
  Value lastToken(Value h, Value mask) {
    Value keep = g.op1("compare", {mask, g.fill(0, {1, 1}, FTC_DTYPE_I32)},
                       {Attr::str("predicate", "ne")});
    Value real = g.op1("where", {keep, g.fill(1, {1, 1}), g.fill(0, {1, 1})});
    // next[b, s] = real[b, s + 1] (0 past the end): real - next is 1 only
    // at the last real token.
    Value next = g.op1("concat",
                       {g.op1("slice", {real},
                              {Attr::i("axis", 1), Attr::i("start", 1),
                               Attr::i("size", seq - 1)}),
                        g.fill(0, {batch, 1})},
                       {Attr::i("axis", 1)});
    Value onehot = g.reshape(g.op1("sub", {real, next}), {batch, 1, seq});
    Value picked =
        g.op1("batch_matmul", {onehot, g.reshape(h, {batch, seq, c.nEmbd})});
    return g.reshape(picked, {batch, c.nEmbd});
  }

private:
  Graph &g;

public:
  const Gpt2Config &c;
  const int64_t batch, seq, headDim;
};

/// `transformer.h.<i>` blocks; the embeddings before them; ln_f and the
/// heads in none.
int64_t gpt2LayerOf(const char *name) {
  if (int64_t i = indexAfter(name, "h"); i >= 0)
    return i;
  return hasComponent(name, "wte") || hasComponent(name, "wpe")
             ? FTC_LAYER_BEFORE
             : FTC_LAYER_NONE;
}

/// Conv1D weights: stored [in, out].
int32_t gpt2StoredLayout(const char *name) {
  std::string_view n = name;
  for (std::string_view conv :
       {".c_attn.weight", ".c_proj.weight", ".c_fc.weight"})
    if (n.size() > conv.size() && n.substr(n.size() - conv.size()) == conv)
      return FTC_LAYOUT_TRANSPOSED;
  return FTC_LAYOUT_AS_IS;
}

const char *gpt2Architecture(const char *task) {
  std::string_view t = task ? task : "";
  return t == "sequence-classification" ? "GPT2ForSequenceClassification"
                                        : "GPT2LMHeadModel";
}

struct Gpt2 {
  static constexpr const char *kName = "gpt2";
  static constexpr const char *kVersion = "1.0.0";
  // Task models hold the decoder as "transformer.*", GPT2Model as "*".
  static constexpr const char *kBaseModelPrefix = "transformer";
  static constexpr ftc_family_info_t kFamily = {
      &gpt2LayerOf,      &gpt2Architecture, "GPT2Tokenizer",
      &gpt2StoredLayout, "c_attn",          {}};
  static constexpr const char *kDescription =
      "GPT-2 decoder (Hugging Face names): causal-lm, sequence-classification";
  // Hugging Face's GPT2Config names: a key set in the spec wins; otherwise
  // the checkpoint's config.json, else GPT-2 small (these defaults).
  static constexpr ftc_key_decl_t kKeys[] = {
      intKey("vocab_size", nullptr, 1, 10000000,
             "vocabulary size (GPT-2: 50257)"),
      intKey("n_positions", nullptr, 1, 1000000, "position embeddings (1024)"),
      intKey("n_embd", nullptr, 1, 65536, "hidden width (768)"),
      intKey("n_layer", nullptr, 0, 1000, "decoder blocks (12)"),
      intKey("n_head", nullptr, 1, 1024, "attention heads (12)"),
      intKey("n_inner", nullptr, 1, 1000000, "feed-forward width (4 * n_embd)"),
      floatKey("resid_pdrop", nullptr, 0, 0.99,
               "dropout after attention and MLP (0.1)"),
      floatKey("embd_pdrop", nullptr, 0, 0.99, "dropout on embeddings (0.1)"),
      floatKey("attn_pdrop", nullptr, 0, 0.99,
               "dropout on attention probabilities (0.1)"),
      floatKey("layer_norm_epsilon", nullptr, 1e-30, 1,
               "LayerNorm epsilon (1e-5)"),
      floatKey("initializer_range", nullptr, 0, 10,
               "std of the normal init of new weights (0.02)"),
      stringKey("activation_function", nullptr,
                "gelu_new|gelu_pytorch_tanh|gelu|relu",
                "MLP activation (gelu_new)"),
      intKey("pad_token_id", nullptr, 0, 10000000,
             "written to config.json (sequence-classification in "
             "transformers needs it; ftc pads by attention_mask)"),
  };

  /// The spec's keys over the checkpoint's config.json over GPT-2 small.
  static Gpt2Config configFrom(const Config &config,
                               const ModelContext &context) {
    HfConfig hf(config, context, "gpt2");
    // Variants of the attention that this graph does not build.
    const nlohmann::json &j = hf.json();
    auto refuse = [&](const char *key, bool ok) {
      if (j.contains(key) && !ok)
        throw Error(FTC_STATUS_INVALID_ARGUMENT,
                    hf.configPath() + ": " + key + " = " + j[key].dump() +
                        " is not supported",
                    "checkpoint");
    };
    refuse("scale_attn_weights", j.value("scale_attn_weights", true));
    refuse("scale_attn_by_inverse_layer_idx",
           !j.value("scale_attn_by_inverse_layer_idx", false));
    refuse("reorder_and_upcast_attn",
           !j.value("reorder_and_upcast_attn", false));
    refuse("add_cross_attention", !j.value("add_cross_attention", false));
    Gpt2Config c;
    hf.size("vocab_size", c.vocabSize);
    hf.size("n_positions", c.nPositions);
    hf.size("n_embd", c.nEmbd);
    hf.size("n_layer", c.nLayer);
    hf.size("n_head", c.nHead);
    hf.size("n_inner", c.nInner);
    hf.setting("resid_pdrop", c.residPdrop);
    hf.setting("embd_pdrop", c.embdPdrop);
    hf.setting("attn_pdrop", c.attnPdrop);
    hf.setting("layer_norm_epsilon", c.layerNormEpsilon);
    hf.setting("initializer_range", c.initializerRange);
    hf.setting("activation_function", c.activation);
    return c;
  }

  static void build(const Config &config, const ModelContext &context,
                    Graph &graph) {
    Gpt2Config c = configFrom(config, context);
    if (c.nEmbd % c.nHead != 0)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "n_embd " + std::to_string(c.nEmbd) +
                      " is not a multiple of n_head " + std::to_string(c.nHead),
                  "n_head");
    std::string task = config.findString("task").value_or("causal-lm");
    if (task != "causal-lm" && task != "sequence-classification")
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "task '" + task +
                      "' is not one of causal-lm, sequence-classification",
                  "task");
    const ftc_feature_desc_t *ids = context.findFeature("input_ids");
    if (!ids || ids->dtype != FTC_DTYPE_I32 || ids->rank != 1)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "gpt2 needs an I32 'input_ids' feature of shape [seq_len]");
    int64_t seq = ids->shape[0], batch = context.batchSize();
    if (seq > c.nPositions)
      throw Error(
          FTC_STATUS_INVALID_ARGUMENT,
          "sequences of " + std::to_string(seq) +
              " tokens exceed n_positions = " + std::to_string(c.nPositions),
          "n_positions");
    const ftc_feature_desc_t *maskFeature =
        context.findFeature("attention_mask");
    if (maskFeature && (maskFeature->dtype != FTC_DTYPE_I32 ||
                        maskFeature->rank != 1 || maskFeature->shape[0] != seq))
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "attention_mask must be I32 [" + std::to_string(seq) + "]");

    Gpt2Builder b(graph, c, batch, seq);
    Value mask = maskFeature ? graph.input("attention_mask") : Value(-1);
    Value h = b.embeddings(graph.input("input_ids"));
    for (int64_t i = 0; i < c.nLayer; ++i)
      h = b.block(h, mask, i);
    h = b.layerNorm(h, "transformer.ln_f");

    if (task == "sequence-classification") {
      const char *label = context.labelFeature();
      if (!label || context.numLabels() < 2)
        throw Error(FTC_STATUS_INVALID_ARGUMENT,
                    "sequence-classification needs a label feature and "
                    "num_labels >= 2",
                    "num_labels");
      if (mask < 0)
        throw Error(FTC_STATUS_INVALID_ARGUMENT,
                    "sequence-classification needs an 'attention_mask' "
                    "feature (it finds each example's last token)");
      // score has no bias, so scoring the picked token equals picking the
      // scored one (Hugging Face scores every token, then picks).
      Value pooled = b.lastToken(h, mask);
      Value score = b.normal("score.weight", {context.numLabels(), c.nEmbd},
                             c.initializerRange, /*head=*/true);
      Value logits = graph.op1("linear", {pooled, score});
      graph.output("loss",
                   graph.softmaxCrossEntropy(logits, graph.input(label)));
      graph.output("logits", logits);
      return;
    }
    const ftc_feature_desc_t *labels = context.findFeature("labels");
    if (!labels || labels->dtype != FTC_DTYPE_I32 || labels->rank != 1 ||
        labels->shape[0] != seq)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "causal-lm needs an I32 'labels' feature of shape [" +
                      std::to_string(seq) +
                      "]: the next token at each position, -100 where there "
                      "is none (the causal-lm dataset)");
    // The head is tied to the token embeddings, as in GPT2LMHeadModel.
    Value logits = graph.op1("linear", {h, b.tokenEmbeddings()});
    Value tokenLabels = graph.reshape(graph.input("labels"), {batch * seq});
    graph.output("loss",
                 graph.op1("softmax_cross_entropy", {logits, tokenLabels},
                           {Attr::i("ignore_index", -100)}));
    graph.output("logits", logits);
  }
};

} // namespace

FTC_DEFINE_MODEL_PLUGIN(Gpt2)
