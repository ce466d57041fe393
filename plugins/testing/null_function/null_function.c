/*===- null_function.c - A model plugin whose build is NULL -------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * The header is fine but the table's build pointer is NULL: the loader must
 * reject it at load time, not crash when the model is built.
 *===----------------------------------------------------------------------===*/
#include "ftc/plugin_api.h"

static const ftc_model_plugin_v1_t kPlugin = {
    {FTC_PLUGIN_API_VERSION_1_0,
     FTC_PLUGIN_KIND_MODEL,
     "null_function",
     "1.0.0",
     "a model plugin without a build function",
     {0, 0, 0, 0}},
    NULL,
    0,
    NULL,
    NULL,
    {NULL, NULL, NULL}};

FTC_PLUGIN_EXPORT const ftc_plugin_header_t *
ftc_plugin_query(uint32_t max_api_version) {
  if (max_api_version < FTC_PLUGIN_API_VERSION_1_0)
    return NULL;
  return &kPlugin.header;
}
