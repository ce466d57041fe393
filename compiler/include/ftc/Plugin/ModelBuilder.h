//===- ModelBuilder.h - Model plugin -> ftc IR ------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The compiler side of the plugin ABI: hands a model plugin the graph-builder
// table and turns its calls into a @forward function of ftc ops.
//===----------------------------------------------------------------------===//
#ifndef FTC_PLUGIN_MODELBUILDER_H
#define FTC_PLUGIN_MODELBUILDER_H

#include "ftc/plugin_api.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>

namespace mlir::ftc {

struct ModelBuildError {
  std::string message;
  std::string key; // the spec key (in [model]) at fault, or empty
};

/// Calls `plugin.build` and returns the verified module, or nullptr with
/// `error` set. `loc` labels the generated ops (the spec's [model] section).
OwningOpRef<ModuleOp> buildForwardModule(MLIRContext &context, Location loc,
                                         const ftc_model_plugin_v1_t &plugin,
                                         const ftc_config_t &config,
                                         const ftc_model_context_t &model,
                                         ModelBuildError &error);

} // namespace mlir::ftc

#endif // FTC_PLUGIN_MODELBUILDER_H
