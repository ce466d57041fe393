//===- Spec.cpp - Loading, overriding and validating job specs --*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// The spec is held as a toml++ table; nodes parsed from the file keep their
// source regions. Overrides are parsed as one-line TOML documents whose
// source path is "<--set>#N", so their positions map back to column numbers
// in the N-th override. Keys whose location toml++ cannot know (tables created
// on the way to an overridden key, bare-word strings) are remembered in a
// side table.
//
//===----------------------------------------------------------------------===//

#include "ftc/Spec/Spec.h"
#include "ftc/Support/Glob.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

namespace ftc::spec {

namespace {

constexpr const char *kSetFile = "<--set>";
constexpr const char *kSetSourcePrefix = "<--set>#";
constexpr const char *kDefaultSource = "<default>";
// Overrides and defaults are parsed as "v = <value>": the value starts at
// column 5 of that document.
constexpr int kValueColumnInDoc = 5;

std::vector<std::string> splitPath(const std::string &path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos)
      break;
    start = dot + 1;
  }
  return parts;
}

bool isBareKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-';
}

std::string typeName(const toml::node &n) {
  switch (n.type()) {
  case toml::node_type::string:
    return "string";
  case toml::node_type::integer:
    return "integer";
  case toml::node_type::floating_point:
    return "float";
  case toml::node_type::boolean:
    return "boolean";
  case toml::node_type::array:
    return "array";
  case toml::node_type::table:
    return "table";
  case toml::node_type::date:
    return "date";
  case toml::node_type::time:
    return "time";
  case toml::node_type::date_time:
    return "date-time";
  default:
    return "nothing";
  }
}

std::string expectedName(KeyType t) {
  switch (t) {
  case KeyType::Int:
    return "an integer";
  case KeyType::Float:
    return "a number";
  case KeyType::Bool:
    return "a boolean";
  case KeyType::String:
    return "a string";
  case KeyType::IntArray:
    return "an array of integers";
  case KeyType::StringArray:
    return "an array of strings";
  case KeyType::StringOrInt:
    return "a string or an integer";
  case KeyType::FloatArray:
    return "an array of numbers";
  case KeyType::TableArray:
    return "an array of tables ([[section.key]])";
  }
  return "a value";
}

/// Shortest text that reads back as the same double, always recognisably a
/// float in TOML.
std::string formatDouble(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v < 0 ? "-inf" : "inf";
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eE") == std::string::npos)
    s += ".0";
  return s;
}

/// A range bound in a message: integers without a fraction.
std::string formatBound(double v, bool integral) {
  if (integral)
    return std::to_string(static_cast<long long>(v));
  return fmt::format("{}", v);
}

std::string quoteString(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\f':
      out += "\\f";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        out += fmt::format("\\u{:04X}", static_cast<unsigned char>(c));
      else
        out += c;
    }
  }
  return out + "\"";
}

std::string formatKey(const std::string &k) {
  if (!k.empty() && std::all_of(k.begin(), k.end(), isBareKeyChar))
    return k;
  return quoteString(k);
}

std::string formatValue(const toml::node &n, bool asFloat) {
  if (auto *v = n.as_integer())
    return asFloat ? formatDouble(static_cast<double>(v->get()))
                   : std::to_string(v->get());
  if (auto *v = n.as_floating_point())
    return formatDouble(v->get());
  if (auto *v = n.as_boolean())
    return v->get() ? "true" : "false";
  if (auto *v = n.as_string())
    return quoteString(v->get());
  if (auto *a = n.as_array()) {
    std::string s = "[";
    for (size_t i = 0; i < a->size(); ++i) {
      if (i)
        s += ", ";
      s += formatValue(*a->get(i), asFloat);
    }
    return s + "]";
  }
  if (auto *t = n.as_table()) {
    std::string s = "{ ";
    bool first = true;
    for (auto &&[k, v] : *t) {
      if (!first)
        s += ", ";
      first = false;
      s += formatKey(std::string(k.str())) + " = " + formatValue(v, false);
    }
    return s + (first ? "}" : " }");
  }
  std::ostringstream os;
  n.visit([&](auto &&v) { os << v; });
  return os.str();
}

std::string quotedList(const std::vector<std::string> &choices) {
  std::string s;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i)
      s += ", ";
    s += "'" + choices[i] + "'";
  }
  return s;
}

std::vector<std::string> didYouMean(const std::string &word,
                                    const std::vector<std::string> &known) {
  if (auto m = closestMatch(word, known))
    return {"did you mean '" + *m + "'?"};
  return {};
}

std::string fileStem(const std::string &path) {
  size_t slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string ext = ".toml";
  if (base.size() > ext.size() &&
      base.compare(base.size() - ext.size(), ext.size(), ext) == 0)
    base.resize(base.size() - ext.size());
  return base.empty() ? "spec" : base;
}

} // namespace

