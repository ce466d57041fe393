//===- OutputLock.cpp - One ftc run per output directory ------------------===//
// SPDX-License-Identifier: Apache-2.0
#include "OutputLock.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <sys/file.h>
#include <unistd.h>

using namespace ftc::tool;
namespace fs = std::filesystem;

bool OutputLock::acquire(const std::string &dir, std::string &error) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    error = "cannot create the output directory '" + dir + "': " + ec.message();
    return false;
  }
  std::string path = (fs::path(dir) / ".ftc.lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {0};
    ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    std::string holder = n > 0 ? std::string(buf, size_t(n)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
      holder.pop_back();
    ::close(fd_);
    fd_ = -1;
    error = err == EWOULDBLOCK
                ? "another ftc run" +
                      (holder.empty() ? "" : " (pid " + holder + ")") +
                      " is using the output directory '" + dir +
                      "'; wait for it to end or choose another --output-dir"
                : "cannot lock " + path + ": " + std::strerror(err);
    return false;
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 ||
      ::pwrite(fd_, pid.data(), pid.size(), 0) != ssize_t(pid.size())) {
    // The lock holds without the pid; only the message is poorer.
  }
  return true;
}

OutputLock::~OutputLock() {
  if (fd_ >= 0)
    ::close(fd_);
}
