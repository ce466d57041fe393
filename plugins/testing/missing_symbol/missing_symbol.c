/*===- missing_symbol.c - A plugin without ftc_plugin_query -------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Exports a look-alike symbol but not ftc_plugin_query: the loader must say
 * the file is not an ftc plugin.
 *===----------------------------------------------------------------------===*/
#include "ftc/plugin_api.h"

FTC_PLUGIN_EXPORT const ftc_plugin_header_t *
ftc_plugin_query_v2(uint32_t max_api_version) {
  (void)max_api_version;
  return NULL;
}
