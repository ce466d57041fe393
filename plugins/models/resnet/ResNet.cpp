//===- ResNet.cpp - torchvision's ResNet as a model plugin ----------------===//
// SPDX-License-Identifier: Apache-2.0
//
// ResNet-18/34 (basic blocks) and ResNet-50 (bottlenecks, stride on the 3x3
// convolution: torchvision's "v1.5"), with torchvision's parameter names
// (`conv1`, `bn1`, `layer1.0.conv1`, `layer1.0.downsample.0`, `fc`) and
// initialisation (convolutions Kaiming-normal over fan-out, batch norms 1
// and 0, the classifier nn.Linear's default), so a torchvision state dict
// loads as it is and the same weights give the same logits. The classifier
// has model.num_labels outputs. Blocks for freeze_below are the four stages
// (`layer1` = 0 ... `layer4` = 3); the stem comes before them.
//
//===----------------------------------------------------------------------===//
#include "ftc/plugin.hpp"

#include <cmath>
#include <string>

using namespace ftc::plugin;

namespace {

/// kaiming_normal_(mode="fan_out", nonlinearity="relu") of a conv weight.
ftc_init_t convInit(int64_t out, int64_t kh, int64_t kw) {
  return Init::normal(0.0, std::sqrt(2.0 / double(out * kh * kw)));
}

/// Stage `layer<k>` is block k - 1; the stem is before every block.
int64_t resnetLayerOf(const char *name) {
  std::string_view n(name);
  if (n.rfind("layer", 0) == 0 && n.size() > 5 && n[5] >= '1' && n[5] <= '9')
    return int64_t(n[5] - '1');
  if (n.rfind("conv1.", 0) == 0 || n.rfind("bn1.", 0) == 0)
    return FTC_LAYER_BEFORE;
  return FTC_LAYER_NONE;
}

class Builder {
public:
  Builder(Graph &graph, double eps, double momentum)
      : g(graph), eps(eps), momentum(momentum) {}

  /// A bias-free convolution `name` then batch norm `bn`, as torchvision's
  /// blocks have them.
  Value convBn(Value x, const std::string &conv, const std::string &bn,
               int64_t out, int64_t k, int64_t stride, int64_t pad) {
    int64_t in = g.dim(x, 1);
    Value w = g.param(conv + ".weight", {out, in, k, k}, convInit(out, k, k));
    Graph::Window win;
    win.stride = {stride, stride};
    win.padding = {pad, pad};
    return g.batchNorm(g.conv2d(x, w, win), bn, eps, momentum);
  }

  Value basic(Value x, const std::string &p, int64_t planes, int64_t stride) {
    Value y = g.relu(convBn(x, p + "conv1", p + "bn1", planes, 3, stride, 1));
    y = convBn(y, p + "conv2", p + "bn2", planes, 3, 1, 1);
    return g.relu(g.add(y, shortcut(x, p, planes, stride)));
  }

  Value bottleneck(Value x, const std::string &p, int64_t planes,
                   int64_t stride) {
    Value y = g.relu(convBn(x, p + "conv1", p + "bn1", planes, 1, 1, 0));
    y = g.relu(convBn(y, p + "conv2", p + "bn2", planes, 3, stride, 1));
    y = convBn(y, p + "conv3", p + "bn3", planes * 4, 1, 1, 0);
    return g.relu(g.add(y, shortcut(x, p, planes * 4, stride)));
  }

private:
  /// The identity, or `downsample` (1x1 convolution + batch norm) where
  /// the shape changes.
  Value shortcut(Value x, const std::string &p, int64_t out, int64_t stride) {
    if (stride == 1 && g.dim(x, 1) == out)
      return x;
    return convBn(x, p + "downsample.0", p + "downsample.1", out, 1, stride, 0);
  }

