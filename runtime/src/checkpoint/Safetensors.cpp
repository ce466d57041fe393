//===- Safetensors.cpp - Read and write safetensors files -----------------===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/runtime/Safetensors.h"
#include "ftc/runtime/AtomicFile.h"
#include "ftc/runtime/Bfloat16.h"
#include "ftc/runtime/Error.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; add byte swapping");

using namespace ftc::rt;
using json = nlohmann::json;

namespace {

/// Refuse headers beyond this (the reference implementation uses 100 MB).
constexpr uint64_t kMaxHeaderSize = 100u << 20;

float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else { // subnormal: renormalize
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while (!(mant & 0x400u));
      bits = sign | (uint32_t(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13); // inf / nan
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint64_t readLE64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

} // namespace

struct SafetensorsFile::Mapping {
  void *base = MAP_FAILED;
  size_t size = 0;
  ~Mapping() {
    if (base != MAP_FAILED)
      ::munmap(base, size);
  }
};

size_t SafetensorsFile::dtypeSize(const std::string &dtype) {
  static const std::map<std::string, size_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
      {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

SafetensorsFile SafetensorsFile::open(const std::string &path) {
  auto fail = [&](const std::string &what) -> Error {
    return Error(path + ": " + what);
  };
  auto tensorFail = [&](const std::string &name, const std::string &what) {
    return Error(path + ": tensor '" + name + "': " + what);
  };

  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw fail(std::string("cannot open: ") + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    throw fail(std::string("cannot stat: ") + std::strerror(err));
  }
  uint64_t fileSize = uint64_t(st.st_size);
  if (fileSize < 8) {
    ::close(fd);
    throw fail("not a safetensors file: " + std::to_string(fileSize) +
               " bytes, shorter than the 8-byte header length");
  }
  auto mapping = std::make_shared<Mapping>();
  mapping->base = ::mmap(nullptr, fileSize, PROT_READ, MAP_PRIVATE, fd, 0);
  int mapErr = errno;
  ::close(fd);
  if (mapping->base == MAP_FAILED)
    throw fail(std::string("cannot map: ") + std::strerror(mapErr));
  mapping->size = fileSize;
  const auto *bytes = static_cast<const uint8_t *>(mapping->base);

  uint64_t headerSize = readLE64(bytes);
  if (headerSize > fileSize - 8)
    throw fail("header length " + std::to_string(headerSize) +
               " exceeds the file (" + std::to_string(fileSize) + " bytes)");
  if (headerSize > kMaxHeaderSize)
    throw fail("header length " + std::to_string(headerSize) +
               " exceeds the 100 MB limit");

  json header;
  try {
    header = json::parse(bytes + 8, bytes + 8 + headerSize);
  } catch (const json::exception &e) {
    throw fail(std::string("invalid JSON header: ") + e.what());
  }
  if (!header.is_object())
    throw fail("the JSON header is not an object");

  SafetensorsFile file;
  file.filePath = path;
  file.dataStart = bytes + 8 + headerSize;
  file.dataSize = fileSize - 8 - headerSize;

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string &name = it.key();
    const json &v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object())
        throw fail("__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          throw fail("__metadata__: value of '" + m.key() +
                     "' is not a string");
        file.meta[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object())
      throw tensorFail(name, "entry is not an object");
    TensorInfo t;
    t.name = name;
    auto dtype = v.find("dtype");
    if (dtype == v.end() || !dtype->is_string())
      throw tensorFail(name, "missing string 'dtype'");
    t.dtype = dtype->get<std::string>();
    size_t elementSize = dtypeSize(t.dtype);
    if (!elementSize)
      throw tensorFail(name, "unknown dtype '" + t.dtype + "'");

    auto shape = v.find("shape");
    if (shape == v.end() || !shape->is_array())
      throw tensorFail(name, "missing array 'shape'");
    uint64_t count = 1;
    for (const json &d : *shape) {
      if (!d.is_number_unsigned())
        throw tensorFail(name, "shape " + shape->dump() +
                                   " has a non-integer or negative entry");
      uint64_t n = d.get<uint64_t>();
      if (n > uint64_t(INT64_MAX) || __builtin_mul_overflow(count, n, &count))
        throw tensorFail(name, "shape " + shape->dump() + " is too large");
      t.shape.push_back(int64_t(n));
    }

    auto offsets = v.find("data_offsets");
    if (offsets == v.end() || !offsets->is_array() || offsets->size() != 2 ||
        !(*offsets)[0].is_number_unsigned() ||
        !(*offsets)[1].is_number_unsigned())
      throw tensorFail(name, "missing 'data_offsets' [begin, end]");
    t.begin = (*offsets)[0].get<uint64_t>();
    t.end = (*offsets)[1].get<uint64_t>();
    std::string span = "data_offsets [" + std::to_string(t.begin) + ", " +
                       std::to_string(t.end) + "]";
    if (t.end < t.begin)
      throw tensorFail(name, span + " end before begin");
    uint64_t bytesNeeded;
    if (__builtin_mul_overflow(count, uint64_t(elementSize), &bytesNeeded) ||
        bytesNeeded != t.end - t.begin)
      throw tensorFail(name, "shape " + shape->dump() + " of " + t.dtype +
                                 " needs " + std::to_string(bytesNeeded) +
                                 " bytes, but " + span + " span " +
                                 std::to_string(t.end - t.begin));
    if (t.end > file.dataSize)
      throw tensorFail(name, span + " extend past the data area (" +
                                 std::to_string(file.dataSize) + " bytes)");
    file.infos.push_back(std::move(t));
  }

  std::sort(file.infos.begin(), file.infos.end(),
            [](const TensorInfo &a, const TensorInfo &b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  for (size_t i = 1; i < file.infos.size(); ++i) {
    const TensorInfo &prev = file.infos[i - 1], &cur = file.infos[i];
    if (cur.begin < prev.end)
      throw tensorFail(cur.name, "data_offsets [" + std::to_string(cur.begin) +
                                     ", " + std::to_string(cur.end) +
                                     "] overlap tensor '" + prev.name + "' [" +
                                     std::to_string(prev.begin) + ", " +
                                     std::to_string(prev.end) + "]");
  }
  file.mapping = std::move(mapping);
  return file;
}

const TensorInfo *SafetensorsFile::find(const std::string &name) const {
  for (const TensorInfo &t : infos)
    if (t.name == name)
      return &t;
  return nullptr;
}

const uint8_t *SafetensorsFile::data(const TensorInfo &tensor) const {
  return dataStart + tensor.begin;
}

std::vector<float> SafetensorsFile::readF32(const TensorInfo &t) const {
  size_t elementSize = dtypeSize(t.dtype);
  if (t.end > dataSize || t.end < t.begin || !elementSize)
    throw Error(filePath + ": tensor '" + t.name +
                "': not a tensor of this file");
  size_t count = size_t((t.end - t.begin) / elementSize);
  const uint8_t *p = data(t);
  std::vector<float> out(count);
  if (t.dtype == "F32") {
    std::memcpy(out.data(), p, count * 4);
  } else if (t.dtype == "F16" || t.dtype == "BF16") {
    bool bf = t.dtype == "BF16";
    for (size_t i = 0; i < count; ++i) {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      out[i] = bf ? bf16ToFloat(h) : halfToFloat(h);
    }
  } else {
    throw Error(filePath + ": tensor '" + t.name + "': cannot read " + t.dtype +
                " as F32 (expected F32, F16 or BF16)");
  }
  return out;
}

void ftc::rt::writeSafetensors(
    const std::string &path,
    const std::vector<
        std::pair<std::string, std::pair<std::vector<int64_t>, const float *>>>
        &tensors,
    const std::map<std::string, std::string> &metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty())
    header["__metadata__"] = metadata;
  uint64_t offset = 0;
  std::vector<uint64_t> sizes;
  for (const auto &[name, tensor] : tensors) {
    if (name == "__metadata__" || header.contains(name))
      throw Error(path + ": tensor '" + name + "': duplicate or reserved name");
    uint64_t count = 1;
    for (int64_t d : tensor.first) {
      if (d < 0)
        throw Error(path + ": tensor '" + name + "': negative dimension");
      count *= uint64_t(d);
    }
    if (count && !tensor.second)
      throw Error(path + ": tensor '" + name + "': no data");
    uint64_t bytes = count * 4;
    header[name] = {{"dtype", "F32"},
                    {"shape", tensor.first},
                    {"data_offsets", {offset, offset + bytes}}};
    sizes.push_back(bytes);
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  uint8_t length[8];
  for (int i = 0; i < 8; ++i)
    length[i] = uint8_t(uint64_t(text.size()) >> (8 * i));

  AtomicFile file(path);
  file.write(length, 8);
  file.write(text);
  for (size_t i = 0; i < tensors.size(); ++i)
    if (sizes[i])
      file.write(tensors[i].second.second, size_t(sizes[i]));
  file.commit();
}
