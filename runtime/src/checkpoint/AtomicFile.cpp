//===- AtomicFile.cpp - Write a file so readers see all or nothing --------===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/runtime/AtomicFile.h"
#include "ftc/runtime/Error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

using namespace ftc::rt;

namespace {

std::string dirOf(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::atomic<unsigned> counter{0};

} // namespace

AtomicFile::AtomicFile(std::string target) : path(std::move(target)) {
  std::string dir = dirOf(path);
  size_t slash = path.rfind('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  for (int attempt = 0; attempt < 100; ++attempt) {
    temp = dir + "/." + base + ".tmp." + std::to_string(::getpid()) + "." +
           std::to_string(counter++);
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0)
      return;
    if (errno != EEXIST)
      break;
  }
  int err = errno;
  temp.clear();
  fail("cannot create a temporary file in " + dir, err);
}

AtomicFile::~AtomicFile() {
  if (fd >= 0)
    ::close(fd);
  if (!temp.empty())
    ::unlink(temp.c_str());
}

void AtomicFile::fail(const std::string &what, int err) {
  throw Error(path + ": " + what + ": " + std::strerror(err));
}

void AtomicFile::write(const void *data, size_t size) {
  if (fd < 0)
    throw Error(path + ": write after commit");
  const char *p = static_cast<const char *>(data);
  while (size) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      fail("cannot write", errno);
    }
    p += n;
    size -= size_t(n);
  }
}

void AtomicFile::commit() {
  if (fd < 0)
    throw Error(path + ": commit twice");
  if (::fsync(fd) != 0)
    fail("cannot fsync", errno);
  int rc = ::close(fd);
  fd = -1;
  if (rc != 0)
    fail("cannot close", errno);
  if (::rename(temp.c_str(), path.c_str()) != 0)
    fail("cannot rename " + temp + " into place", errno);
  temp.clear();
  // Make the rename itself durable.
  int dirFd = ::open(dirOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
}

void ftc::rt::writeFileAtomic(const std::string &path,
                              const std::string &bytes) {
  AtomicFile file(path);
  file.write(bytes);
  file.commit();
}