//===----------------------------------------------------------------------===//
// Impl
//===----------------------------------------------------------------------===//

struct Spec::Impl {
  struct OverrideInfo {
    SourceLoc keyLoc;
    SourceLoc valueLoc;
    std::string raw;   // the value text as written
    bool bare = false; // no quotes or brackets: may be read as a string
  };

  std::string file;
  toml::table root;
  /// Dotted path -> where an override wrote it (the key itself and the
  /// tables created on the way).
  std::map<std::string, OverrideInfo> overrides;
  /// Column where the value of override N (1-based) starts.
  std::vector<int> overrideValueColumn{0};
  /// Paths whose value is a default (or resolved from other keys).
  std::set<std::string> defaulted;
  std::optional<Schema> schema;

  //--- Locations -----------------------------------------------------------//

  std::optional<SourceLoc> translate(const toml::source_region &src) const {
    if (src.begin.line == 0)
      return std::nullopt;
    std::string path = src.path ? *src.path : file;
    if (path == kDefaultSource)
      return std::nullopt;
    if (path.rfind(kSetSourcePrefix, 0) == 0) {
      int index = std::atoi(path.c_str() + std::strlen(kSetSourcePrefix));
      if (index <= 0 || index >= static_cast<int>(overrideValueColumn.size()))
        return std::nullopt;
      int column = src.begin.line == 1
                       ? overrideValueColumn[index] +
                             static_cast<int>(src.begin.column) -
                             kValueColumnInDoc
                       : 0;
      return SourceLoc{kSetFile, index, column};
    }
    return SourceLoc{path, static_cast<int>(src.begin.line),
                     static_cast<int>(src.begin.column)};
  }

  SourceLoc fileStart() const { return SourceLoc{file, 1, 1}; }

  SourceLoc sectionLoc(const std::string &section) const {
    if (auto it = overrides.find(section); it != overrides.end())
      return it->second.keyLoc;
    if (const toml::node *n = root.get(section))
      if (auto loc = translate(n->source()))
        return *loc;
    return fileStart();
  }

  const toml::node *lookup(const std::string &path) const {
    const toml::table *tbl = &root;
    const toml::node *node = nullptr;
    for (const std::string &part : splitPath(path)) {
      if (!tbl)
        return nullptr;
      // "stages[2]": element 2 of the array "stages".
      size_t bracket = part.find('[');
      node = tbl->get(part.substr(0, bracket));
      if (node && bracket != std::string::npos) {
        const toml::array *a = node->as_array();
        size_t index = std::strtoull(part.c_str() + bracket + 1, nullptr, 10);
        node = a && index < a->size() ? a->get(index) : nullptr;
      }
      if (!node)
        return nullptr;
      tbl = node->as_table();
    }
    return node;
  }

  toml::node *lookup(const std::string &path) {
    return const_cast<toml::node *>(
        static_cast<const Impl *>(this)->lookup(path));
  }

  /// Where the key `path` is written (the key token itself).
  SourceLoc keyLoc(const std::string &path) const {
    if (auto it = overrides.find(path); it != overrides.end())
      return it->second.keyLoc;
    size_t dot = path.rfind('.');
    const toml::table *parent = &root;
    if (dot != std::string::npos) {
      const toml::node *p = lookup(path.substr(0, dot));
      parent = p ? p->as_table() : nullptr;
    }
    if (parent) {
      auto it =
          parent->find(path.substr(dot == std::string::npos ? 0 : dot + 1));
      if (it != parent->end())
        if (auto loc = translate(it->first.source()))
          return *loc;
    }
    return sectionLoc(splitPath(path).front());
  }

  /// Where the value of `path` (or an element of it) is written.
  SourceLoc valueLoc(const std::string &path, const toml::node &node) const {
    if (auto it = overrides.find(path); it != overrides.end())
      return it->second.valueLoc;
    if (auto loc = translate(node.source()))
      return *loc;
    return keyLoc(path);
  }

  SourceLoc elementLoc(const std::string &path, const toml::node &array,
                       const toml::node &element) const {
    if (auto loc = translate(element.source()))
      return *loc;
    return valueLoc(path, array);
  }

  //--- Overrides -----------------------------------------------------------//

