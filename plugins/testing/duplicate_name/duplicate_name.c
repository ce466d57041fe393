/*===- duplicate_name.c - A valid model plugin also named "mlp" ---*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Valid in every way except that the built-in mlp plugin already has its
 * name: the loader must name both files.
 *===----------------------------------------------------------------------===*/
#include "../testing_plugin.h"

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

FTC_TESTING_MODEL_PLUGIN(FTC_PLUGIN_API_VERSION_1_0, "mlp", "0.0.1",
                         "a second plugin named mlp", build)
