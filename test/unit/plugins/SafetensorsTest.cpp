//===- SafetensorsTest.cpp - safetensors round trip and corrupt files -----===//
// SPDX-License-Identifier: Apache-2.0
#include "TestSupport.h"

#include "ftc/runtime/AtomicFile.h"
#include "ftc/runtime/Error.h"
#include "ftc/runtime/Safetensors.h"

#include <cstring>

using namespace ftc;
using rt::SafetensorsFile;

namespace {

/// A file from a header (JSON text) and a data area.
std::string rawFile(const std::string &header, const std::string &data,
                    int64_t lengthDelta = 0) {
  uint64_t n = uint64_t(int64_t(header.size()) + lengthDelta);
  std::string s;
  for (int i = 0; i < 8; ++i)
    s.push_back(char(n >> (8 * i)));
  return s + header + data;
}

/// Expects open() to fail with exactly `message` after "<file>: ".
void expectOpenError(const std::string &bytes, const std::string &message) {
  test::TempDir dir;
  std::string path = dir.path("bad.safetensors");
  test::writeBytes(path, bytes);
  try {
    SafetensorsFile::open(path);
    ADD_FAILURE() << "opened a corrupt file; expected: " << message;
  } catch (const rt::Error &e) {
    EXPECT_EQ(std::string(e.what()), path + ": " + message);
  }
}

TEST(Safetensors, RoundTrip) {
  test::TempDir dir;
  std::string path = dir.path("model.safetensors");
  std::vector<float> w{1.5f, -2.0f, 3.25f, 0.0f, 1e-8f, -7.0f};
  std::vector<float> b{0.5f, 0.25f};
  float scalar = 42.0f;
  rt::writeSafetensors(path,
                       {{"layers.0.weight", {{2, 3}, w.data()}},
                        {"layers.0.bias", {{2}, b.data()}},
                        {"scale", {{}, &scalar}},
                        {"empty", {{0, 4}, nullptr}}},
                       {{"format", "pt"}, {"step", "12"}});

  std::string bytes = test::readBytes(path);
  uint64_t headerLen = 0;
  std::memcpy(&headerLen, bytes.data(), 8);
  EXPECT_EQ(headerLen % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + headerLen + (6 + 2 + 1) * 4);
  // No temporary files are left behind.
  size_t files = 0;
  for (auto &e : std::filesystem::directory_iterator(dir.str()))
    files += e.is_regular_file();
  EXPECT_EQ(files, 1u);

  SafetensorsFile f = SafetensorsFile::open(path);
  EXPECT_EQ(f.tensors().size(), 4u);
  EXPECT_EQ(f.metadata(), (std::map<std::string, std::string>{{"format", "pt"},
                                                              {"step", "12"}}));
  const rt::TensorInfo *t = f.find("layers.0.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dtype, "F32");
  EXPECT_EQ(t->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(f.readF32(*t), w);
  EXPECT_EQ(f.readF32(*f.find("layers.0.bias")), b);
  EXPECT_EQ(f.readF32(*f.find("scale")), std::vector<float>{42.0f});
  EXPECT_TRUE(f.readF32(*f.find("empty")).empty());
  EXPECT_EQ(f.find("nope"), nullptr);

  // Overwriting replaces the file atomically.
  rt::writeSafetensors(path, {{"scale", {{}, &scalar}}}, {});
  EXPECT_EQ(SafetensorsFile::open(path).tensors().size(), 1u);
}

TEST(Safetensors, ReadsHalfAndBfloat16) {
  // F16: 1.0 = 0x3c00, -2.0 = 0xc000, 2^-24 (smallest subnormal) = 0x0001,
  // inf = 0x7c00. BF16: 1.0 = 0x3f80, -0.5 = 0xbf00.
  std::string data;
  for (uint16_t h : {0x3c00, 0xc000, 0x0001, 0x7c00, 0x3f80, 0xbf00}) {
    data.push_back(char(h & 0xff));
    data.push_back(char(h >> 8));
  }
  std::string header =
      R"({"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},)"
      R"("i":{"dtype":"I32","shape":[],"data_offsets":[12,16]}})";
  test::TempDir dir;
  std::string path = dir.path("half.safetensors");
  test::writeBytes(path, rawFile(header, data + std::string(4, '\0')));
  SafetensorsFile f = SafetensorsFile::open(path);
  std::vector<float> h = f.readF32(*f.find("h"));
  EXPECT_EQ(h[0], 1.0f);
  EXPECT_EQ(h[1], -2.0f);
  EXPECT_EQ(h[2], std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(h[3]));
  EXPECT_EQ(f.readF32(*f.find("b")), (std::vector<float>{1.0f, -0.5f}));
  try {
    f.readF32(*f.find("i"));
    ADD_FAILURE() << "read I32 as F32";
  } catch (const rt::Error &e) {
    EXPECT_EQ(std::string(e.what()),
              path + ": tensor 'i': cannot read I32 as F32 (expected F32, "
                     "F16 or BF16)");
  }
}

TEST(Safetensors, Truncated) {
  expectOpenError("abc", "not a safetensors file: 3 bytes, shorter than the "
                         "8-byte header length");
}

TEST(Safetensors, MissingFile) {
  try {
    SafetensorsFile::open("/nonexistent/model.safetensors");
    ADD_FAILURE();
  } catch (const rt::Error &e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/model.safetensors: cannot "
                                     "open: No such file or directory");
  }
}