  bool applyOverride(int index, const std::string &text,
                     DiagnosticEngine &diags) {
    auto at = [&](size_t offset) {
      return SourceLoc{kSetFile, index, static_cast<int>(offset) + 1};
    };
    auto malformed = [&](size_t offset, const std::string &why) {
      diags.error(at(offset), "malformed override '" + text + "': " + why);
      return false;
    };
    size_t eq = text.find('=');
    if (eq == std::string::npos)
      return malformed(0, "expected 'section.key=value'");

    // The key path: bare TOML keys joined by '.', surrounding blanks allowed.
    size_t begin = text.find_first_not_of(" \t");
    size_t end = text.find_last_not_of(" \t", eq == 0 ? 0 : eq - 1);
    if (begin >= eq || end == std::string::npos || end < begin)
      return malformed(eq, "missing key before '='");
    std::vector<std::pair<std::string, size_t>> segments; // name, offset
    size_t segStart = begin;
    for (size_t i = begin; i <= end + 1; ++i) {
      if (i == end + 1 || text[i] == '.') {
        if (i == segStart)
          return malformed(i, "empty key in path");
        segments.emplace_back(text.substr(segStart, i - segStart), segStart);
        segStart = i + 1;
      } else if (!isBareKeyChar(text[i])) {
        return malformed(i, std::string("invalid character '") + text[i] +
                                "' in key path");
      }
    }
    if (segments.size() < 2)
      return malformed(begin, "expected 'section.key=value'");

    // The value: a TOML literal, or a bare word taken as a string.
    size_t vBegin = text.find_first_not_of(" \t", eq + 1);
    if (vBegin == std::string::npos)
      return malformed(eq + 1, "missing value after '='");
    size_t vEnd = text.find_last_not_of(" \t\r\n");
    std::string raw = text.substr(vBegin, vEnd - vBegin + 1);
    int valueColumn = static_cast<int>(vBegin) + 1;
    overrideValueColumn.resize(index + 1, 0);
    overrideValueColumn[index] = valueColumn;
    bool bare = raw.find_first_of("\"'[]{}\n") == std::string::npos;

    std::string sourceName = kSetSourcePrefix + std::to_string(index);
    toml::table doc;
    try {
      doc = toml::parse("v = " + raw, std::string_view(sourceName));
    } catch (const toml::parse_error &e) {
      if (!bare) {
        SourceLoc loc = at(vBegin);
        if (auto l = translate(e.source()))
          loc = *l;
        diags.error(loc, "invalid value in override '" + text +
                             "': " + std::string(e.description()));
        return false;
      }
      doc = toml::table{};
      doc.insert("v", raw);
    }
    if (doc.size() != 1 || !doc.get("v")) {
      diags.error(at(vBegin), "invalid value in override '" + text +
                                  "': expected a single TOML value");
      return false;
    }

    // Walk to the parent table, creating missing tables on the way.
    toml::table *tbl = &root;
    std::string path;
    for (size_t i = 0; i + 1 < segments.size(); ++i) {
      const auto &[name, offset] = segments[i];
      path += (i ? "." : "") + name;
      toml::node *n = tbl->get(name);
      if (!n) {
        tbl->insert(name, toml::table{});
        n = tbl->get(name);
        overrides[path] = OverrideInfo{at(offset), at(offset), "", false};
      }
      if (!n->is_table()) {
        diags.error(at(offset), "cannot override '" +
                                    text.substr(begin, end - begin + 1) +
                                    "': '" + path + "' is not a table");
        return false;
      }
      tbl = n->as_table();
    }
    const auto &[last, lastOffset] = segments.back();
    path += "." + last;
    tbl->insert_or_assign(last, std::move(*doc.get("v")));
    // Whatever was under the replaced value is gone.
    for (auto it = overrides.lower_bound(path + ".");
         it != overrides.end() && it->first.rfind(path + ".", 0) == 0;)
      it = overrides.erase(it);
    overrides[path] = OverrideInfo{
        at(lastOffset), SourceLoc{kSetFile, index, valueColumn}, raw, bare};
    return true;
  }

  //--- Validation ----------------------------------------------------------//

  using Diags = std::vector<Diagnostic>;

  static void report(Diags &out, SourceLoc loc, std::string message,
                     std::vector<std::string> notes = {}) {
    out.push_back(
        Diagnostic{std::move(loc), std::move(message), std::move(notes)});
  }

  /// A bare-word override of a string key is a string, even when it happens
  /// to read as another TOML value (`--set model.task=true`).
  void reinterpretBareOverrides(const Schema &s) {
    for (const auto &[path, info] : overrides) {
      if (!info.bare)
        continue;
      std::vector<std::string> parts = splitPath(path);
      if (parts.size() != 2)
        continue;
      const KeyDecl *decl = s.find(parts[0], parts[1]);
      toml::node *node = lookup(path);
      if (!decl || !node || node->is_string())
        continue;
      bool wantsString =
          decl->type == KeyType::String ||
          (decl->type == KeyType::StringOrInt && !node->is_integer());
      if (!wantsString)
        continue;
      if (toml::table *parent = lookup(parts[0])->as_table())
        parent->insert_or_assign(parts[1], info.raw);
    }
  }

