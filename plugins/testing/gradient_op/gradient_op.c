/*===- gradient_op.c - A model plugin that builds a gradient op ---*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Builds `relu_grad`, an op of the compiler's backward pass: which ops a
 * plugin may build is declared on the ops (Ftc_PluginBuildable), and this
 * one is not, so the build fails with an error naming it.
 *===----------------------------------------------------------------------===*/
#include "../testing_plugin.h"

#include <stdio.h>

static ftc_status_t build(const ftc_config_t *config,
                          const ftc_model_context_t *context,
                          const ftc_graph_builder_t *g, ftc_error_t *error) {
  (void)config;
  int64_t shape[2] = {context->batch_size, 4};
  ftc_init_t zeros = {FTC_INIT_ZEROS, 0, 0};
  int32_t p = g->param(g->ctx, "p", FTC_DTYPE_F32, 2, shape, zeros, 0);
  int32_t operands[2] = {p, p};
  int32_t result;
  if (g->op(g->ctx, "relu_grad", operands, 2, NULL, 0, &result, 1) < 0) {
    snprintf(error->message, error->capacity, "%s", g->last_error(g->ctx));
    return FTC_STATUS_INVALID_ARGUMENT;
  }
  return FTC_STATUS_OK;
}

FTC_TESTING_MODEL_PLUGIN(FTC_PLUGIN_API_VERSION_1_0, "gradient_op", "1.0.0",
                         "a model plugin that builds a gradient op", build)
