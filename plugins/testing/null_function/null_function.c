/*===- null_function.c - A model plugin whose build is NULL -------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * The header is fine but the table's build pointer is NULL: the loader must
 * reject it at load time, not crash when the model is built.
 *===----------------------------------------------------------------------===*/
#include "../testing_plugin.h"

FTC_TESTING_MODEL_PLUGIN(FTC_PLUGIN_API_VERSION_1_0, "null_function", "1.0.0",
                         "a model plugin without a build function", NULL)
