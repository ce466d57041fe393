//===- TrainerInternal.h - What the trainer's files share -------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_RUNTIME_TRAINER_TRAINERINTERNAL_H
#define FTC_RUNTIME_TRAINER_TRAINERINTERNAL_H

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ftc::rt::detail {

/// Hugging Face's label for tokens that do not count (padding, unmasked).
inline constexpr int32_t kIgnoreIndex = -100;
/// A training checkpoint's files, and the prefix of directories being
/// written (never published half-done).
inline constexpr const char *kStateJson = "trainer_state.json";
inline constexpr const char *kStateTensors = "trainer_state.safetensors";
inline constexpr const char *kStateFormat = "ftc-trainer-state";
inline constexpr const char *kTempPrefix = ".tmp-";

/// The example order of `epoch`: a function of (n, seed, epoch) only.
std::vector<int64_t> epochOrder(int64_t n, uint64_t seed, int64_t epoch,
                                bool shuffle);
std::string shapeString(const std::vector<int64_t> &shape);
using TransposedFn = std::function<bool(const std::string &)>;
/// A parameter as checkpoints store it (TrainerOptions::transposedParams):
/// its shape, and its values turned from the plan's layout in place.
std::vector<int64_t> storedShape(const TransposedFn &transposed,
                                 const plan::Buffer &buf);
void toStored(const TransposedFn &transposed, const plan::Buffer &buf,
              std::vector<float> &values);
/// The inverse: values read in the stored layout, into the plan's.
void fromStored(const TransposedFn &transposed, const plan::Buffer &buf,
                std::vector<float> &values);

/// "checkpoint-<digits>" -> the step; -1 for any other name.
int64_t checkpointStep(const std::string &name);
/// The complete training checkpoints in `dir`, oldest first.
std::vector<std::pair<int64_t, std::filesystem::path>>
listCheckpoints(const std::filesystem::path &dir);
void fsyncDir(const std::filesystem::path &dir);
/// Moves the finished directory `temp` to `target`, replacing an existing
/// one atomically where the file system can swap directories.
void publishDir(const std::filesystem::path &temp,
                const std::filesystem::path &target);

nlohmann::ordered_json metricsObject(const std::map<std::string, double> &m);
/// A square row-major matrix as nested arrays.
nlohmann::ordered_json matrixJson(const std::vector<int64_t> &m);

} // namespace ftc::rt::detail

#endif // FTC_RUNTIME_TRAINER_TRAINERINTERNAL_H