  void checkNumber(Diags &out, const std::string &what, const SourceLoc &loc,
                   const KeyDecl &d, double v, const std::string &shown,
                   bool integral) {
    if (d.min > d.max)
      return;
    if (!(v >= d.min))
      report(out, loc,
             "'" + what + "' must be >= " + formatBound(d.min, integral) +
                 ", got " + shown);
    else if (!(v <= d.max))
      report(out, loc,
             "'" + what + "' must be <= " + formatBound(d.max, integral) +
                 ", got " + shown);
  }

  void checkChoice(Diags &out, const std::string &what, const SourceLoc &loc,
                   const KeyDecl &d, const std::string &v, bool orInt) {
    if (d.choices.empty() ||
        std::find(d.choices.begin(), d.choices.end(), v) != d.choices.end())
      return;
    std::string allowed = orInt ? quotedList(d.choices) + " or an integer"
                                : quotedList(d.choices);
    report(out, loc,
           "'" + what + "' must be one of " + allowed + "; got '" + v + "'",
           didYouMean(v, d.choices));
  }

  void checkValue(Diags &out, const std::string &path, const KeyDecl &d,
                  const toml::node &n) {
    SourceLoc loc = valueLoc(path, n);
    auto wrongType = [&]() {
      report(out, loc,
             "'" + path + "' must be " + expectedName(d.type) + ", got " +
                 typeName(n));
    };
    switch (d.type) {
    case KeyType::Int:
      if (!n.is_integer())
        return wrongType();
      return checkNumber(out, path, loc, d,
                         static_cast<double>(n.as_integer()->get()),
                         std::to_string(n.as_integer()->get()), true);
    case KeyType::Float: {
      if (!n.is_number())
        return wrongType();
      double v = n.is_integer() ? static_cast<double>(n.as_integer()->get())
                                : n.as_floating_point()->get();
      return checkNumber(out, path, loc, d, v, fmt::format("{}", v), false);
    }
    case KeyType::Bool:
      if (!n.is_boolean())
        return wrongType();
      return;
    case KeyType::String:
      if (!n.is_string())
        return wrongType();
      if (d.byteSize && !parseBytes(n.as_string()->get()))
        return report(
            out, loc,
            "'" + path +
                "' must be a size (bytes with an optional "
                "unit: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), got '" +
                n.as_string()->get() + "'");
      return checkChoice(out, path, loc, d, n.as_string()->get(), false);
    case KeyType::StringOrInt:
      if (n.is_integer())
        return checkNumber(out, path, loc, d,
                           static_cast<double>(n.as_integer()->get()),
                           std::to_string(n.as_integer()->get()), true);
      if (n.is_string())
        return checkChoice(out, path, loc, d, n.as_string()->get(), true);
      return wrongType();
    case KeyType::TableArray: {
      const toml::array *a = n.as_array();
      if (!a)
        return wrongType();
      std::vector<std::string> known;
      for (const KeyDecl &f : d.fields)
        known.push_back(f.name);
      for (size_t i = 0; i < a->size(); ++i) {
        const toml::node &e = *a->get(i);
        std::string what = path + "[" + std::to_string(i) + "]";
        const toml::table *t = e.as_table();
        if (!t) {
          report(out, elementLoc(path, n, e),
                 "'" + what + "' must be a table, got " + typeName(e));
          continue;
        }
        for (auto &&[k, v] : *t) {
          std::string name(k.str());
          auto f =
              std::find_if(d.fields.begin(), d.fields.end(),
                           [&](const KeyDecl &x) { return x.name == name; });
          if (f == d.fields.end()) {
            report(out, keyLoc(what + "." + name),
                   "unknown key '" + name + "' in " + what,
                   didYouMean(name, known));
            continue;
          }
          checkValue(out, what + "." + name, *f, v);
        }
        for (const KeyDecl &f : d.fields)
          if (f.required && !t->get(f.name))
            report(out, elementLoc(path, n, e),
                   "'" + what + "' needs '" + f.name + "'");
      }
      return;
    }
    case KeyType::IntArray:
    case KeyType::StringArray:
    case KeyType::FloatArray: {
      const toml::array *a = n.as_array();
      bool ints = d.type == KeyType::IntArray;
      bool floats = d.type == KeyType::FloatArray;
      const char *element = ints     ? "an integer"
                            : floats ? "a number"
                                     : "a string";
      // One element: the value itself, checked as an element would be.
      auto checkElement = [&](const toml::node &e, const std::string &what,
                              const SourceLoc &eloc) {
        if (ints ? !e.is_integer() : floats ? !e.is_number() : !e.is_string())
          return report(out, eloc,
                        "'" + what + "' must be " + element + ", got " +
                            typeName(e));
        if (ints)
          return checkNumber(out, what, eloc, d,
                             static_cast<double>(e.as_integer()->get()),
                             std::to_string(e.as_integer()->get()), true);
        if (floats) {
          double v = e.is_integer() ? static_cast<double>(e.as_integer()->get())
                                    : e.as_floating_point()->get();
          return checkNumber(out, what, eloc, d, v, fmt::format("{}", v),
                             false);
        }
        checkChoice(out, what, eloc, d, e.as_string()->get(), false);
      };
      if (!a) {
        if (d.scalarOk && (ints     ? n.is_integer()
                           : floats ? n.is_number()
                                    : n.is_string()))
          return checkElement(n, path, loc);
        if (d.scalarOk)
          return report(out, loc,
                        "'" + path + "' must be " + element + " or " +
                            expectedName(d.type) + ", got " + typeName(n));
        return wrongType();
      }
      for (size_t i = 0; i < a->size(); ++i) {
        const toml::node &e = *a->get(i);
        checkElement(e, path + "[" + std::to_string(i) + "]",
                     elementLoc(path, n, e));
      }
      return;
    }
    }
  }

