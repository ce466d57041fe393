//===- Safetensors.h - Read and write safetensors files ---------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The Hugging Face format: an 8-byte little-endian header length N, N bytes
// of JSON ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
// "__metadata__": {string: string}}), then the data area the offsets index.
// Reading maps the file and validates the header completely; writing is F32
// only, with the header padded to 8 bytes, and atomic.
//
//===----------------------------------------------------------------------===//
#ifndef FTC_RUNTIME_SAFETENSORS_H
#define FTC_RUNTIME_SAFETENSORS_H

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ftc::rt {

struct TensorInfo {
  std::string name, dtype;
  std::vector<int64_t> shape;
  /// Byte offsets relative to the start of the data area.
  uint64_t begin, end;
};

class SafetensorsFile {
public:
  /// Maps and validates `path`; throws rt::Error naming the file (and the
  /// tensor) on any problem.
  static SafetensorsFile open(const std::string &path);

  const std::string &path() const { return filePath; }
  /// Tensors in the order of their data offsets.
  const std::vector<TensorInfo> &tensors() const { return infos; }
  const TensorInfo *find(const std::string &name) const;
  /// The tensor's elements as f32 (from F32, F16 or BF16).
  std::vector<float> readF32(const TensorInfo &tensor) const;
  /// The raw bytes of a tensor (little-endian, as stored).
  const uint8_t *data(const TensorInfo &tensor) const;
  const std::map<std::string, std::string> &metadata() const { return meta; }

  /// Bytes per element of a safetensors dtype name, or 0 when unknown.
  static size_t dtypeSize(const std::string &dtype);

private:
  struct Mapping;
  std::shared_ptr<const Mapping> mapping;
  std::string filePath;
  const uint8_t *dataStart = nullptr;
  uint64_t dataSize = 0;
  std::vector<TensorInfo> infos;
  std::map<std::string, std::string> meta;
};

/// Writes F32 tensors (name, (shape, data)) and metadata to `path`
/// atomically. Throws rt::Error naming the file on failure.
void writeSafetensors(
    const std::string &path,
    const std::vector<
        std::pair<std::string, std::pair<std::vector<int64_t>, const float *>>>
        &tensors,
    const std::map<std::string, std::string> &metadata);

} // namespace ftc::rt

#endif // FTC_RUNTIME_SAFETENSORS_H
