//===- SpecTokenizer.h - The WordPiece tokenizer a dataset spec names -*- C++
//-*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Text datasets find their vocabulary the same way: the [dataset] key
// `tokenizer` (a vocab.txt, a tokenizer.json, or a directory holding one),
// else the model checkpoint's directory, which is where Hugging Face keeps it.
//===----------------------------------------------------------------------===//
#ifndef FTC_PLUGIN_HOST_SPECTOKENIZER_H
#define FTC_PLUGIN_HOST_SPECTOKENIZER_H

#include "ftc/plugin.hpp"
#include "ftc/plugin_host/WordPiece.h"

#include <filesystem>
#include <optional>
#include <string>

namespace ftc::plugin {

/// Loads the tokenizer for dataset plugin `dataset` ("masked-lm", ...);
/// errors blame the `tokenizer` key.
inline ftc::text::WordPiece loadSpecTokenizer(const Config &config,
                                              const std::string &dataset) {
  std::optional<std::string> path = config.findString("tokenizer");
  bool fromCheckpoint = false;
  if (!path || path->empty()) {
    path = config.findString("model.checkpoint");
    fromCheckpoint = true;
    if (!path || path->empty())
      throw Error(FTC_STATUS_NOT_FOUND,
                  "the " + dataset +
                      " dataset needs a vocabulary: set tokenizer (a "
                      "vocab.txt, a tokenizer.json or a directory holding "
                      "one) or model.checkpoint",
                  "tokenizer");
    std::error_code ec;
    if (std::filesystem::is_regular_file(*path, ec)) // model.safetensors
      path = std::filesystem::path(*path).parent_path().string();
  }
  ftc::text::WordPieceOptions options;
  options.lowercase = config.getBool("lowercase");
  try {
    return ftc::text::WordPiece::fromPath(*path, options);
  } catch (const std::runtime_error &e) {
    throw Error(FTC_STATUS_INVALID_ARGUMENT,
                std::string(e.what()) +
                    (fromCheckpoint ? " (the tokenizer defaults to the "
                                      "model.checkpoint directory)"
                                    : ""),
                "tokenizer");
  }
}

} // namespace ftc::plugin

#endif // FTC_PLUGIN_HOST_SPECTOKENIZER_H
