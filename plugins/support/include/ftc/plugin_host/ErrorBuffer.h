//===- ErrorBuffer.h - Host-side storage for ftc_error_t --------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The host passes an ftc_error_t into every plugin call that can fail; this
// owns the message buffer it points at. Not copyable: `error` points into
// `buf`.
//
//===----------------------------------------------------------------------===//
#ifndef FTC_PLUGIN_HOST_ERRORBUFFER_H
#define FTC_PLUGIN_HOST_ERRORBUFFER_H

#include "ftc/plugin_api.h"

#include <cstring>
#include <string>

namespace ftc::plugin {

struct ErrorBuffer {
  char buf[2048];
  ftc_error_t error;

  ErrorBuffer() : error{buf, sizeof(buf), nullptr} { buf[0] = '\0'; }
  ErrorBuffer(const ErrorBuffer &) = delete;
  ErrorBuffer &operator=(const ErrorBuffer &) = delete;

  /// The pointer to hand to a plugin call.
  ftc_error_t *get() { return &error; }

  /// Clears the message and key before reuse.
  void reset() {
    buf[0] = '\0';
    error.message = buf;
    error.capacity = sizeof(buf);
    error.key = nullptr;
  }

  /// The message the plugin wrote, or `fallback` when it wrote none. Always
  /// NUL-terminated, even if the plugin forgot to terminate it.
  std::string message(const char *fallback = "unknown plugin error") const {
    size_t n = strnlen(buf, sizeof(buf));
    return n ? std::string(buf, n) : std::string(fallback);
  }

  /// The spec key the plugin blamed, or nullptr.
  const char *key() const { return error.key; }
};

} // namespace ftc::plugin

#endif // FTC_PLUGIN_HOST_ERRORBUFFER_H
