/*===- null_query.c - A plugin that serves no version we speak ----*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * ftc_plugin_query returns NULL, as a plugin that only speaks a newer ABI
 * than the host's maximum would.
 *===----------------------------------------------------------------------===*/
#include "ftc/plugin_api.h"

FTC_PLUGIN_EXPORT const ftc_plugin_header_t *
ftc_plugin_query(uint32_t max_api_version) {
  (void)max_api_version;
  return NULL;
}
