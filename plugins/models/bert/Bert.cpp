//===- Bert.cpp - BERT with Hugging Face names and semantics
//---------------===//
// SPDX-License-Identifier: Apache-2.0
//
// The architecture of Hugging Face's BertModel (post-LayerNorm encoder, erf
// GELU, additive attention mask with the lowest f32) with the same parameter
// names, so a `transformers` checkpoint loads tensor by tensor and the
// fine-tuned result loads back into `transformers`.
//
// Sizes come from the checkpoint's config.json when `model.checkpoint` is
// set, else from this plugin's keys (a model trained from scratch). New
// parameters are initialised as BertPreTrainedModel._init_weights does.
//===----------------------------------------------------------------------===//
#include "ftc/plugin.hpp"
#include "ftc/plugin_host/HfConfig.h"

#include <cmath>
#include <string>

using namespace ftc::plugin;

namespace {

struct BertConfig {
  int64_t vocabSize = 30522, hiddenSize = 768, numLayers = 12, numHeads = 12,
          intermediateSize = 3072, maxPositions = 512, typeVocabSize = 2;
  double hiddenDropout = 0.1, attentionDropout = 0.1, layerNormEps = 1e-12,
         initializerRange = 0.02;
  std::string hiddenAct = "gelu";
};

class BertBuilder {
public:
  BertBuilder(Graph &g, const BertConfig &c, int64_t batch, int64_t seq)
      : g(g), c(c), batch(batch), seq(seq), headDim(c.hiddenSize / c.numHeads) {
  }

  Value weight(const std::string &name, std::vector<int64_t> shape,
               bool head = false) {
    return g.param(name, shape, Init::normal(0.0, c.initializerRange), head);
  }
  Value zeros(const std::string &name, std::vector<int64_t> shape,
              bool head = false) {
    return g.param(name, shape, Init::zeros(), head);
  }
  Value ones(const std::string &name, std::vector<int64_t> shape,
             bool head = false) {
    return g.param(name, shape, Init::ones(), head);
  }

  /// x[N, in] -> [N, out] with `<prefix>.weight` / `<prefix>.bias`.
  Value dense(Value x, const std::string &prefix, int64_t in, int64_t out,
              bool head = false) {
    Value w = weight(prefix + ".weight", {out, in}, head);
    Value b = zeros(prefix + ".bias", {out}, head);
    return g.linear(x, w, b);
  }

  Value layerNorm(Value x, const std::string &prefix, bool head = false) {
    Value gamma = ones(prefix + ".weight", {c.hiddenSize}, head);
    Value beta = zeros(prefix + ".bias", {c.hiddenSize}, head);
    return g.op1("layer_norm", {x, gamma, beta},
                 {Attr::f("eps", c.layerNormEps)});
  }

  Value dropout(Value x, double p) {
    if (p <= 0)
      return x;
    return g.op1("dropout", {x}, {Attr::f("p", p)});
  }

  Value activation(Value x) {
    if (c.hiddenAct == "gelu")
      return g.gelu(x);
    if (c.hiddenAct == "relu")
      return g.relu(x);
    throw Error(FTC_STATUS_INVALID_ARGUMENT,
                "hidden_act '" + c.hiddenAct +
                    "' is not supported (gelu, relu)",
                "hidden_act");
  }

  /// [B*S, H] -> [B, heads, S, head_dim]
  Value splitHeads(Value x) {
    Value r = g.reshape(x, {batch, seq, c.numHeads, headDim});
    return g.op1("transpose", {r}, {Attr::ints("perm", {0, 2, 1, 3})});
  }

