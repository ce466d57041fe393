/*===- version_mismatch.c - A plugin built for ABI 2.0 ------------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Claims plugin ABI 2.0 whatever the host asks for: the loader must refuse
 * the major version and name both versions.
 *===----------------------------------------------------------------------===*/
#include "ftc/plugin_api.h"

static ftc_status_t build(const ftc_config_t *config,
                          const ftc_model_context_t *context,
                          const ftc_graph_builder_t *builder,
                          ftc_error_t *error) {
  (void)config;
  (void)context;
  (void)builder;
  (void)error;
  return FTC_STATUS_INTERNAL;
}

static const ftc_model_plugin_v1_t kPlugin = {{0x00020000u,
                                               FTC_PLUGIN_KIND_MODEL,
                                               "version_mismatch",
                                               "2.0.0",
                                               "claims plugin ABI 2.0",
                                               {0, 0, 0, 0}},
                                              NULL,
                                              0,
                                              build,
                                              NULL,
                                              {NULL, NULL, NULL}};

FTC_PLUGIN_EXPORT const ftc_plugin_header_t *
ftc_plugin_query(uint32_t max_api_version) {
  (void)max_api_version;
  return &kPlugin.header;
}
