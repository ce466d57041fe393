/*===- no_name.c - A model plugin without a name -------------------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * The header's name is NULL: a spec could never select it, and the loader
 * must say so instead of dereferencing it.
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
  return FTC_STATUS_OK;
}

static const ftc_model_plugin_v1_t kPlugin = {
    {FTC_PLUGIN_API_VERSION_1_0,
     FTC_PLUGIN_KIND_MODEL,
     NULL,
     "1.0.0",
     "a model plugin without a name",
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