  void checkStructure(Diags &out, const Schema &s) {
    for (auto &&[k, v] : root) {
      std::string section(k.str());
      const std::vector<KeyDecl> *decls = s.keys(section);
      if (!decls) {
        if (v.is_table()) {
          report(out, sectionLoc(section), "unknown section [" + section + "]",
                 didYouMean(section, s.sections()));
          continue;
        }
        std::vector<std::string> notes = didYouMean(section, s.sections());
        if (notes.empty())
          for (const std::string &sec : s.sections())
            if (s.find(sec, section)) {
              notes.push_back("'" + section + "' belongs in [" + sec + "]");
              break;
            }
        report(out, keyLoc(section),
               "unknown key '" + section + "' outside any section", notes);
        continue;
      }
      const toml::table *tbl = v.as_table();
      if (!tbl) {
        report(out, keyLoc(section),
               "'" + section + "' must be a section (table), got " +
                   typeName(v));
        continue;
      }
      std::vector<std::string> known;
      for (const KeyDecl &d : *decls)
        known.push_back(d.name);
      for (auto &&[k2, v2] : *tbl) {
        std::string name(k2.str());
        std::string path = section + "." + name;
        const KeyDecl *d = s.find(section, name);
        if (!d) {
          report(out, keyLoc(path),
                 "unknown key '" + name + "' in [" + section + "]",
                 didYouMean(name, known));
          continue;
        }
        checkValue(out, path, *d, v2);
      }
    }
    for (const std::string &section : s.sections())
      for (const KeyDecl &d : *s.keys(section))
        if (d.required && !lookup(section + "." + d.name)) {
          const toml::node *sec = root.get(section);
          if (sec && !sec->is_table())
            continue; // already reported
          report(out, sectionLoc(section),
                 "missing required key '" + section + "." + d.name + "'");
        }
  }

  void setDefault(toml::table &tbl, const std::string &section,
                  const std::string &key, toml::node &&value) {
    tbl.insert(key, std::move(value));
    defaulted.insert(section + "." + key);
  }

  void fillDefaults(const Schema &s) {
    for (const std::string &section : s.sections()) {
      toml::node *sec = root.get(section);
      if (!sec) {
        root.insert(section, toml::table{});
        sec = root.get(section);
      }
      toml::table *tbl = sec->as_table();
      if (!tbl)
        continue;
      for (const KeyDecl &d : *s.keys(section)) {
        if (!d.defaultToml || tbl->get(d.name))
          continue;
        toml::table doc;
        try {
          doc = toml::parse("v = " + *d.defaultToml,
                            std::string_view(kDefaultSource));
        } catch (const toml::parse_error &e) {
          throw std::logic_error("bad default for '" + section + "." + d.name +
                                 "': " + std::string(e.description()));
        }
        setDefault(*tbl, section, d.name, std::move(*doc.get("v")));
      }
    }
    // Defaults that depend on other values.
    if (toml::table *p = root.get_as<toml::table>("pipeline")) {
      if (!p->get("name"))
        setDefault(*p, "pipeline", "name",
                   toml::value<std::string>(fileStem(file)));
      if (!p->get("output_dir"))
        if (auto *name = p->get_as<std::string>("name"))
          setDefault(*p, "pipeline", "output_dir",
                     toml::value<std::string>("runs/" + name->get()));
    }
    // The LoRA keys have defaults only under policy "lora" (elsewhere they
    // are errors), so --resolved shows what a LoRA job really uses.
    if (toml::table *f = root.get_as<toml::table>("freeze"))
      if (auto *policy = f->get_as<std::string>("policy");
          policy && policy->get() == "lora") {
        auto fill = [&](const char *key, toml::node &&value) {
          if (!f->get(key))
            setDefault(*f, "freeze", key, std::move(value));
        };
        fill("lora_rank", toml::value<int64_t>(8));
        fill("lora_alpha", toml::value<double>(16.0));
        fill("lora_dropout", toml::value<double>(0.0));
        fill("lora_merge", toml::value<bool>(false));
      }
    if (toml::node *eb = lookup("eval.batch_size"))
      if (toml::node *tb = lookup("train.batch_size"))
        if (eb->is_integer() && tb->is_integer() &&
            eb->as_integer()->get() == 0)
          *eb->as_integer() = tb->as_integer()->get();
  }

