//===- Glob.h - Glob patterns over dotted parameter names -------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Parameter names are dot-separated paths such as
// `bert.encoder.layer.3.attention.self.query.weight`. A GlobPattern matches
// whole names:
//   *        any run of characters except '.' (possibly empty)
//   **       any run of characters including '.' (possibly empty)
//   ?        exactly one character other than '.'
//   {a,b,c}  one of the alternatives; each may contain globs and braces
//   {0..11}  a decimal integer in the inclusive range, written without
//            leading zeros ("10" matches, "010" does not)
//   \c       the character c literally
// Everything else matches itself. Matching backtracks over a small compiled
// tree; no std::regex.
//
//===----------------------------------------------------------------------===//
#ifndef FTC_SUPPORT_GLOB_H
#define FTC_SUPPORT_GLOB_H

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ftc {

class GlobPattern {
public:
  /// Compiles `pattern`; on failure returns nullopt and sets `error` to a
  /// one-line reason (e.g. "unbalanced '{' at offset 4").
  static std::optional<GlobPattern> compile(const std::string &pattern,
                                            std::string &error);
  /// True when the whole of `name` matches the pattern.
  bool match(const std::string &name) const;
  const std::string &pattern() const { return pattern_; }

  struct Node;
  using Seq = std::vector<Node>;

private:
  GlobPattern() = default;
  std::string pattern_;
  std::shared_ptr<const Seq> seq_;
};

} // namespace ftc

#endif // FTC_SUPPORT_GLOB_H