TEST(Safetensors, BadHeaderLength) {
  expectOpenError(rawFile("{}", "", 100),
                  "header length 102 exceeds the file (10 bytes)");
}

TEST(Safetensors, BadJson) {
  test::TempDir dir;
  std::string path = dir.path("bad.safetensors");
  test::writeBytes(path, rawFile("{\"a\": [1,", ""));
  try {
    SafetensorsFile::open(path);
    ADD_FAILURE();
  } catch (const rt::Error &e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": invalid JSON header: ", 0),
              0u)
        << e.what();
  }
  expectOpenError(rawFile("[1, 2]", ""), "the JSON header is not an object");
}

TEST(Safetensors, UnknownDtype) {
  expectOpenError(
      rawFile(R"({"w":{"dtype":"F24","shape":[1],"data_offsets":[0,3]}})",
              "abc"),
      "tensor 'w': unknown dtype 'F24'");
}

TEST(Safetensors, MissingFields) {
  expectOpenError(
      rawFile(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", "abcd"),
      "tensor 'w': missing string 'dtype'");
  expectOpenError(
      rawFile(R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", "abcd"),
      "tensor 'w': missing array 'shape'");
  expectOpenError(rawFile(R"({"w":{"dtype":"F32","shape":[1]}})", "abcd"),
                  "tensor 'w': missing 'data_offsets' [begin, end]");
  expectOpenError(
      rawFile(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})",
              "abcd"),
      "tensor 'w': shape [-1] has a non-integer or negative entry");
}

TEST(Safetensors, ShapeSpanMismatch) {
  expectOpenError(
      rawFile(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})",
              std::string(16, '\0')),
      "tensor 'w': shape [2,2] of F32 needs 16 bytes, but data_offsets [0, "
      "12] span 12");
}

TEST(Safetensors, OverlappingSpans) {
  expectOpenError(
      rawFile(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
              std::string(12, '\0')),
      "tensor 'b': data_offsets [4, 12] overlap tensor 'a' [0, 8]");
}

TEST(Safetensors, SpanOutOfBounds) {
  expectOpenError(
      rawFile(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
              std::string(8, '\0')),
      "tensor 'w': data_offsets [4, 12] extend past the data area (8 bytes)");
}

TEST(Safetensors, BadMetadata) {
  expectOpenError(rawFile(R"({"__metadata__":{"step":12}})", ""),
                  "__metadata__: value of 'step' is not a string");
}

TEST(AtomicFile, WritesAndCleansUp) {
  test::TempDir dir;
  std::string path = dir.path("state.json");
  rt::writeFileAtomic(path, "one");
  rt::writeFileAtomic(path, "two");
  EXPECT_EQ(test::readBytes(path), "two");
  {
    rt::AtomicFile f(path);
    f.write("three");
    // Destroyed without commit: the old file stays, the temp file goes.
  }
  EXPECT_EQ(test::readBytes(path), "two");
  size_t entries = 0;
  for (auto &e : std::filesystem::directory_iterator(dir.str()))
    entries += bool(e.path().filename().string().size());
  EXPECT_EQ(entries, 1u);
  EXPECT_THROW(rt::writeFileAtomic("/nonexistent/dir/x", "y"), rt::Error);
}

} // namespace