  /// [[freeze.stages]]: ordered epochs, a consistent policy per stage, and
  /// no stage-less freeze settings beside them.
  void checkStages(Diags &out) {
    const toml::node *stages = lookup("freeze.stages");
    const toml::array *a = stages ? stages->as_array() : nullptr;
    if (!a)
      return;
    if (a->empty()) {
      report(out, valueLoc("freeze.stages", *stages),
             "'freeze.stages' is empty: give at least one stage");
      return;
    }
    for (const char *key : {"policy", "trainable", "frozen", "freeze_below"}) {
      std::string path = std::string("freeze.") + key;
      if (lookup(path) && !defaulted.count(path))
        report(out, keyLoc(path),
               "'" + path +
                   "' cannot be combined with [[freeze.stages]]: "
                   "each stage sets its own",
               {"move it into the stages ([[freeze.stages]] from_epoch = 1 "
                "...)"});
    }
    int64_t previous = 0;
    for (size_t i = 0; i < a->size(); ++i) {
      std::string at = "freeze.stages[" + std::to_string(i) + "]";
      const toml::table *t = a->get(i)->as_table();
      if (!t)
        continue; // reported by checkValue
      const toml::node *from = t->get("from_epoch");
      if (from && from->is_integer()) {
        int64_t e = from->as_integer()->get();
        if (i == 0 && e != 1)
          report(out, valueLoc(at + ".from_epoch", *from),
                 "the first stage must start at epoch 1, got " +
                     std::to_string(e));
        else if (i > 0 && e <= previous)
          report(out, valueLoc(at + ".from_epoch", *from),
                 "stages must start at increasing epochs: " +
                     std::to_string(e) + " after " + std::to_string(previous));
        previous = e;
      }
      const toml::node *p = t->get("policy");
      std::string policy =
          p && p->is_string() ? p->as_string()->get() : std::string("none");
      bool trainable = t->get("trainable"), frozen = t->get("frozen");
      if (policy == "patterns" && trainable == frozen)
        report(out, p ? valueLoc(at + ".policy", *p) : keyLoc(at),
               at + ": policy \"patterns\" takes exactly one of "
                    "'trainable' and 'frozen'");
      if (policy != "patterns")
        for (const char *key : {"trainable", "frozen"})
          if (t->get(key))
            report(out, keyLoc(at + "." + key),
                   "'" + at + "." + key +
                       "' is only allowed with policy = \"patterns\"");
    }
  }

