//===- Error.h - The runtime's user-facing error ----------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
#ifndef FTC_RUNTIME_ERROR_H
#define FTC_RUNTIME_ERROR_H

#include <stdexcept>

namespace ftc::rt {

/// A failure with a message meant for the user (bad data, corrupt file,
/// unsupported kernel, device failure), naming the file and location where
/// there is one. The CLI prints it and exits 1.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

} // namespace ftc::rt

#endif // FTC_RUNTIME_ERROR_H
