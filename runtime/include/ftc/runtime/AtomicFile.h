//===- AtomicFile.h - All-or-nothing file writes ----------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Writes go to a temporary file in the target's directory, which is fsynced
// and renamed over the target (then the directory is fsynced). A crash
// leaves the old file or the new one, never a torn one.
//
//===----------------------------------------------------------------------===//
#ifndef FTC_RUNTIME_ATOMICFILE_H
#define FTC_RUNTIME_ATOMICFILE_H

#include <cstddef>
#include <string>

namespace ftc::rt {

/// Streams bytes into a temporary file; commit() publishes it under `path`.
/// Destroying it without commit() removes the temporary file. Errors throw
/// rt::Error naming `path`.
class AtomicFile {
public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile &) = delete;
  AtomicFile &operator=(const AtomicFile &) = delete;

  void write(const void *data, size_t size);
  void write(const std::string &bytes) { write(bytes.data(), bytes.size()); }
  /// fsync, rename over the target, fsync the directory.
  void commit();

  const std::string &tempPath() const { return temp; }

private:
  [[noreturn]] void fail(const std::string &what, int err);
  std::string path, temp;
  int fd = -1;
};

/// Replaces `path` with `bytes` atomically.
void writeFileAtomic(const std::string &path, const std::string &bytes);

} // namespace ftc::rt

#endif // FTC_RUNTIME_ATOMICFILE_H