  Graph &g;
  double eps, momentum;
};

struct ResNet {
  static constexpr const char *kName = "resnet";
  static constexpr const char *kVersion = "1.0.0";
  static constexpr ftc_family_info_t kFamily = {
      &resnetLayerOf, nullptr, nullptr, nullptr, nullptr, {}};
  static constexpr const char *kDescription =
      "torchvision's ResNet-18/34/50 image classifier over an NCHW image";
  static constexpr ftc_key_decl_t kKeys[] = {
      stringKey("variant", "\"resnet18\"", "resnet18|resnet34|resnet50",
                "resnet18 and resnet34 use basic blocks, resnet50 "
                "bottlenecks"),
      intArrayKey("layers", "[]", 1, 64,
                  "blocks per stage, four numbers, instead of the variant's "
                  "([2, 2, 2, 2] for resnet18): [1, 1, 1, 1] is a small "
                  "ResNet with the same parts"),
      intKey("in_channels", "0", 0, 64,
             "input channels; 0 = the image feature's (a [H, W] image has "
             "one)"),
      stringKey("stem", "\"imagenet\"", "imagenet|small",
                "imagenet: 7x7 stride-2 convolution and 3x3 max pooling; "
                "small: one 3x3 stride-1 convolution (for 28- or 32-pixel "
                "images, as is usual on CIFAR)"),
      floatKey("bn_eps", "1e-5", 1e-12, 1.0, "batch norm eps"),
      floatKey("bn_momentum", "0.1", 0.0, 1.0,
               "batch norm running-statistics momentum (PyTorch's)"),
  };

  static void build(const Config &config, const ModelContext &context,
                    Graph &graph) {
    std::string variant = config.getString("variant");
    bool bottleneck = variant == "resnet50";
    std::vector<int64_t> layers = config.getInts("layers");
    if (layers.empty())
      layers = variant == "resnet18" ? std::vector<int64_t>{2, 2, 2, 2}
                                     : std::vector<int64_t>{3, 4, 6, 3};
    if (layers.size() != 4)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "layers must list the blocks of the four stages, got " +
                      std::to_string(layers.size()) + " numbers",
                  "layers");
    const char *label = context.labelFeature();
    if (!label || context.numLabels() < 2)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "resnet is a classifier: the dataset needs a label feature "
                  "and model.num_labels >= 2",
                  "num_labels");

    const ftc_feature_desc_t *image = context.inputFeature();
    if (!image || image->dtype != FTC_DTYPE_F32 ||
        (image->rank != 2 && image->rank != 3))
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "resnet needs an F32 image feature [C, H, W] or [H, W]");
    int64_t channels = image->rank == 3 ? image->shape[0] : 1;
    int64_t declared = config.getInt("in_channels");
    if (declared && declared != channels)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "in_channels = " + std::to_string(declared) +
                      ", but the dataset's images have " +
                      std::to_string(channels) +
                      " (its `channels` key converts grey and RGB)",
                  "in_channels");

    Value x = graph.input(image->name);
    if (image->rank == 2)
      x = graph.reshape(x,
                        {graph.dim(x, 0), 1, image->shape[0], image->shape[1]});

    Builder b(graph, config.getFloat("bn_eps"), config.getFloat("bn_momentum"));
    if (config.getString("stem") == "small") {
      x = graph.relu(b.convBn(x, "conv1", "bn1", 64, 3, 1, 1));
    } else {
      x = graph.relu(b.convBn(x, "conv1", "bn1", 64, 7, 2, 3));
      Graph::Window pool;
      pool.stride = {2, 2};
      pool.padding = {1, 1};
      x = graph.maxPool2d(x, {3, 3}, pool);
    }
    for (int64_t stage = 0; stage < 4; ++stage) {
      int64_t planes = 64 << stage;
      for (int64_t i = 0; i < layers[size_t(stage)]; ++i) {
        std::string prefix =
            "layer" + std::to_string(stage + 1) + "." + std::to_string(i) + ".";
        int64_t stride = stage > 0 && i == 0 ? 2 : 1;
        x = bottleneck ? b.bottleneck(x, prefix, planes, stride)
                       : b.basic(x, prefix, planes, stride);
      }
    }
    x = graph.reduceMean(x, {2, 3}); // adaptive average pooling to 1x1

    Value logits = graph.classifier(x, "fc", context.numLabels());
    graph.output("loss", graph.softmaxCrossEntropy(logits, graph.input(label)));
    graph.output("logits", logits);
  }
};

} // namespace

FTC_DEFINE_MODEL_PLUGIN(ResNet)
