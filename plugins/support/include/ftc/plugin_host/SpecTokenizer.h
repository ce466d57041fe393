//===- SpecTokenizer.h - The tokenizer a dataset spec names -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Text datasets find their tokenizer the same way: the [dataset] key
// `tokenizer` (a file, or a directory holding one), else the model
// checkpoint's directory, which is where Hugging Face keeps it.
//===----------------------------------------------------------------------===//
#ifndef FTC_PLUGIN_HOST_SPECTOKENIZER_H
#define FTC_PLUGIN_HOST_SPECTOKENIZER_H

#include "ftc/plugin.hpp"
#include "ftc/plugin_host/ByteLevelBpe.h"
#include "ftc/plugin_host/WordPiece.h"

#include <filesystem>
#include <optional>
#include <string>
#include <utility>

namespace ftc::plugin {

/// The tokenizer path for dataset plugin `dataset` ("masked-lm", ...), and
/// whether it came from model.checkpoint; `files` names what the key takes
/// (for the error when neither is set). Errors blame the `tokenizer` key.
inline std::pair<std::string, bool>
specTokenizerPath(const Config &config, const std::string &dataset,
                  const std::string &files) {
  std::optional<std::string> path = config.findString("tokenizer");
  if (path && !path->empty())
    return {*path, false};
  path = config.findString("model.checkpoint");
  if (!path || path->empty())
    throw Error(FTC_STATUS_NOT_FOUND,
                "the " + dataset +
                    " dataset needs a vocabulary: set tokenizer (" + files +
                    ") or model.checkpoint",
                "tokenizer");
  std::error_code ec;
  if (std::filesystem::is_regular_file(*path, ec)) // model.safetensors
    path = std::filesystem::path(*path).parent_path().string();
  return {*path, true};
}

/// Runs `load` on the spec's tokenizer path, blaming `tokenizer` for errors.
template <typename Load>
auto loadFromSpec(const Config &config, const std::string &dataset,
                  const std::string &files, Load &&load) {
  auto [path, fromCheckpoint] = specTokenizerPath(config, dataset, files);
  try {
    return load(path);
  } catch (const std::runtime_error &e) {
    throw Error(FTC_STATUS_INVALID_ARGUMENT,
                std::string(e.what()) +
                    (fromCheckpoint ? " (the tokenizer defaults to the "
                                      "model.checkpoint directory)"
                                    : ""),
                "tokenizer");
  }
}

/// The WordPiece tokenizer (vocab.txt or tokenizer.json); the spec's
/// `lowercase` applies to a vocab.txt.
inline ftc::text::WordPiece loadSpecTokenizer(const Config &config,
                                              const std::string &dataset) {
  ftc::text::WordPieceOptions options;
  options.lowercase = config.getBool("lowercase");
  return loadFromSpec(
      config, dataset,
      "a vocab.txt, a tokenizer.json or a directory holding one",
      [&](const std::string &path) {
        return ftc::text::WordPiece::fromPath(path, options);
      });
}

/// Whether the spec's tokenizer is a byte-level BPE (GPT-2's) rather than
/// WordPiece.
inline bool specTokenizerIsByteLevelBpe(const Config &config,
                                        const std::string &dataset) {
  return ftc::text::ByteLevelBpe::recognizes(
      specTokenizerPath(config, dataset,
                        "a vocab.txt, a tokenizer.json or a directory "
                        "holding one")
          .first);
}

/// The byte-level BPE tokenizer (tokenizer.json, or vocab.json + merges.txt).
inline ftc::text::ByteLevelBpe
loadSpecByteLevelBpe(const Config &config, const std::string &dataset) {
  return loadFromSpec(
      config, dataset,
      "a tokenizer.json, or a directory with tokenizer.json or vocab.json + "
      "merges.txt",
      [](const std::string &path) {
        return ftc::text::ByteLevelBpe::fromPath(path);
      });
}

} // namespace ftc::plugin

#endif // FTC_PLUGIN_HOST_SPECTOKENIZER_H