  Value embeddings(Value ids, Value typeIds) {
    const std::string p = "bert.embeddings.";
    Value words = g.op1("embedding", {weight(p + "word_embeddings.weight",
                                             {c.vocabSize, c.hiddenSize}),
                                      ids});
    Value positions = g.op1(
        "iota", {}, {Attr::ints("shape", {batch, seq}), Attr::i("axis", 1)});
    Value pos = g.op1("embedding", {weight(p + "position_embeddings.weight",
                                           {c.maxPositions, c.hiddenSize}),
                                    positions});
    Value types = g.op1("embedding", {weight(p + "token_type_embeddings.weight",
                                             {c.typeVocabSize, c.hiddenSize}),
                                      typeIds});
    Value sum = g.op1("add", {g.op1("add", {words, types}), pos});
    Value flat = g.reshape(sum, {batch * seq, c.hiddenSize});
    return dropout(layerNorm(flat, p + "LayerNorm"), c.hiddenDropout);
  }

  Value encoderLayer(Value x, Value mask, int64_t i) {
    const std::string p = "bert.encoder.layer." + std::to_string(i) + ".";
    const std::string a = p + "attention.";
    int64_t h = c.hiddenSize;
    Value q = splitHeads(dense(x, a + "self.query", h, h));
    Value k = splitHeads(dense(x, a + "self.key", h, h));
    Value v = splitHeads(dense(x, a + "self.value", h, h));
    Value scores = g.op1("batch_matmul", {q, k}, {Attr::i("transpose_rhs", 1)});
    std::vector<Value> softmaxArgs{scores};
    if (mask >= 0)
      softmaxArgs.push_back(mask);
    Value probs = g.op1("masked_softmax", softmaxArgs,
                        {Attr::f("scale", 1.0 / std::sqrt(double(headDim)))});
    probs = dropout(probs, c.attentionDropout);
    Value context = g.op1("batch_matmul", {probs, v});
    context = g.op1("transpose", {context}, {Attr::ints("perm", {0, 2, 1, 3})});
    context = g.reshape(context, {batch * seq, h});
    Value attn =
        dropout(dense(context, a + "output.dense", h, h), c.hiddenDropout);
    Value h1 = layerNorm(g.op1("add", {attn, x}), a + "output.LayerNorm");
    Value inter =
        activation(dense(h1, p + "intermediate.dense", h, c.intermediateSize));
    Value out = dropout(dense(inter, p + "output.dense", c.intermediateSize, h),
                        c.hiddenDropout);
    return layerNorm(g.op1("add", {out, h1}), p + "output.LayerNorm");
  }

private:
  Graph &g;

public:
  const BertConfig &c;
  const int64_t batch, seq, headDim;
};

/// The family's layers: `encoder.layer.<i>` blocks, the embeddings before
/// them, the pooler and heads in none.
int64_t bertLayerOf(const char *name) {
  if (int64_t i = indexAfter(name, "layer"); i >= 0)
    return i;
  return hasComponent(name, "embeddings") ? FTC_LAYER_BEFORE : FTC_LAYER_NONE;
}

const char *bertArchitecture(const char *task) {
  std::string_view t = task ? task : "";
  if (t == "masked-lm")
    return "BertForMaskedLM";
  if (t == "token-classification")
    return "BertForTokenClassification";
  return "BertForSequenceClassification";
}

struct Bert {
  static constexpr const char *kName = "bert";
  static constexpr const char *kVersion = "1.3.0";
  // Task models hold the encoder as "bert.*", a BertModel checkpoint as "*".
  static constexpr const char *kBaseModelPrefix = "bert";
  static constexpr ftc_family_info_t kFamily = {
      &bertLayerOf, &bertArchitecture, "BertTokenizer",
      nullptr,      "query,value",     {}};
  static constexpr const char *kDescription =
      "BERT encoder (Hugging Face names): sequence-classification, "
      "masked-lm, token-classification";
  // Architecture keys: a key set in the spec wins; otherwise the value comes
  // from the checkpoint's config.json, else from BERT-base (these defaults).
  static constexpr ftc_key_decl_t kKeys[] = {
      intKey("vocab_size", nullptr, 1, 10000000,
             "vocabulary size (BERT-base: 30522)"),
      intKey("hidden_size", nullptr, 1, 65536, "hidden width (768)"),
      intKey("num_hidden_layers", nullptr, 0, 1000, "encoder layers (12)"),
      intKey("num_attention_heads", nullptr, 1, 1024, "attention heads (12)"),
      intKey("intermediate_size", nullptr, 1, 1000000,
             "feed-forward width (3072)"),
      intKey("max_position_embeddings", nullptr, 1, 1000000,
             "position embedding rows (512)"),
      intKey("type_vocab_size", nullptr, 1, 1024,
             "token type embedding rows (2)"),
      floatKey("hidden_dropout_prob", nullptr, 0, 0.99,
               "dropout after dense layers (0.1)"),
      floatKey("attention_probs_dropout_prob", nullptr, 0, 0.99,
               "dropout on attention probabilities (0.1)"),
      floatKey("classifier_dropout", nullptr, 0, 0.99,
               "dropout before the classifier (hidden_dropout_prob)"),
      floatKey("layer_norm_eps", nullptr, 1e-30, 1,
               "LayerNorm epsilon (1e-12)"),
      floatKey("initializer_range", nullptr, 0, 10,
               "std of the normal init of new weights (0.02)"),
  };

