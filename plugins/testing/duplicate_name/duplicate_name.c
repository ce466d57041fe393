/*===- duplicate_name.c - A valid model plugin also named "mlp" ---*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Valid in every way except that the built-in mlp plugin already has its
 * name: the loader must name both files.
 *===----------------------------------------------------------------------===*/
#include "ftc/plugin_api.h"

#include <stdio.h>

static ftc_status_t build(const ftc_config_t *config,
                          const ftc_model_context_t *context,
                          const ftc_graph_builder_t *builder,
                          ftc_error_t *error) {
  (void)config;
  (void)context;
  (void)builder;
  if (error && error->message && error->capacity)
    snprintf(error->message, error->capacity, "duplicate_name cannot build");
  return FTC_STATUS_INTERNAL;
}

static const ftc_model_plugin_v1_t kPlugin = {{FTC_PLUGIN_API_VERSION_1_0,
                                               FTC_PLUGIN_KIND_MODEL,
                                               "mlp",
                                               "0.0.1",
                                               "a second plugin named mlp",
                                               {0, 0, 0, 0}},
                                              NULL,
                                              0,
                                              build,
                                              NULL,
                                              {NULL, NULL, NULL}};

FTC_PLUGIN_EXPORT const ftc_plugin_header_t *
ftc_plugin_query(uint32_t max_api_version) {
  if (max_api_version < FTC_PLUGIN_API_VERSION_1_0)
    return NULL;
  return &kPlugin.header;
}
