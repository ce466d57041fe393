//===- Glob.cpp - Glob patterns over dotted parameter names -----*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// A pattern compiles to a sequence of nodes; alternatives hold sequences of
// their own. Matching is backtracking in continuation-passing style, so an
// alternative or a wildcard can be retried with every split of the input.
//
//===----------------------------------------------------------------------===//

#include "ftc/Support/Glob.h"

#include <cstdint>
#include <functional>

namespace ftc {

struct GlobPattern::Node {
  enum Kind { Literal, Star, DoubleStar, Question, Alternatives, Range };
  Kind kind = Literal;
  std::string text;        // Literal
  std::vector<Seq> alts;   // Alternatives
  uint64_t lo = 0, hi = 0; // Range
};

namespace {

using Node = GlobPattern::Node;
using Seq = GlobPattern::Seq;
using Cont = std::function<bool(size_t)>;

class Parser {
public:
  Parser(const std::string &p, std::string &error) : p_(p), error_(error) {}

  bool parseAll(Seq &out) {
    if (!parseSeq(out, /*inBraces=*/false))
      return false;
    if (i_ != p_.size()) { // only a stray '}' stops a top-level sequence
      error_ = "unbalanced '}' at offset " + std::to_string(i_);
      return false;
    }
    return true;
  }

private:
  void addLiteral(Seq &seq, char c) {
    if (seq.empty() || seq.back().kind != Node::Literal) {
      seq.emplace_back();
      seq.back().kind = Node::Literal;
    }
    seq.back().text.push_back(c);
  }

  // Parses until the end, or (inside braces) an unescaped ',' or '}' of this
  // level, which is left unconsumed. A top-level '}' is left for parseAll.
  bool parseSeq(Seq &seq, bool inBraces) {
    while (i_ < p_.size()) {
      char c = p_[i_];
      if (c == '}' || (inBraces && c == ','))
        return true;
      if (c == '\\') {
        if (i_ + 1 >= p_.size()) {
          error_ = "trailing '\\' at offset " + std::to_string(i_);
          return false;
        }
        addLiteral(seq, p_[i_ + 1]);
        i_ += 2;
      } else if (c == '*') {
        Node n;
        if (i_ + 1 < p_.size() && p_[i_ + 1] == '*') {
          n.kind = Node::DoubleStar;
          i_ += 2;
        } else {
          n.kind = Node::Star;
          ++i_;
        }
        seq.push_back(std::move(n));
      } else if (c == '?') {
        Node n;
        n.kind = Node::Question;
        seq.push_back(std::move(n));
        ++i_;
      } else if (c == '{') {
        if (!parseBraces(seq))
          return false;
      } else if (c == '.' && i_ + 1 < p_.size() && p_[i_ + 1] == '.') {
        // Names never hold "..": this is a misplaced range such as
        // "{0..2,fc}" (write "{{0..2},fc}").
        error_ = "'..' outside an integer range '{LO..HI}' at offset " +
                 std::to_string(i_);
        return false;
      } else {
        addLiteral(seq, c);
        ++i_;
      }
    }
    return true;
  }

