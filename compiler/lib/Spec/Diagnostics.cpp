//===- Diagnostics.cpp - Located spec diagnostics ---------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// Printing in the compiler format ("file:line:col: error: ...") and the
// edit-distance "did you mean" helper.
//
//===----------------------------------------------------------------------===//

#include "ftc/Spec/Spec.h"

#include <algorithm>
#include <cctype>

namespace ftc::spec {

static std::string locPrefix(const SourceLoc &loc) {
  std::string s = loc.file;
  if (loc.line > 0) {
    s += ":" + std::to_string(loc.line);
    if (loc.column > 0)
      s += ":" + std::to_string(loc.column);
  }
  return s + ": ";
}

std::string Diagnostic::str() const {
  std::string prefix = locPrefix(loc);
  std::string s = prefix + "error: " + message;
  for (const std::string &note : notes)
    s += "\n" + prefix + "note: " + note;
  return s;
}

void DiagnosticEngine::error(SourceLoc loc, std::string message,
                             std::vector<std::string> notes) {
  diagnostics_.push_back(
      Diagnostic{std::move(loc), std::move(message), std::move(notes)});
}

std::string DiagnosticEngine::str() const {
  std::string s;
  for (const Diagnostic &d : diagnostics_)
    s += d.str() + "\n";
  return s;
}

/// Case-insensitive optimal-string-alignment distance: insertions,
/// deletions, substitutions and swaps of two adjacent letters cost 1, so a
/// transposed name ("trian") is as close as a mistyped one ("traim").
static size_t editDistance(const std::string &a, const std::string &b) {
  auto same = [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  };
  std::vector<std::vector<size_t>> d(a.size() + 1,
                                     std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] =
          std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                    d[i - 1][j - 1] + (same(a[i - 1], b[j - 1]) ? 0 : 1)});
      if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) &&
          same(a[i - 2], b[j - 1]))
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::optional<std::string> closestMatch(const std::string &word,
                                        const std::vector<std::string> &known) {
  size_t limit = std::max<size_t>(1, word.size() / 3);
  std::optional<std::string> best;
  size_t bestDistance = limit + 1;
  for (const std::string &candidate : known) {
    size_t d = editDistance(word, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

} // namespace ftc::spec
