/*===- testing_plugin.h - What the broken model plugins share -----*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * A model table and the query that serves it, so that each testing plugin
 * states only what is wrong with it (its ABI version, a missing name or
 * build function, what its build does).
 *===----------------------------------------------------------------------===*/
#ifndef FTC_PLUGINS_TESTING_TESTING_PLUGIN_H
#define FTC_PLUGINS_TESTING_TESTING_PLUGIN_H

#include "ftc/plugin_api.h"

#include <stddef.h>

/* Defines a build function `build` that ignores its arguments and returns
 * `status`. */
#define FTC_TESTING_BUILD_RETURNING(status)                                    \
  static ftc_status_t build(                                                   \
      const ftc_config_t *config, const ftc_model_context_t *context,          \
      const ftc_graph_builder_t *builder, ftc_error_t *error) {                \
    (void)config;                                                              \
    (void)context;                                                             \
    (void)builder;                                                             \
    (void)error;                                                               \
    return (status);                                                           \
  }

/* Defines kPlugin (an ftc_model_plugin_v1_t of `api_version`) and the
 * exported ftc_plugin_query, which serves any host of ABI 1.0 or later. */
#define FTC_TESTING_MODEL_PLUGIN(api_version, name, version, description,      \
                                 build_fn)                                     \
  static const ftc_model_plugin_v1_t kPlugin = {{(api_version),                \
                                                 FTC_PLUGIN_KIND_MODEL,        \
                                                 (name),                       \
                                                 (version),                    \
                                                 (description),                \
                                                 {0, 0, 0, 0}},                \
                                                NULL,                          \
                                                0,                             \
                                                (build_fn),                    \
                                                NULL,                          \
                                                NULL,                          \
                                                {NULL, NULL}};                 \
  FTC_PLUGIN_EXPORT const ftc_plugin_header_t *ftc_plugin_query(               \
      uint32_t max_api_version) {                                              \
    if (max_api_version < FTC_PLUGIN_API_VERSION_1_0)                          \
      return NULL;                                                             \
    return &kPlugin.header;                                                    \
  }

#endif /* FTC_PLUGINS_TESTING_TESTING_PLUGIN_H */