  static bool parseNumber(const std::string &s, uint64_t &out) {
    if (s.empty() || s.size() > 19)
      return false;
    out = 0;
    for (char c : s) {
      if (c < '0' || c > '9')
        return false;
      out = out * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
  }

  bool parseBraces(Seq &seq) {
    size_t open = i_;
    // A brace whose content (up to the first '}', with no ',' or '{' before
    // it) contains ".." must be an integer range.
    size_t close = p_.find_first_of(",{}", open + 1);
    if (close != std::string::npos && p_[close] == '}') {
      std::string content = p_.substr(open + 1, close - open - 1);
      size_t dots = content.find("..");
      if (dots != std::string::npos) {
        uint64_t lo = 0, hi = 0;
        if (!parseNumber(content.substr(0, dots), lo) ||
            !parseNumber(content.substr(dots + 2), hi)) {
          error_ = "bad range '{" + content + "}' at offset " +
                   std::to_string(open) +
                   ": expected '{LO..HI}' with "
                   "non-negative integers";
          return false;
        }
        if (lo > hi) {
          error_ = "bad range '{" + content + "}' at offset " +
                   std::to_string(open) + ": " + std::to_string(lo) +
                   " is greater than " + std::to_string(hi);
          return false;
        }
        Node n;
        n.kind = Node::Range;
        n.lo = lo;
        n.hi = hi;
        seq.push_back(std::move(n));
        i_ = close + 1;
        return true;
      }
      if (content.empty()) {
        error_ = "empty '{}' at offset " + std::to_string(open);
        return false;
      }
    }
    Node n;
    n.kind = Node::Alternatives;
    ++i_; // '{'
    while (true) {
      Seq alt;
      if (!parseSeq(alt, /*inBraces=*/true))
        return false;
      n.alts.push_back(std::move(alt));
      if (i_ >= p_.size()) {
        error_ = "unbalanced '{' at offset " + std::to_string(open);
        return false;
      }
      if (p_[i_++] == '}')
        break; // else ',': next alternative
    }
    seq.push_back(std::move(n));
    return true;
  }

  const std::string &p_;
  std::string &error_;
  size_t i_ = 0;
};

bool matchSeq(const Seq &seq, size_t idx, const std::string &s, size_t pos,
              const Cont &k) {
  if (idx == seq.size())
    return k(pos);
  const Node &n = seq[idx];
  switch (n.kind) {
  case Node::Literal:
    if (s.compare(pos, n.text.size(), n.text) != 0)
      return false;
    return matchSeq(seq, idx + 1, s, pos + n.text.size(), k);
  case Node::Question:
    if (pos >= s.size() || s[pos] == '.')
      return false;
    return matchSeq(seq, idx + 1, s, pos + 1, k);
  case Node::Star:
  case Node::DoubleStar: {
    // Try every extent, shortest first; '*' stops at the first '.'.
    for (size_t end = pos;; ++end) {
      if (matchSeq(seq, idx + 1, s, end, k))
        return true;
      if (end >= s.size() || (n.kind == Node::Star && s[end] == '.'))
        return false;
    }
  }
  case Node::Range: {
    size_t end = pos;
    while (end < s.size() && end - pos < 20 && s[end] >= '0' && s[end] <= '9')
      ++end;
    for (size_t len = 1; pos + len <= end; ++len) {
      if (len > 1 && s[pos] == '0')
        break; // no leading zeros
      if (len > 19)
        break;
      uint64_t v = 0;
      for (size_t j = pos; j < pos + len; ++j)
        v = v * 10 + static_cast<uint64_t>(s[j] - '0');
      if (v >= n.lo && v <= n.hi && matchSeq(seq, idx + 1, s, pos + len, k))
        return true;
    }
    return false;
  }
  case Node::Alternatives:
    for (const Seq &alt : n.alts) {
      Cont rest = [&](size_t p) { return matchSeq(seq, idx + 1, s, p, k); };
      if (matchSeq(alt, 0, s, pos, rest))
        return true;
    }
    return false;
  }
  return false;
}

} // namespace

std::optional<GlobPattern> GlobPattern::compile(const std::string &pattern,
                                                std::string &error) {
  auto seq = std::make_shared<Seq>();
  Parser parser(pattern, error);
  if (!parser.parseAll(*seq))
    return std::nullopt;
  GlobPattern g;
  g.pattern_ = pattern;
  g.seq_ = std::move(seq);
  return g;
}

bool GlobPattern::match(const std::string &name) const {
  if (!seq_)
    return false;
  return matchSeq(*seq_, 0, name, 0,
                  [&](size_t pos) { return pos == name.size(); });
}

} // namespace ftc