  void checkCrossKeys(Diags &out) {
    checkStages(out);
    const toml::node *policy = lookup("freeze.policy");
    if (policy && policy->is_string()) {
      const std::string &p = policy->as_string()->get();
      const toml::node *trainable = lookup("freeze.trainable");
      const toml::node *frozen = lookup("freeze.frozen");
      if (p == "patterns") {
        if (!trainable && !frozen)
          report(out, keyLoc("freeze.policy"),
                 "freeze.policy = \"patterns\" requires 'freeze.trainable' "
                 "or 'freeze.frozen'");
        else if (trainable && frozen)
          report(out, keyLoc("freeze.policy"),
                 "freeze.policy = \"patterns\" takes one of "
                 "'freeze.trainable' and 'freeze.frozen', not both");
      } else {
        for (const char *key : {"trainable", "frozen"})
          if (lookup(std::string("freeze.") + key))
            report(out, keyLoc(std::string("freeze.") + key),
                   std::string("'freeze.") + key +
                       "' is only allowed with freeze.policy = "
                       "\"patterns\"; the policy is '" +
                       p + "'",
                   {"set freeze.policy = \"patterns\" to choose parameters "
                    "by name"});
      }
      if (p != "lora")
        for (const char *key :
             {"lora_rank", "lora_alpha", "lora_dropout", "lora_targets",
              "modules_to_save", "lora_merge"})
          if (lookup(std::string("freeze.") + key))
            report(out, keyLoc(std::string("freeze.") + key),
                   std::string("'freeze.") + key +
                       "' is only allowed with freeze.policy = \"lora\"; "
                       "the policy is '" +
                       p + "'");
      if (trainable && trainable->is_array() && trainable->as_array()->empty())
        report(out, valueLoc("freeze.trainable", *trainable),
               "'freeze.trainable' is empty: nothing would train");
    }
    for (const char *key : {"freeze.trainable", "freeze.frozen"}) {
      const toml::node *n = lookup(key);
      if (!n || !n->is_array())
        continue;
      const toml::array &a = *n->as_array();
      for (size_t i = 0; i < a.size(); ++i) {
        const toml::node &e = *a.get(i);
        if (!e.is_string())
          continue;
        std::string error;
        if (!GlobPattern::compile(e.as_string()->get(), error))
          report(out, elementLoc(key, *n, e),
                 "invalid pattern '" + e.as_string()->get() + "' in '" + key +
                     "[" + std::to_string(i) + "]': " + error);
      }
    }
    const toml::node *steps = lookup("schedule.warmup_steps");
    const toml::node *ratio = lookup("schedule.warmup_ratio");
    if (steps && ratio && steps->is_integer() && ratio->is_number()) {
      double r = ratio->is_integer()
                     ? static_cast<double>(ratio->as_integer()->get())
                     : ratio->as_floating_point()->get();
      if (steps->as_integer()->get() > 0 && r > 0)
        // Located at the one a --set added, if either: that is the cause.
        report(out,
               keyLoc(overrides.count("schedule.warmup_steps")
                          ? "schedule.warmup_steps"
                          : "schedule.warmup_ratio"),
               "'schedule.warmup_steps' and 'schedule.warmup_ratio' cannot "
               "both be set",
               {"warmup is either a step count or a fraction of all steps; "
                "set only one"});
    }
  }
};

//===----------------------------------------------------------------------===//
// Spec
//===----------------------------------------------------------------------===//

Spec::Spec() : impl_(std::make_unique<Impl>()) {}
Spec::~Spec() = default;
Spec::Spec(Spec &&) noexcept = default;
Spec &Spec::operator=(Spec &&) noexcept = default;

std::optional<Spec> Spec::load(const std::string &path,
                               const std::vector<std::string> &overrides,
                               DiagnosticEngine &diags) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    diags.error(SourceLoc{path, 0, 0},
                std::string("cannot open spec: ") + std::strerror(errno));
    return std::nullopt;
  }
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
    text.append(buf, n);
  int readError = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (readError) {
    diags.error(SourceLoc{path, 0, 0},
                std::string("cannot open spec: ") + std::strerror(readError));
    return std::nullopt;
  }
  return parse(text, path, overrides, diags);
}

std::optional<Spec> Spec::parse(const std::string &text,
                                const std::string &name,
                                const std::vector<std::string> &overrides,
                                DiagnosticEngine &diags) {
  Spec spec;
  Impl &impl = *spec.impl_;
  impl.file = name;
  try {
    impl.root = toml::parse(text, std::string_view(name));
  } catch (const toml::parse_error &e) {
    diags.error(SourceLoc{name, static_cast<int>(e.source().begin.line),
                          static_cast<int>(e.source().begin.column)},
                std::string(e.description()));
    return std::nullopt;
  }
  bool ok = true;
  for (size_t i = 0; i < overrides.size(); ++i)
    ok &= impl.applyOverride(static_cast<int>(i + 1), overrides[i], diags);
  if (!ok)
    return std::nullopt;
  return spec;
}

bool Spec::validate(const Schema &schema, DiagnosticEngine &diags) {
  Impl &impl = *impl_;
  impl.schema = schema;
  Impl::Diags out;
  impl.reinterpretBareOverrides(schema);
  impl.checkStructure(out, schema);
  impl.fillDefaults(schema);
  impl.checkCrossKeys(out);
  // Report in reading order: the file first, then the overrides.
  std::stable_sort(out.begin(), out.end(),
                   [](const Diagnostic &a, const Diagnostic &b) {
                     bool aSet = a.loc.file == kSetFile;
                     bool bSet = b.loc.file == kSetFile;
                     if (aSet != bSet)
                       return !aSet;
                     if (a.loc.line != b.loc.line)
                       return a.loc.line < b.loc.line;
                     return a.loc.column < b.loc.column;
                   });
  for (Diagnostic &d : out)
    diags.error(std::move(d.loc), std::move(d.message), std::move(d.notes));
  return !diags.hasErrors();
}

//===----------------------------------------------------------------------===//
// Access
//===----------------------------------------------------------------------===//

namespace {

[[noreturn]] void notSet(const std::string &path) {
  throw std::out_of_range("spec key '" + path + "' is not set");
}

[[noreturn]] void wrongType(const std::string &path, const char *want) {
  throw std::invalid_argument("spec key '" + path + "' is not " +
                              std::string(want));
}

} // namespace