  /// The spec's keys over the checkpoint's config.json over BERT-base.
  static BertConfig configFrom(const Config &config,
                               const ModelContext &context) {
    HfConfig hf(config, context, "bert");
    if (hf.json().contains("position_embedding_type") &&
        hf.json()["position_embedding_type"] != "absolute")
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  hf.configPath() +
                      ": only absolute position embeddings are supported",
                  "checkpoint");
    BertConfig c;
    hf.size("vocab_size", c.vocabSize);
    hf.size("hidden_size", c.hiddenSize);
    hf.size("num_hidden_layers", c.numLayers);
    hf.size("num_attention_heads", c.numHeads);
    hf.size("intermediate_size", c.intermediateSize);
    hf.size("max_position_embeddings", c.maxPositions);
    hf.size("type_vocab_size", c.typeVocabSize);
    hf.setting("hidden_dropout_prob", c.hiddenDropout);
    hf.setting("attention_probs_dropout_prob", c.attentionDropout);
    hf.setting("layer_norm_eps", c.layerNormEps);
    hf.setting("initializer_range", c.initializerRange);
    hf.setting("hidden_act", c.hiddenAct);
    return c;
  }

  static void build(const Config &config, const ModelContext &context,
                    Graph &graph) {
    BertConfig c = configFrom(config, context);
    if (c.hiddenSize % c.numHeads != 0)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "hidden_size " + std::to_string(c.hiddenSize) +
                      " is not a multiple of num_attention_heads " +
                      std::to_string(c.numHeads),
                  "num_attention_heads");
    std::string task =
        config.findString("task").value_or("sequence-classification");
    if (task != "sequence-classification" && task != "masked-lm" &&
        task != "token-classification")
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "task '" + task +
                      "' is not one of sequence-classification, masked-lm, "
                      "token-classification",
                  "task");

    const ftc_feature_desc_t *ids = context.findFeature("input_ids");
    if (!ids || ids->dtype != FTC_DTYPE_I32 || ids->rank != 1)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "bert needs an I32 'input_ids' feature of shape [seq_len]");
    int64_t seq = ids->shape[0], batch = context.batchSize();
    if (seq > c.maxPositions)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "sequences of " + std::to_string(seq) +
                      " tokens exceed max_position_embeddings = " +
                      std::to_string(c.maxPositions),
                  "max_position_embeddings");
    if (!context.findFeature("token_type_ids"))
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "bert needs a 'token_type_ids' feature");

    BertBuilder b(graph, c, batch, seq);
    Value mask = context.findFeature("attention_mask")
                     ? graph.input("attention_mask")
                     : Value(-1);
    Value h =
        b.embeddings(graph.input("input_ids"), graph.input("token_type_ids"));
    for (int64_t i = 0; i < c.numLayers; ++i)
      h = b.encoderLayer(h, mask, i);

    int64_t hid = c.hiddenSize;
    double classifierDropout =
        config.findFloat("classifier_dropout").value_or(c.hiddenDropout);
    if (task == "sequence-classification") {
      const char *label = context.labelFeature();
      if (!label || context.numLabels() < 2)
        throw Error(FTC_STATUS_INVALID_ARGUMENT,
                    "sequence-classification needs a label feature and "
                    "num_labels >= 2",
                    "num_labels");
      Value cls = graph.op1("select", {graph.reshape(h, {batch, seq, hid})},
                            {Attr::i("axis", 1), Attr::i("index", 0)});
      Value pooled =
          graph.op1("tanh", {b.dense(cls, "bert.pooler.dense", hid, hid)});
      pooled = b.dropout(pooled, classifierDropout);
      Value logits =
          b.dense(pooled, "classifier", hid, context.numLabels(), true);
      graph.output("loss",
                   graph.softmaxCrossEntropy(logits, graph.input(label)));
      graph.output("logits", logits);
      return;
    }
    const ftc_feature_desc_t *labels = context.findFeature("labels");
    if (!labels || labels->dtype != FTC_DTYPE_I32 || labels->rank != 1 ||
        labels->shape[0] != seq)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  task + " needs an I32 'labels' feature of shape [" +
                      std::to_string(seq) + "] (-100 = ignored)");
    Value tokenLabels = graph.reshape(graph.input("labels"), {batch * seq});
    Value logits;
    if (task == "masked-lm") {
      const std::string p = "cls.predictions.";
      // With the dataset's masked_onehot [P, seq], the head runs on the P
      // masked tokens of each example only: their hidden states gathered by
      // one batched matmul. The loss is the same (it counts only masked
      // tokens); logits are then [batch * P, vocab].
      const ftc_feature_desc_t *onehot = context.findFeature("masked_onehot");
      if (onehot) {
        const ftc_feature_desc_t *picked = context.findFeature("masked_labels");
        if (onehot->dtype != FTC_DTYPE_F32 || onehot->rank != 2 ||
            onehot->shape[1] != seq || !picked ||
            picked->dtype != FTC_DTYPE_I32 || picked->rank != 1 ||
            picked->shape[0] != onehot->shape[0])
          throw Error(FTC_STATUS_INVALID_ARGUMENT,
                      "masked_onehot must be F32 [P, " + std::to_string(seq) +
                          "] with an I32 masked_labels [P]");
        int64_t pred = onehot->shape[0];
        h = graph.reshape(graph.op1("batch_matmul",
                                    {graph.input("masked_onehot"),
                                     graph.reshape(h, {batch, seq, hid})},
                                    {Attr::i("transpose_lhs", 0),
                                     Attr::i("transpose_rhs", 0)}),
                          {batch * pred, hid});
        tokenLabels =
            graph.reshape(graph.input("masked_labels"), {batch * pred});
      }
      Value t = b.activation(b.dense(h, p + "transform.dense", hid, hid, true));
      t = b.layerNorm(t, p + "transform.LayerNorm", true);
      // The decoder is tied to the word embeddings, as in Hugging Face.
      Value decoder = b.weight("bert.embeddings.word_embeddings.weight",
                               {c.vocabSize, hid});
      Value bias = b.zeros(p + "bias", {c.vocabSize}, true);
      logits = graph.linear(t, decoder, bias);
    } else {
      if (context.numLabels() < 2)
        throw Error(FTC_STATUS_INVALID_ARGUMENT,
                    "token-classification needs num_labels >= 2", "num_labels");
      logits = b.dense(b.dropout(h, classifierDropout), "classifier", hid,
                       context.numLabels(), true);
    }
    Value loss = graph.op1("softmax_cross_entropy", {logits, tokenLabels},
                           {Attr::i("ignore_index", -100)});
    graph.output("loss", loss);
    graph.output("logits", logits);
  }
};

} // namespace

FTC_DEFINE_MODEL_PLUGIN(Bert)
