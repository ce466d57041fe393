//===- LayerDepth.h - Where a parameter sits in a layered model -*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Layered families name their blocks `<...>.layer.<i>.<...>` (Hugging Face
// encoders) or `layers.<i>.<...>`; inputs live under `embeddings`. Freezing
// below a layer and layer-wise learning-rate decay both read the depth from
// the name, so they work for any plugin that follows the convention.
//===----------------------------------------------------------------------===//
#ifndef FTC_SUPPORT_LAYERDEPTH_H
#define FTC_SUPPORT_LAYERDEPTH_H

#include <optional>
#include <string>

namespace ftc {

/// The block index in `name` (`encoder.layer.3.x` → 3, `layers.0.w` → 0).
std::optional<int64_t> layerIndex(const std::string &name);

/// True for input embeddings (a dotted component named `embeddings`).
bool isEmbedding(const std::string &name);

} // namespace ftc

#endif // FTC_SUPPORT_LAYERDEPTH_H
