//===- TomlConfig.cpp - ftc_config_t over a resolved TOML spec ------------===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/plugin_host/TomlConfig.h"

#include <cstring>

using namespace ftc::plugin;

namespace {

const TomlConfig &self(void *ctx) { return *static_cast<TomlConfig *>(ctx); }

int getInt(void *ctx, const char *key, int64_t *out) {
  const toml::node *n = self(ctx).lookup(key);
  if (!n || !n->is_integer())
    return 0;
  if (out)
    *out = n->as_integer()->get();
  return 1;
}

int getFloat(void *ctx, const char *key, double *out) {
  const toml::node *n = self(ctx).lookup(key);
  if (!n)
    return 0;
  if (n->is_floating_point()) {
    if (out)
      *out = n->as_floating_point()->get();
    return 1;
  }
  if (n->is_integer()) {
    if (out)
      *out = static_cast<double>(n->as_integer()->get());
    return 1;
  }
  return 0;
}

int getBool(void *ctx, const char *key, int *out) {
  const toml::node *n = self(ctx).lookup(key);
  if (!n || !n->is_boolean())
    return 0;
  if (out)
    *out = n->as_boolean()->get() ? 1 : 0;
  return 1;
}

const char *getString(void *ctx, const char *key) {
  const toml::node *n = self(ctx).lookup(key);
  if (!n || !n->is_string())
    return nullptr;
  return n->as_string()->get().c_str();
}

const toml::node *element(void *ctx, const char *key, size_t index) {
  const toml::node *n = self(ctx).lookup(key);
  if (!n || !n->is_array())
    return nullptr;
  return n->as_array()->get(index);
}

size_t getArraySize(void *ctx, const char *key) {
  const toml::node *n = self(ctx).lookup(key);
  if (!n || !n->is_array())
    return 0;
  return n->as_array()->size();
}

int getIntAt(void *ctx, const char *key, size_t index, int64_t *out) {
  const toml::node *e = element(ctx, key, index);
  if (!e || !e->is_integer())
    return 0;
  if (out)
    *out = e->as_integer()->get();
  return 1;
}

int getFloatAt(void *ctx, const char *key, size_t index, double *out) {
  const toml::node *e = element(ctx, key, index);
  if (!e || !e->is_number())
    return 0;
  if (out)
    *out = e->is_integer() ? static_cast<double>(e->as_integer()->get())
                           : e->as_floating_point()->get();
  return 1;
}

const char *getStringAt(void *ctx, const char *key, size_t index) {
  const toml::node *e = element(ctx, key, index);
  if (!e || !e->is_string())
    return nullptr;
  return e->as_string()->get().c_str();
}

} // namespace

TomlConfig::TomlConfig(std::shared_ptr<const toml::table> root,
                       std::string section)
    : root(std::move(root)), section(std::move(section)) {
  std::memset(&table, 0, sizeof(table));
  table.ctx = this;
  table.get_int = getInt;
  table.get_float = getFloat;
  table.get_bool = getBool;
  table.get_string = getString;
  table.get_array_size = getArraySize;
  table.get_int_at = getIntAt;
  table.get_string_at = getStringAt;
  table.get_float_at = getFloatAt;
}

const toml::node *TomlConfig::lookup(const char *key) const {
  if (!root || !key || !*key)
    return nullptr;
  std::string_view k(key);
  if (k.find('.') != std::string_view::npos)
    return root->at_path(k).node();
  const toml::table *scope = root.get();
  if (!section.empty()) {
    const toml::node *s = root->get(section);
    scope = s ? s->as_table() : nullptr;
  }
  return scope ? scope->get(k) : nullptr;
}
