//===- Spec.h - The strict, located job spec --------------------*- C++ -*-===//
// SPDX-License-Identifier: Apache-2.0
//
// A job spec is one TOML file. Loading is two-phase because plugins declare
// keys of their own:
//   1. Spec::load parses the file and applies `--set key.path=value`
//      overrides (syntax errors are located in the file or in the override).
//   2. Spec::validate checks every section against a Schema (the core keys
//      plus the keys the model and dataset plugins declare) and fills in
//      every default, giving the fully resolved spec.
// Every problem is a Diagnostic with file:line:col, printed like a compiler
// error, plus "did you mean" notes where a known name is close.
//
// Plain C++ with exceptions (toml++ is built with them); no MLIR.
//===----------------------------------------------------------------------===//
#ifndef FTC_SPEC_SPEC_H
#define FTC_SPEC_SPEC_H

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ftc::spec {

struct SourceLoc {
  std::string file; // the spec path, or "<--set>" for an override
  int line = 0;     // 1-based; 0 when unknown
  int column = 0;
};

struct Diagnostic {
  SourceLoc loc;
  std::string message;
  std::vector<std::string> notes; // e.g. "did you mean 'epochs'?"
  /// "file:line:col: error: message\nfile:line:col: note: ..." (one line
  /// per note, located like the error).
  std::string str() const;
};

/// Collects diagnostics; callers stop before heavy work when any exist.
class DiagnosticEngine {
public:
  void error(SourceLoc loc, std::string message,
             std::vector<std::string> notes = {});
  bool hasErrors() const { return !diagnostics_.empty(); }
  const std::vector<Diagnostic> &diagnostics() const { return diagnostics_; }
  /// All diagnostics, each ending with '\n'.
  std::string str() const;

private:
  std::vector<Diagnostic> diagnostics_;
};

/// The closest candidate by edit distance, if close enough to be a likely
/// typo (distance <= max(1, len/3)).
std::optional<std::string> closestMatch(const std::string &word,
                                        const std::vector<std::string> &known);

enum class KeyType {
  Int,
  Float, // an integer literal is accepted and widened
  Bool,
  String,
  IntArray,
  StringArray,
  StringOrInt, // e.g. eval.every: "epoch" or a step count
  FloatArray,  // numbers; integer literals are accepted and widened
  TableArray,  // [[section.key]] tables, each checked against `fields`
};

/// "512MiB", "8GiB", "2GB", "1000000" -> bytes (units B, KB, MB, GB, TB,
/// KiB, MiB, GiB, TiB); nullopt when malformed, negative or too large.
std::optional<int64_t> parseBytes(const std::string &text);

struct KeyDecl {
  std::string name;
  KeyType type = KeyType::String;
  bool required = false;
  /// Default as a TOML value literal; nullopt means optional without value.
  std::optional<std::string> defaultToml;
  /// IntArray, FloatArray: a single value is accepted too (a plugin key
  /// with FTC_KEY_SCALAR_OR_ARRAY: `mean = 0.5` or `mean = [0.5, 0.4]`).
  bool scalarOk = false;
  /// Inclusive numeric range (Int, Float, IntArray and FloatArray elements, the
  /// Int of StringOrInt); ignored when min > max.
  double min = 1, max = 0;
  /// Allowed strings (String, StringArray elements, the String of
  /// StringOrInt); empty = any.
  std::vector<std::string> choices;
  /// String: a byte size, as parseBytes reads it.
  bool byteSize = false;
  std::string doc;
  /// TableArray: the keys each table may hold (`required` ones must).
  std::vector<KeyDecl> fields;
};

/// Sections and their keys. The core schema covers [pipeline], [model],
/// [dataset], [freeze], [optimizer], [schedule], [train], [eval],
/// [checkpoint] and [plugins]; plugins add keys to [model] and [dataset].
class Schema {
public:
  static Schema core();
  void addKeys(const std::string &section, std::vector<KeyDecl> keys);
  const std::vector<std::string> &sections() const { return sectionNames_; }
  const std::vector<KeyDecl> *keys(const std::string &section) const;
  const KeyDecl *find(const std::string &section, const std::string &key) const;

private:
  std::vector<std::string> sectionNames_;
  std::vector<std::pair<std::string, std::vector<KeyDecl>>> sections_;
};

class Spec {
public:
  ~Spec();
  Spec(Spec &&) noexcept;
  Spec &operator=(Spec &&) noexcept;

  /// Parses `path` and applies overrides of the form "section.key=value"
  /// (the value is a TOML literal; a bare word is taken as a string).
  /// Returns nullopt with diagnostics on a missing file, syntax error or
  /// malformed override.
  static std::optional<Spec> load(const std::string &path,
                                  const std::vector<std::string> &overrides,
                                  DiagnosticEngine &diags);
  /// Parses spec text held in memory (`name` labels diagnostics).
  static std::optional<Spec> parse(const std::string &text,
                                   const std::string &name,
                                   const std::vector<std::string> &overrides,
                                   DiagnosticEngine &diags);

  /// Validates against `schema`: unknown sections and keys (with did-you-mean),
  /// wrong types, out-of-range values, values outside `choices`, missing
  /// required keys. On success fills every default. Returns !hasErrors().
  bool validate(const Schema &schema, DiagnosticEngine &diags);

  // Typed access by dotted path ("train.batch_size") after validate.
  bool has(const std::string &path) const;
  int64_t getInt(const std::string &path) const;
  double getFloat(const std::string &path) const;
  bool getBool(const std::string &path) const;
  std::string getString(const std::string &path) const;
  std::vector<int64_t> getInts(const std::string &path) const;
  std::vector<std::string> getStrings(const std::string &path) const;
  /// The number of elements of an array (a TableArray: its tables), 0 when
  /// unset. Elements are addressed as "freeze.stages[1].policy".
  size_t arraySize(const std::string &path) const;
  /// True when a StringOrInt key holds an integer.
  bool isInt(const std::string &path) const;

  /// Where `path` was written: the key itself, else its section header,
  /// else the start of the file. Overridden keys point into "<--set>".
  SourceLoc locate(const std::string &path) const;
  /// The spec file path (or the name given to parse()).
  const std::string &file() const;

  /// The resolved spec as TOML, sections in schema order, every key shown.
  std::string toToml() const;

private:
  Spec();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace ftc::spec

#endif // FTC_SPEC_SPEC_H
