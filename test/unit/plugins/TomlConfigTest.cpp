//===- TomlConfigTest.cpp - ftc_config_t over a TOML table ----------------===//
// SPDX-License-Identifier: Apache-2.0
#include "TestSupport.h"

#include "ftc/plugin.hpp"
#include "ftc/plugin_host/ErrorBuffer.h"

#include <cstring>

using namespace ftc;

namespace {

std::shared_ptr<const toml::table> spec() {
  return std::make_shared<toml::table>(toml::parse(R"(
[model]
family = "mlp"
hidden_sizes = [128, 64]
activation = "gelu"
dropout = 0.25
scale = 2
frozen = true
names = ["a", "b"]
mixed = [1, "x"]

[train]
batch_size = 32
lr = 0.5
)"));
}

TEST(TomlConfig, SectionKeys) {
  plugin::TomlConfig tc(spec(), "model");
  const ftc_config_t *c = tc.config();
  int64_t i = 0;
  double f = 0;
  int b = 0;
  EXPECT_EQ(std::strcmp(c->get_string(c->ctx, "family"), "mlp"), 0);
  EXPECT_EQ(c->get_float(c->ctx, "dropout", &f), 1);
  EXPECT_EQ(f, 0.25);
  EXPECT_EQ(c->get_bool(c->ctx, "frozen", &b), 1);
  EXPECT_EQ(b, 1);
  // get_float accepts integers; get_int does not accept floats.
  EXPECT_EQ(c->get_float(c->ctx, "scale", &f), 1);
  EXPECT_EQ(f, 2.0);
  EXPECT_EQ(c->get_int(c->ctx, "scale", &i), 1);
  EXPECT_EQ(i, 2);
  EXPECT_EQ(c->get_int(c->ctx, "dropout", &i), 0);
  // Wrong types and missing keys.
  EXPECT_EQ(c->get_string(c->ctx, "scale"), nullptr);
  EXPECT_EQ(c->get_bool(c->ctx, "family", &b), 0);
  EXPECT_EQ(c->get_int(c->ctx, "nope", &i), 0);
  EXPECT_EQ(c->get_string(c->ctx, "nope"), nullptr);
  // Keys of other sections are not visible without a dot.
  EXPECT_EQ(c->get_int(c->ctx, "batch_size", &i), 0);
}

TEST(TomlConfig, DottedKeysFromTheRoot) {
  plugin::TomlConfig tc(spec(), "dataset"); // a section that does not exist
  const ftc_config_t *c = tc.config();
  int64_t i = 0;
  double f = 0;
  EXPECT_EQ(c->get_int(c->ctx, "train.batch_size", &i), 1);
  EXPECT_EQ(i, 32);
  EXPECT_EQ(c->get_float(c->ctx, "train.lr", &f), 1);
  EXPECT_EQ(f, 0.5);
  EXPECT_EQ(c->get_array_size(c->ctx, "model.hidden_sizes"), 2u);
  EXPECT_EQ(c->get_int(c->ctx, "train.nope", &i), 0);
  EXPECT_EQ(c->get_int(c->ctx, "batch_size", &i), 0);
}

TEST(TomlConfig, Arrays) {
  plugin::TomlConfig tc(spec(), "model");
  const ftc_config_t *c = tc.config();
  int64_t i = 0;
  EXPECT_EQ(c->get_array_size(c->ctx, "hidden_sizes"), 2u);
  EXPECT_EQ(c->get_int_at(c->ctx, "hidden_sizes", 1, &i), 1);
  EXPECT_EQ(i, 64);
  EXPECT_EQ(c->get_int_at(c->ctx, "hidden_sizes", 2, &i), 0);
  EXPECT_EQ(c->get_string_at(c->ctx, "hidden_sizes", 0), nullptr);
  EXPECT_EQ(std::strcmp(c->get_string_at(c->ctx, "names", 1), "b"), 0);
  EXPECT_EQ(c->get_int_at(c->ctx, "mixed", 0, &i), 1);
  EXPECT_EQ(c->get_int_at(c->ctx, "mixed", 1, &i), 0);
  EXPECT_EQ(c->get_array_size(c->ctx, "family"), 0u); // not an array
  EXPECT_EQ(c->get_array_size(c->ctx, "nope"), 0u);
  // ABI 1.6: numbers, integers widened.
  double f = 0;
  ASSERT_NE(c->get_float_at, nullptr);
  EXPECT_EQ(c->get_float_at(c->ctx, "hidden_sizes", 1, &f), 1);
  EXPECT_EQ(f, 64.0);
  EXPECT_EQ(c->get_float_at(c->ctx, "mixed", 1, &f), 0);
  EXPECT_EQ(c->get_float_at(c->ctx, "hidden_sizes", 2, &f), 0);
  // plugin.hpp's readers take one value as a one-element list.
  plugin::Config config(c);
  EXPECT_EQ(config.getFloats("hidden_sizes"), (std::vector<double>{128, 64}));
  EXPECT_EQ(config.getFloats("dropout"), (std::vector<double>{0.25}));
  EXPECT_EQ(config.getInts("scale"), (std::vector<int64_t>{2}));
  EXPECT_TRUE(config.getFloats("nope").empty());
}

TEST(TomlConfig, StringsOutliveTheCaller) {
  auto root = spec();
  plugin::TomlConfig tc(root, "model");
  root.reset(); // the TomlConfig keeps the table alive
  const ftc_config_t *c = tc.config();
  const char *s = c->get_string(c->ctx, "activation");
  const char *t = c->get_string(c->ctx, "family");
  EXPECT_STREQ(s, "gelu");
  EXPECT_STREQ(t, "mlp");
}

TEST(ErrorBuffer, HoldsTheMessageAndKey) {
  plugin::ErrorBuffer eb;
  EXPECT_EQ(eb.get()->capacity, sizeof(eb.buf));
  EXPECT_EQ(eb.message("none"), "none");
  std::snprintf(eb.get()->message, eb.get()->capacity, "bad %d", 7);
  eb.get()->key = "train";
  EXPECT_EQ(eb.message(), "bad 7");
  EXPECT_STREQ(eb.key(), "train");
  std::memset(eb.buf, 'x', sizeof(eb.buf)); // unterminated
  EXPECT_EQ(eb.message().size(), sizeof(eb.buf));
  eb.reset();
  EXPECT_EQ(eb.key(), nullptr);
  EXPECT_EQ(eb.message("none"), "none");
}

} // namespace
