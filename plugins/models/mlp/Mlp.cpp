//===- Mlp.cpp - A multi-layer perceptron classifier model plugin ---------===//
// SPDX-License-Identifier: Apache-2.0
//
// The reference model plugin and the smallest thing that trains: the first
// non-label feature, flattened, through `hidden_sizes` linear + activation
// layers and a classifier head, with softmax cross-entropy on the label.
// Parameters are named and initialised like a PyTorch nn.Sequential of
// nn.Linear, so `layers.0.weight` means the same thing in both.
//
//===----------------------------------------------------------------------===//
#include "ftc/plugin.hpp"

#include <cmath>
#include <string>

using namespace ftc::plugin;

namespace {

/// nn.Linear's default init: weight and bias ~ U(-1/sqrt(fan_in), +...).
ftc_init_t linearInit(int64_t fanIn) {
  double bound = 1.0 / std::sqrt(static_cast<double>(fanIn));
  return Init::uniform(-bound, bound);
}

/// Hidden layers `layers.<i>` are the blocks; the classifier is in none.
int64_t mlpLayerOf(const char *name) {
  int64_t i = indexAfter(name, "layers");
  return i >= 0 ? i : FTC_LAYER_NONE;
}

struct Mlp {
  static constexpr const char *kName = "mlp";
  static constexpr const char *kVersion = "1.1.0";
  static constexpr ftc_family_info_t kFamily = {&mlpLayerOf, nullptr, nullptr,
                                                nullptr,     nullptr, {}};
  static constexpr const char *kDescription =
      "multi-layer perceptron classifier over one flattened F32 feature";
  static constexpr ftc_key_decl_t kKeys[] = {
      intArrayKey("hidden_sizes", "[256]", 1, 1000000,
                  "widths of the hidden layers, input side first; [] gives "
                  "a linear classifier"),
      stringKey("activation", "\"relu\"", "relu|gelu",
                "activation after each hidden layer"),
  };

  static void build(const Config &config, const ModelContext &context,
                    Graph &graph) {
    std::vector<int64_t> hidden = config.getInts("hidden_sizes");
    std::string activation = config.getString("activation");
    for (size_t i = 0; i < hidden.size(); ++i)
      if (hidden[i] < 1 || hidden[i] > 1000000)
        throw Error(FTC_STATUS_INVALID_ARGUMENT,
                    "hidden_sizes[" + std::to_string(i) + "] = " +
                        std::to_string(hidden[i]) + " is outside [1, 1000000]",
                    "hidden_sizes");
    if (activation != "relu" && activation != "gelu")
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "activation '" + activation + "' is not one of relu, gelu",
                  "activation");

    const char *label = context.labelFeature();
    if (!label)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "the mlp model is a classifier, but the dataset has no "
                  "label feature",
                  "num_labels");
    if (context.numLabels() < 2)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "the mlp model needs num_labels >= 2, got " +
                      std::to_string(context.numLabels()),
                  "num_labels");

    const ftc_feature_desc_t *feature = context.inputFeature();
    if (!feature)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  std::string("the dataset has no input feature besides the "
                              "label '") +
                      label + "'");
    if (feature->dtype != FTC_DTYPE_F32)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  std::string("the mlp model needs an F32 input, but "
                              "feature '") +
                      feature->name + "' is not F32");

    int64_t width = 1;
    for (uint32_t i = 0; i < feature->rank; ++i)
      width *= feature->shape[i];

    Value x = graph.input(feature->name);
    if (feature->rank != 1)
      x = graph.reshape(x, {graph.dim(x, 0), width});

    for (size_t i = 0; i < hidden.size(); ++i) {
      std::string prefix = "layers." + std::to_string(i) + ".";
      Value w =
          graph.param(prefix + "weight", {hidden[i], width}, linearInit(width));
      Value b = graph.param(prefix + "bias", {hidden[i]}, linearInit(width));
      x = graph.linear(x, w, b);
      x = activation == "gelu" ? graph.gelu(x) : graph.relu(x);
      width = hidden[i];
    }

    Value logits = graph.classifier(x, "classifier", context.numLabels());
    Value loss = graph.softmaxCrossEntropy(logits, graph.input(label));
    graph.output("loss", loss);
    graph.output("logits", logits);
  }
};

} // namespace

FTC_DEFINE_MODEL_PLUGIN(Mlp)
