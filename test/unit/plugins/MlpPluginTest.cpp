//===- MlpPluginTest.cpp - The mlp plugin through a fake graph builder ----===//
// SPDX-License-Identifier: Apache-2.0
#include "TestSupport.h"

#include "ftc/plugin_host/ErrorBuffer.h"

#include <cmath>
#include <map>

using namespace ftc;

namespace {

/// Records what a model plugin builds and tracks shapes like the real one.
struct FakeBuilder {
  struct Param {
    std::string name;
    std::vector<int64_t> shape;
    ftc_init_t init;
    uint32_t flags;
  };
  struct Op {
    std::string name;
    std::vector<int32_t> operands;
    std::map<std::string, std::vector<int64_t>> intsAttrs;
    int32_t result;
  };

  int64_t batch = 8;
  std::vector<ftc_feature_desc_t> features;
  std::vector<std::vector<int64_t>> shapes; // by value id
  std::vector<Param> params;
  std::vector<Op> ops;
  std::map<std::string, int32_t> outputs;
  std::string error;
  std::string failOp; // an op name to refuse, to test error propagation

  ftc_graph_builder_t table() {
    ftc_graph_builder_t t{};
    t.ctx = this;
    t.input = [](void *c, const char *f) { return self(c).input(f); };
    t.param = [](void *c, const char *n, uint32_t dtype, uint32_t rank,
                 const int64_t *shape, ftc_init_t init, uint32_t flags) {
      EXPECT_EQ(dtype, uint32_t(FTC_DTYPE_F32));
      FakeBuilder &b = self(c);
      b.params.push_back({n, {shape, shape + rank}, init, flags});
      return b.add(b.params.back().shape);
    };
    t.op = [](void *c, const char *n, const int32_t *operands, size_t num,
              const ftc_attr_t *attrs, size_t numAttrs, int32_t *results,
              size_t maxResults) {
      return self(c).op(n, {operands, operands + num}, attrs, numAttrs, results,
                        maxResults);
    };
    t.output = [](void *c, const char *role, int32_t v) {
      self(c).outputs[role] = v;
      return int32_t(0);
    };
    t.rank = [](void *c, int32_t v) {
      return uint32_t(self(c).shapes.at(v).size());
    };
    t.dim = [](void *c, int32_t v, uint32_t axis) {
      return self(c).shapes.at(v).at(axis);
    };
    t.last_error = [](void *c) { return self(c).error.c_str(); };
    return t;
  }

  static FakeBuilder &self(void *c) { return *static_cast<FakeBuilder *>(c); }

  int32_t add(std::vector<int64_t> shape) {
    shapes.push_back(std::move(shape));
    return int32_t(shapes.size() - 1);
  }

  int32_t input(const std::string &name) {
    for (const ftc_feature_desc_t &f : features)
      if (name == f.name) {
        std::vector<int64_t> s{batch};
        s.insert(s.end(), f.shape, f.shape + f.rank);
        return add(s);
      }
    error = "no feature '" + name + "'";
    return -1;
  }

