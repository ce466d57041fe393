//===- LoraRewrite.h - The LoRA freeze policy's graph rewrite ---*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_TRANSFORMS_LORAREWRITE_H
#define FTC_TRANSFORMS_LORAREWRITE_H

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace mlir::ftc {

struct LoraOptions {
  int64_t rank = 8;
  double alpha = 16;
  double dropout = 0;
  std::vector<std::string> targets;
};

/// Adds a low-rank branch to every targeted `ftc.linear` and returns the
/// names of the new parameters (`<module>.lora_A.weight`, `.lora_B.weight`)
/// in `loraParams`. Errors (a target matching no linear layer, a bad glob)
/// are emitted on the module.
LogicalResult applyLoraRewrite(ModuleOp module, const LoraOptions &options,
                               std::vector<std::string> &loraParams);

} // namespace mlir::ftc

#endif // FTC_TRANSFORMS_LORAREWRITE_H
