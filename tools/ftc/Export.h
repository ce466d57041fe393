//===- Export.h - What a run writes for Hugging Face tools ------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_TOOLS_FTC_EXPORT_H
#define FTC_TOOLS_FTC_EXPORT_H

#include "Job.h"

#include "ftc/plan/Plan.h"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace ftc::tool {

/// The Hugging Face architecture of the model family's task, as its plugin
/// says (ABI 1.4); "" where the family has none (its names and config keys
/// do not follow transformers).
std::string hfArchitecture(const plugin::LoadedPlugin &model,
                           const std::string &task);
/// config.json beside the weights (for Hugging Face families, a config
/// from_pretrained reads).
std::string modelConfigJson(Job &job);
/// PEFT's adapter_config.json for a LoRA run.
std::string adapterConfigJson(Job &job, const plan::Plan &p);
/// A file's bytes; throws rt::Error naming it.
std::string readWhole(const std::filesystem::path &path);
/// The tokenizer files written beside the weights: {file name, contents}.
std::vector<std::pair<std::string, std::string>> tokenizerFiles(Job &job);

} // namespace ftc::tool

#endif // FTC_TOOLS_FTC_EXPORT_H