  int32_t op(const std::string &name, std::vector<int32_t> operands,
             const ftc_attr_t *attrs, size_t numAttrs, int32_t *results,
             size_t maxResults) {
    if (name == failOp) {
      error = "op '" + name + "': shape mismatch";
      return -1;
    }
    Op rec{name, operands, {}, -1};
    for (size_t i = 0; i < numAttrs; ++i)
      if (attrs[i].kind == FTC_ATTR_INTS)
        rec.intsAttrs[attrs[i].name] = {attrs[i].ints,
                                        attrs[i].ints + attrs[i].num_ints};
    std::vector<int64_t> shape;
    if (name == "linear") {
      EXPECT_EQ(operands.size(), 3u);
      const auto &x = shapes.at(operands[0]), &w = shapes.at(operands[1]);
      EXPECT_EQ(x.size(), 2u);
      EXPECT_EQ(x.back(), w.at(1)) << "linear in-features mismatch";
      EXPECT_EQ(shapes.at(operands[2]), std::vector<int64_t>{w.at(0)});
      shape = {x.at(0), w.at(0)};
    } else if (name == "relu" || name == "gelu") {
      shape = shapes.at(operands.at(0));
    } else if (name == "reshape") {
      shape = rec.intsAttrs.at("shape");
    } else if (name == "softmax_cross_entropy") {
      EXPECT_EQ(shapes.at(operands.at(1)), std::vector<int64_t>{batch});
      shape = {};
    } else {
      error = "unknown op '" + name + "'";
      return -1;
    }
    EXPECT_GE(maxResults, 1u);
    rec.result = results[0] = add(shape);
    ops.push_back(rec);
    return 1;
  }
};

ftc_feature_desc_t feature(const char *name, ftc_dtype_t dtype,
                           std::vector<int64_t> shape) {
  ftc_feature_desc_t f{};
  f.name = name;
  f.dtype = dtype;
  f.rank = uint32_t(shape.size());
  for (size_t i = 0; i < shape.size(); ++i)
    f.shape[i] = shape[i];
  return f;
}

struct BuildResult {
  ftc_status_t status;
  std::string message;
  std::string key;
};

BuildResult build(FakeBuilder &fb, const std::string &modelToml,
                  int64_t numLabels, const char *label = "label") {
  const plugin::LoadedPlugin *mlp =
      test::builtinRegistry().find(FTC_PLUGIN_KIND_MODEL, "mlp");
  EXPECT_NE(mlp, nullptr);
  if (!mlp)
    return {FTC_STATUS_INTERNAL, "no mlp", ""};
  auto root =
      test::resolvedSpec("[model]\nfamily = \"mlp\"\n" + modelToml, "model",
                         mlp->model->keys, mlp->model->num_keys);
  plugin::TomlConfig config(root, "model");
  ftc_model_context_t ctx{};
  ctx.batch_size = fb.batch;
  ctx.features = fb.features.data();
  ctx.num_features = fb.features.size();
  ctx.label_feature = label;
  ctx.num_labels = numLabels;
  ftc_graph_builder_t table = fb.table();
  plugin::ErrorBuffer err;
  ftc_status_t s = mlp->model->build(config.config(), &ctx, &table, err.get());
  return {s, s == FTC_STATUS_OK ? "" : err.message(),
          err.key() ? err.key() : ""};
}

void expectLinearInit(const FakeBuilder::Param &p, int64_t fanIn) {
  double bound = 1.0 / std::sqrt(double(fanIn));
  EXPECT_EQ(p.init.kind, uint32_t(FTC_INIT_UNIFORM)) << p.name;
  EXPECT_DOUBLE_EQ(p.init.a, -bound) << p.name;
  EXPECT_DOUBLE_EQ(p.init.b, bound) << p.name;
}

TEST(MlpPlugin, DeclaresItsKeys) {
  const plugin::LoadedPlugin *mlp =
      test::builtinRegistry().find(FTC_PLUGIN_KIND_MODEL, "mlp");
  ASSERT_NE(mlp, nullptr);
  const ftc_key_decl_t *k = mlp->model->keys;
  ASSERT_EQ(mlp->model->num_keys, 2u);
  EXPECT_STREQ(k[0].name, "hidden_sizes");
  EXPECT_EQ(k[0].type, uint32_t(FTC_KEY_INT_ARRAY));
  EXPECT_STREQ(k[0].default_toml, "[256]");
  EXPECT_EQ(k[0].min, 1);
  EXPECT_EQ(k[0].max, 1000000);
  EXPECT_STREQ(k[1].name, "activation");
  EXPECT_EQ(k[1].type, uint32_t(FTC_KEY_STRING));
  EXPECT_STREQ(k[1].default_toml, "\"relu\"");
  EXPECT_STREQ(k[1].choices, "relu|gelu");
}

TEST(MlpPlugin, DefaultsOnImages) {
  FakeBuilder fb;
  fb.features = {feature("image", FTC_DTYPE_F32, {28, 28}),
                 feature("label", FTC_DTYPE_I32, {})};
  BuildResult r = build(fb, "", 10);
  ASSERT_EQ(r.status, FTC_STATUS_OK) << r.message;

  std::vector<std::string> opNames;
  for (const auto &op : fb.ops)
    opNames.push_back(op.name);
  EXPECT_EQ(opNames,
            (std::vector<std::string>{"reshape", "linear", "relu", "linear",
                                      "softmax_cross_entropy"}));
  EXPECT_EQ(fb.ops[0].intsAttrs.at("shape"), (std::vector<int64_t>{8, 784}));

  ASSERT_EQ(fb.params.size(), 4u);
  EXPECT_EQ(fb.params[0].name, "layers.0.weight");
  EXPECT_EQ(fb.params[0].shape, (std::vector<int64_t>{256, 784}));
  EXPECT_EQ(fb.params[0].flags, 0u);
  expectLinearInit(fb.params[0], 784);
  EXPECT_EQ(fb.params[1].name, "layers.0.bias");
  EXPECT_EQ(fb.params[1].shape, (std::vector<int64_t>{256}));
  expectLinearInit(fb.params[1], 784);
  EXPECT_EQ(fb.params[2].name, "classifier.weight");
  EXPECT_EQ(fb.params[2].shape, (std::vector<int64_t>{10, 256}));
  EXPECT_EQ(fb.params[2].flags, uint32_t(FTC_PARAM_HEAD));
  expectLinearInit(fb.params[2], 256);
  EXPECT_EQ(fb.params[3].name, "classifier.bias");
  EXPECT_EQ(fb.params[3].flags, uint32_t(FTC_PARAM_HEAD));
  expectLinearInit(fb.params[3], 256);

  // The loss is softmax_cross_entropy(logits, label); logits is the last
  // linear.
  ASSERT_EQ(fb.outputs.count("loss"), 1u);
  ASSERT_EQ(fb.outputs.count("logits"), 1u);
  EXPECT_EQ(fb.outputs["loss"], fb.ops[4].result);
  EXPECT_EQ(fb.outputs["logits"], fb.ops[3].result);
  EXPECT_EQ(fb.ops[4].operands[0], fb.ops[3].result);
  EXPECT_EQ(fb.shapes[fb.outputs["logits"]], (std::vector<int64_t>{8, 10}));
}

TEST(MlpPlugin, HiddenSizesAndGelu) {
  FakeBuilder fb;
  fb.batch = 4;
  // The label first: the input is the first non-label feature.
  fb.features = {feature("label", FTC_DTYPE_I32, {}),
                 feature("x", FTC_DTYPE_F32, {5})};
  BuildResult r =
      build(fb, "hidden_sizes = [7, 3]\nactivation = \"gelu\"\n", 2);
  ASSERT_EQ(r.status, FTC_STATUS_OK) << r.message;
  std::vector<std::string> opNames;
  for (const auto &op : fb.ops)
    opNames.push_back(op.name);
  // Rank 1: no reshape.
  EXPECT_EQ(opNames,
            (std::vector<std::string>{"linear", "gelu", "linear", "gelu",
                                      "linear", "softmax_cross_entropy"}));
  ASSERT_EQ(fb.params.size(), 6u);
  EXPECT_EQ(fb.params[0].shape, (std::vector<int64_t>{7, 5}));
  expectLinearInit(fb.params[0], 5);
  EXPECT_EQ(fb.params[2].name, "layers.1.weight");
  EXPECT_EQ(fb.params[2].shape, (std::vector<int64_t>{3, 7}));
  expectLinearInit(fb.params[3], 7);
  EXPECT_EQ(fb.params[4].shape, (std::vector<int64_t>{2, 3}));
  expectLinearInit(fb.params[4], 3);
}

TEST(MlpPlugin, NoHiddenLayers) {
  FakeBuilder fb;
  fb.features = {feature("image", FTC_DTYPE_F32, {2, 3, 4}),
                 feature("label", FTC_DTYPE_I32, {})};
  BuildResult r = build(fb, "hidden_sizes = []\n", 3);
  ASSERT_EQ(r.status, FTC_STATUS_OK) << r.message;
  ASSERT_EQ(fb.params.size(), 2u);
  EXPECT_EQ(fb.params[0].shape, (std::vector<int64_t>{3, 24}));
  EXPECT_EQ(fb.ops[0].intsAttrs.at("shape"), (std::vector<int64_t>{8, 24}));
}

TEST(MlpPlugin, NeedsLabels) {
  FakeBuilder fb;
  fb.features = {feature("image", FTC_DTYPE_F32, {4}),
                 feature("label", FTC_DTYPE_I32, {})};
  BuildResult r = build(fb, "", 1);
  EXPECT_EQ(r.status, FTC_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(r.key, "num_labels");
  EXPECT_NE(r.message.find("num_labels >= 2, got 1"), std::string::npos)
      << r.message;

  FakeBuilder fb2;
  fb2.features = {feature("image", FTC_DTYPE_F32, {4})};
  r = build(fb2, "", 10, /*label=*/nullptr);
  EXPECT_EQ(r.status, FTC_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(r.key, "num_labels");
  EXPECT_NE(r.message.find("no label feature"), std::string::npos) << r.message;
}

TEST(MlpPlugin, RejectsBadInputs) {
  FakeBuilder fb;
  fb.features = {feature("label", FTC_DTYPE_I32, {})};
  BuildResult r = build(fb, "", 10);
  EXPECT_EQ(r.status, FTC_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(r.message.find("no input feature"), std::string::npos);

  FakeBuilder fb2;
  fb2.features = {feature("tokens", FTC_DTYPE_I32, {16}),
                  feature("label", FTC_DTYPE_I32, {})};
  r = build(fb2, "", 10);
  EXPECT_EQ(r.status, FTC_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(r.message.find("'tokens' is not F32"), std::string::npos);

  FakeBuilder fb3;
  fb3.features = {feature("x", FTC_DTYPE_F32, {4}),
                  feature("label", FTC_DTYPE_I32, {})};
  r = build(fb3, "hidden_sizes = [0]\n", 10);
  EXPECT_EQ(r.status, FTC_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(r.key, "hidden_sizes");
}

TEST(MlpPlugin, BuilderErrorsComeBack) {
  FakeBuilder fb;
  fb.failOp = "relu";
  fb.features = {feature("x", FTC_DTYPE_F32, {4}),
                 feature("label", FTC_DTYPE_I32, {})};
  BuildResult r = build(fb, "", 10);
  EXPECT_EQ(r.status, FTC_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(r.message, "op 'relu': shape mismatch");
}

} // namespace