size_t Spec::arraySize(const std::string &path) const {
  const toml::node *n = impl_->lookup(path);
  const toml::array *a = n ? n->as_array() : nullptr;
  return a ? a->size() : 0;
}

bool Spec::has(const std::string &path) const {
  return impl_->lookup(path) != nullptr;
}

int64_t Spec::getInt(const std::string &path) const {
  const toml::node *n = impl_->lookup(path);
  if (!n)
    notSet(path);
  if (!n->is_integer())
    wrongType(path, "an integer");
  return n->as_integer()->get();
}

double Spec::getFloat(const std::string &path) const {
  const toml::node *n = impl_->lookup(path);
  if (!n)
    notSet(path);
  if (n->is_integer())
    return static_cast<double>(n->as_integer()->get());
  if (!n->is_floating_point())
    wrongType(path, "a number");
  return n->as_floating_point()->get();
}

bool Spec::getBool(const std::string &path) const {
  const toml::node *n = impl_->lookup(path);
  if (!n)
    notSet(path);
  if (!n->is_boolean())
    wrongType(path, "a boolean");
  return n->as_boolean()->get();
}

std::string Spec::getString(const std::string &path) const {
  const toml::node *n = impl_->lookup(path);
  if (!n)
    notSet(path);
  if (!n->is_string())
    wrongType(path, "a string");
  return n->as_string()->get();
}

std::vector<int64_t> Spec::getInts(const std::string &path) const {
  const toml::node *n = impl_->lookup(path);
  if (!n)
    notSet(path);
  const toml::array *a = n->as_array();
  if (!a)
    wrongType(path, "an array of integers");
  std::vector<int64_t> out;
  for (const toml::node &e : *a) {
    if (!e.is_integer())
      wrongType(path, "an array of integers");
    out.push_back(e.as_integer()->get());
  }
  return out;
}

std::vector<std::string> Spec::getStrings(const std::string &path) const {
  const toml::node *n = impl_->lookup(path);
  if (!n)
    notSet(path);
  const toml::array *a = n->as_array();
  if (!a)
    wrongType(path, "an array of strings");
  std::vector<std::string> out;
  for (const toml::node &e : *a) {
    if (!e.is_string())
      wrongType(path, "an array of strings");
    out.push_back(e.as_string()->get());
  }
  return out;
}

bool Spec::isInt(const std::string &path) const {
  const toml::node *n = impl_->lookup(path);
  return n && n->is_integer();
}

SourceLoc Spec::locate(const std::string &path) const {
  const Impl &impl = *impl_;
  std::string section = splitPath(path).front();
  if (impl.defaulted.count(path) || !impl.lookup(path))
    return impl.root.get(section) ? impl.sectionLoc(section) : impl.fileStart();
  if (path == section)
    return impl.sectionLoc(section);
  return impl.keyLoc(path);
}

const std::string &Spec::file() const { return impl_->file; }

std::string Spec::toToml() const {
  const Impl &impl = *impl_;
  std::ostringstream os;
  if (!impl.schema) {
    os << impl.root << "\n";
    return os.str();
  }
  bool first = true;
  for (const std::string &section : impl.schema->sections()) {
    if (!first)
      os << "\n";
    first = false;
    os << "[" << formatKey(section) << "]\n";
    const toml::table *tbl = impl.root.get_as<toml::table>(section);
    if (!tbl)
      continue;
    for (const KeyDecl &d : *impl.schema->keys(section))
      if (const toml::node *n = tbl->get(d.name))
        os << formatKey(d.name) << " = "
           << formatValue(*n, d.type == KeyType::Float ||
                                  d.type == KeyType::FloatArray)
           << "\n";
  }
  return os.str();
}

} // namespace ftc::spec

std::optional<int64_t> ftc::spec::parseBytes(const std::string &text) {
  size_t end = 0;
  double value;
  try {
    value = std::stod(text, &end);
  } catch (const std::exception &) {
    return std::nullopt;
  }
  std::string unit = text.substr(end);
  while (!unit.empty() && unit.front() == ' ')
    unit.erase(unit.begin());
  static const std::pair<const char *, double> kUnits[] = {
      {"", 1},
      {"B", 1},
      {"KB", 1e3},
      {"MB", 1e6},
      {"GB", 1e9},
      {"TB", 1e12},
      {"KiB", 1 << 10},
      {"MiB", 1 << 20},
      {"GiB", double(1 << 30)},
      {"TiB", double(int64_t(1) << 40)}};
  for (auto [name, scale] : kUnits)
    if (unit == name && value >= 0 && value * scale < 0x1p62)
      return int64_t(value * scale);
  return std::nullopt;
}
