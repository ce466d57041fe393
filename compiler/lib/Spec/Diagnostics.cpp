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

static size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t subst = prev[j - 1] +
                     (std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                              std::tolower(static_cast<unsigned char>(b[j - 1]))
                          ? 0
                          : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
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
