/*===- version_mismatch.c - A plugin built for ABI 2.0 ------------*- C -*-===//
 * SPDX-License-Identifier: Apache-2.0
 *
 * Claims plugin ABI 2.0 to any host: the loader must refuse
 * the major version and name both versions.
 *===----------------------------------------------------------------------===*/
#include "../testing_plugin.h"

FTC_TESTING_BUILD_RETURNING(FTC_STATUS_INTERNAL)

FTC_TESTING_MODEL_PLUGIN(0x00020000u, "version_mismatch", "2.0.0",
                         "claims plugin ABI 2.0", build)
