//===- TomlConfig.h - ftc_config_t over a resolved TOML spec ----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Gives a plugin read access to its spec section. A key without a dot is
// looked up in `section` ("hidden_sizes" -> [model].hidden_sizes); a dotted
// key from the root ("train.batch_size"). get_float accepts integers.
// Returned strings point into the table and stay valid while this lives.
// Not copyable or movable: config()->ctx points at this object.
//
//===----------------------------------------------------------------------===//
#ifndef FTC_PLUGIN_HOST_TOMLCONFIG_H
#define FTC_PLUGIN_HOST_TOMLCONFIG_H

#include "ftc/plugin_api.h"

#include <toml++/toml.h>

#include <memory>
#include <string>

namespace ftc::plugin {

class TomlConfig {
public:
  TomlConfig(std::shared_ptr<const toml::table> root, std::string section);
  TomlConfig(const TomlConfig &) = delete;
  TomlConfig &operator=(const TomlConfig &) = delete;

  const ftc_config_t *config() const { return &table; }

  /// The node `key` names (see above), or nullptr.
  const toml::node *lookup(const char *key) const;

private:
  std::shared_ptr<const toml::table> root;
  std::string section;
  ftc_config_t table;
};

} // namespace ftc::plugin

#endif // FTC_PLUGIN_HOST_TOMLCONFIG_H
