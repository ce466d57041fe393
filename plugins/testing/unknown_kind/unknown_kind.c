/*===- unknown_kind.c - A plugin of a kind the host does not know -*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * A well-formed header whose kind is 7: the loader must refuse it by name
 * of the kind, never cast it to a table it is not.
 *===----------------------------------------------------------------------===*/
#include "ftc/plugin_api.h"

static const ftc_plugin_header_t kHeader = {
    FTC_PLUGIN_API_VERSION_1_0, 7u,          "unknown_kind", "1.0.0",
    "a plugin of kind 7",       {0, 0, 0, 0}};

FTC_PLUGIN_EXPORT const ftc_plugin_header_t *
ftc_plugin_query(uint32_t max_api_version) {
  if (max_api_version < FTC_PLUGIN_API_VERSION_1_0)
    return NULL;
  return &kHeader;
}
