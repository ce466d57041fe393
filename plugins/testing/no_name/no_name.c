/*===- no_name.c - A model plugin without a name -------------------*- C
 *-*-===// SPDX-License-Identifier: Apache-2.0
 *
 * The header's name is NULL: a spec could never select it, and the loader
 * must say so instead of dereferencing it.
 *===----------------------------------------------------------------------===*/
#include "../testing_plugin.h"

FTC_TESTING_BUILD_RETURNING(FTC_STATUS_OK)

FTC_TESTING_MODEL_PLUGIN(FTC_PLUGIN_API_VERSION_1_0, NULL, "1.0.0",
                         "a model plugin without a name", build)
