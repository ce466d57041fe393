//===- TextClassification.cpp - Text classification dataset plugin --------===//
// SPDX-License-Identifier: Apache-2.0
//
// Reads labelled text from CSV (RFC 4180), TSV or JSON lines, tokenizes it
// at open() with BERT WordPiece (ftc::text::WordPiece: [CLS] text [SEP]) or
// GPT-2's byte-level BPE (ftc::text::ByteLevelBpe: the text's tokens alone,
// padded with <|endoftext|>), and serves input_ids / token_type_ids /
// attention_mask (I32 [max_length]) and label (I32 []). The label mapping
// is built from the train file (sorted unique strings, or integers 0..K-1
// as they are) and applied to both splits.
//
//===----------------------------------------------------------------------===//
#include "ftc/plugin.hpp"
#include "ftc/plugin_host/ByteLevelBpe.h"
#include "ftc/plugin_host/SpecTokenizer.h"
#include "ftc/plugin_host/TextSources.h"
#include "ftc/plugin_host/WordPiece.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace ftc::plugin;

namespace {

//===----------------------------------------------------------------------===//
// Rows
//===----------------------------------------------------------------------===//

/// A file and the spec key that named it, for error messages.
struct Source {
  std::string path;
  const char *key; // "train" or "eval"

  [[noreturn]] void fail(ftc_status_t status, const std::string &what) const {
    throw Error(status, path + ": " + what, key);
  }
  [[noreturn]] void failAt(size_t line, const std::string &what) const {
    throw Error(FTC_STATUS_DATA_ERROR,
                path + ":" + std::to_string(line) + ": " + what, key);
  }
};

/// A malformed row; skipped when skip_bad_rows is set.
struct RowError {
  size_t line;
  std::string message;
};

struct Row {
  size_t line = 0;
  std::string text;
  std::optional<std::string> pair;
  std::string label;    // as text; integers in decimal
  bool hasLabel = true; // false only in the predict split
  bool labelIsInt = false;
  int64_t intLabel = 0;
};

struct Columns {
  std::string text, label;
  std::optional<std::string> pair;
  bool labelOptional = false; // the predict split
};

enum class Format { Csv, Tsv, Jsonl };

/// "-12", "7": an integer label (CSV/TSV values and JSON strings alike).
std::optional<int64_t> parseIntLabel(const std::string &s) {
  size_t i = s[0] == '-' ? 1 : 0;
  if (s.size() <= i || s.size() - i > 12)
    return std::nullopt;
  int64_t v = 0;
  for (size_t k = i; k < s.size(); ++k) {
    if (s[k] < '0' || s[k] > '9')
      return std::nullopt;
    v = v * 10 + (s[k] - '0');
  }
  return i ? -v : v;
}

void setLabel(Row &row, std::string label) {
  row.label = std::move(label);
  if (!row.label.empty())
    if (std::optional<int64_t> v = parseIntLabel(row.label)) {
      row.labelIsInt = true;
      row.intLabel = *v;
    }
}

//===----------------------------------------------------------------------===//
// CSV / TSV
//===----------------------------------------------------------------------===//

/// Splits delimited text into records. CSV follows RFC 4180 (quoted fields,
/// "" escapes, newlines inside quotes, CRLF or LF); TSV has no quoting.
class DelimitedReader {
public:
  DelimitedReader(const std::string &data, Format format)
      : d(data), delim(format == Format::Tsv ? '\t' : ','),
        quoting(format == Format::Csv) {}

  /// The next non-blank record into `fields`; false at the end. Throws
  /// RowError for a malformed record, after moving past it.
  bool next(std::vector<std::string> &fields, size_t &startLine) {
    for (;;) {
      if (pos >= d.size())
        return false;
      startLine = line;
      fields.clear();
      bool blank = parseRecord(fields, startLine);
      if (!blank)
        return true;
    }
  }

private:
  /// Parses one record; returns true when it was a blank line.
  bool parseRecord(std::vector<std::string> &fields, size_t startLine) {
    std::string field;
    bool anyQuoted = false;
    for (;;) {
      field.clear();
      if (quoting && pos < d.size() && d[pos] == '"') {
        anyQuoted = true;
        size_t quoteLine = line;
        ++pos;
        for (;;) {
          if (pos >= d.size()) {
            resyncAfter(startLine);
            throw RowError{startLine, "unterminated quoted field (the quote "
                                      "opened on line " +
                                          std::to_string(quoteLine) +
                                          " is never closed)"};
          }
          char c = d[pos];
          if (c == '"') {
            if (pos + 1 < d.size() && d[pos + 1] == '"') {
              field.push_back('"');
              pos += 2;
              continue;
            }
            ++pos;
            break;
          }
          if (c == '\n')
            ++line;
          field.push_back(c);
          ++pos;
        }
        // After the closing quote: a delimiter, the end of the line or file.
        if (pos < d.size() && d[pos] != delim && d[pos] != '\n' &&
            !(d[pos] == '\r' && (pos + 1 == d.size() || d[pos + 1] == '\n'))) {
          skipLine();
          throw RowError{startLine,
                         "unexpected character after a closing quote (a "
                         "quote inside a quoted field must be doubled)"};
        }
      } else {
        while (pos < d.size() && d[pos] != delim && d[pos] != '\n')
          field.push_back(d[pos++]);
        if (!field.empty() && field.back() == '\r' &&
            (pos == d.size() || d[pos] == '\n'))
          field.pop_back();
      }
      fields.push_back(field);
      if (pos < d.size() && d[pos] == delim) {
        ++pos;
        continue;
      }
      if (pos < d.size() && d[pos] == '\r')
        ++pos;
      if (pos < d.size() && d[pos] == '\n') {
        ++pos;
        ++line;
      }
      return fields.size() == 1 && fields[0].empty() && !anyQuoted;
    }
  }
  void skipLine() {
    while (pos < d.size() && d[pos] != '\n')
      ++pos;
    if (pos < d.size()) {
      ++pos;
      ++line;
    }
  }
  /// After an unterminated quote: go on with the line after the record's
  /// first line, so one stray quote does not swallow the rest of the file.
  void resyncAfter(size_t startLine) {
    pos = 0;
    line = 1;
    while (line <= startLine && pos < d.size())
      skipLine();
  }

  const std::string &d;
  char delim;
  bool quoting;
  size_t pos = 0, line = 1;
};

template <typename OnRow, typename OnBad>
void readDelimited(const Source &src, const std::string &data, Format format,
                   const Columns &cols, OnRow onRow, OnBad onBad) {
  DelimitedReader reader(data, format);
  std::vector<std::string> fields, header;
  size_t line = 0;
  try {
    if (!reader.next(header, line))
      src.fail(FTC_STATUS_DATA_ERROR,
               "the file is empty (a header row naming the columns is "
               "expected)");
  } catch (const RowError &e) {
    src.failAt(e.line, "malformed header: " + e.message);
  }
  auto column = [&](const std::string &name, const char *keyName) {
    auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
      std::string names;
      for (const std::string &h : header)
        names += (names.empty() ? "" : ", ") + ("'" + h + "'");
      throw Error(FTC_STATUS_DATA_ERROR,
                  src.path + ":" + std::to_string(line) + ": no column '" +
                      name + "' (set by " + keyName +
                      ") in the header; the columns are " + names,
                  keyName);
    }
    return size_t(it - header.begin());
  };
  size_t textCol = column(cols.text, "text");
  std::optional<size_t> labelCol;
  if (!cols.labelOptional ||
      std::find(header.begin(), header.end(), cols.label) != header.end())
    labelCol = column(cols.label, "label");
  std::optional<size_t> pairCol;
  if (cols.pair)
    pairCol = column(*cols.pair, "text_pair");
  for (;;) {
    try {
      if (!reader.next(fields, line))
        break;
      if (fields.size() != header.size())
        throw RowError{line, "the row has " + std::to_string(fields.size()) +
                                 " fields, the header has " +
                                 std::to_string(header.size())};
      Row row;
      row.line = line;
      row.text = std::move(fields[textCol]);
      if (pairCol)
        row.pair = std::move(fields[*pairCol]);
      if (!labelCol || (cols.labelOptional && fields[*labelCol].empty()))
        row.hasLabel = false;
      else if (fields[*labelCol].empty())
        throw RowError{line, "empty label in column '" + cols.label + "'"};
      else
        setLabel(row, std::move(fields[*labelCol]));
      onRow(std::move(row));
    } catch (const RowError &e) {
      onBad(e);
    }
  }
}

//===----------------------------------------------------------------------===//
// JSON lines
//===----------------------------------------------------------------------===//

template <typename OnRow, typename OnBad>
void readJsonl(const std::string &data, const Columns &cols, OnRow onRow,
               OnBad onBad) {
  using nlohmann::json;
  size_t pos = 0, line = 0;
  while (pos < data.size()) {
    ++line;
    size_t nl = data.find('\n', pos);
    size_t end = nl == std::string::npos ? data.size() : nl;
    std::string_view text(data.data() + pos, end - pos);
    pos = nl == std::string::npos ? data.size() : nl + 1;
    if (text.find_first_not_of(" \t\r") == std::string_view::npos)
      continue;
    try {
      json obj;
      try {
        obj = json::parse(text);
      } catch (const json::exception &e) {
        std::string what = e.what();
        // "[json.exception.parse_error.101] parse error at line 1, ..."
        size_t at = what.find("] ");
        throw RowError{line, "invalid JSON: " + (at == std::string::npos
                                                     ? what
                                                     : what.substr(at + 2))};
      }
      if (!obj.is_object())
        throw RowError{line, std::string("expected a JSON object, got ") +
                                 obj.type_name()};
      auto stringField = [&](const std::string &name) {
        auto it = obj.find(name);
        if (it == obj.end())
          throw RowError{line, "missing field '" + name + "'"};
        if (!it->is_string())
          throw RowError{line, "field '" + name + "' is " + it->type_name() +
                                   ", expected a string"};
        return it->get<std::string>();
      };
      Row row;
      row.line = line;
      row.text = stringField(cols.text);
      if (cols.pair)
        row.pair = stringField(*cols.pair);
      auto it = obj.find(cols.label);
      if (cols.labelOptional && (it == obj.end() || it->is_null())) {
        row.hasLabel = false;
        onRow(std::move(row));
        continue;
      }
      if (it == obj.end())
        throw RowError{line, "missing field '" + cols.label + "'"};
      if (it->is_number_integer()) {
        row.labelIsInt = true;
        row.intLabel = it->get<int64_t>();
        row.label = std::to_string(row.intLabel);
      } else if (it->is_string() && !it->get<std::string>().empty()) {
        setLabel(row, it->get<std::string>());
      } else {
        throw RowError{line, "label field '" + cols.label + "' is " +
                                 (it->is_string() ? std::string("empty")
                                                  : it->type_name()) +
                                 ", expected a string or an integer"};
      }
      onRow(std::move(row));
    } catch (const RowError &e) {
      onBad(e);
    }
  }
}

//===----------------------------------------------------------------------===//
// Reading a split
//===----------------------------------------------------------------------===//

struct Settings {
  Columns cols;
  std::string format; // auto | csv | tsv | jsonl
  bool skipBadRows = false;
};

Format formatOf(const Source &src, const std::string &format) {
  if (format == "csv")
    return Format::Csv;
  if (format == "tsv")
    return Format::Tsv;
  if (format == "jsonl")
    return Format::Jsonl;
  std::string ext = std::filesystem::path(src.path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  if (ext == ".csv")
    return Format::Csv;
  if (ext == ".tsv" || ext == ".tab")
    return Format::Tsv;
  if (ext == ".jsonl" || ext == ".ndjson" || ext == ".json")
    return Format::Jsonl;
  throw Error(FTC_STATUS_INVALID_ARGUMENT,
              src.path + ": cannot tell the format from the extension '" + ext +
                  "'; set format = \"csv\", \"tsv\" or \"jsonl\"",
              "format");
}

/// Reads every row of `src`; malformed rows throw, or are counted in
/// `skipped` when skip_bad_rows is set.
std::vector<Row> readRows(const Source &src, const Settings &s,
                          size_t &skipped) {
  std::string data = readSourceFile(src.path, src.key);
  Format format = formatOf(src, s.format);
  std::vector<Row> rows;
  auto onRow = [&](Row r) { rows.push_back(std::move(r)); };
  auto onBad = [&](const RowError &e) {
    if (!s.skipBadRows)
      src.failAt(e.line, e.message + " (set skip_bad_rows = true to skip "
                                     "malformed rows)");
    ++skipped;
  };
  if (format == Format::Jsonl)
    readJsonl(data, s.cols, onRow, onBad);
  else
    readDelimited(src, data, format, s.cols, onRow, onBad);
  return rows;
}

/// The label mapping, built from the train split.
struct LabelMap {
  bool integer = false;
  int64_t numClasses = 0;
  std::map<std::string, int32_t> byName; // string labels
  std::vector<std::string> names;        // index -> label

  static LabelMap build(const Source &src, const std::vector<Row> &rows) {
    LabelMap m;
    if (rows.empty())
      src.fail(FTC_STATUS_DATA_ERROR, "has no examples");
    m.integer = std::all_of(rows.begin(), rows.end(),
                            [](const Row &r) { return r.labelIsInt; });
    if (m.integer) {
      int64_t maxLabel = -1;
      for (const Row &r : rows) {
        if (r.intLabel < 0 || r.intLabel >= INT32_MAX)
          src.failAt(r.line, "integer label " + std::to_string(r.intLabel) +
                                 " is outside 0..K-1 (integer labels are "
                                 "class indices)");
        maxLabel = std::max(maxLabel, r.intLabel);
      }
      m.numClasses = maxLabel + 1;
      for (int64_t i = 0; i < m.numClasses; ++i)
        m.names.push_back(std::to_string(i));
      return m;
    }
    for (const Row &r : rows)
      m.byName.emplace(r.label, 0);
    int32_t next = 0;
    for (auto &kv : m.byName) {
      kv.second = next++;
      m.names.push_back(kv.first);
    }
    m.numClasses = next;
    return m;
  }

  int32_t map(const Source &src, const Row &r,
              const std::string &trainPath) const {
    if (integer) {
      if (r.labelIsInt && r.intLabel >= 0 && r.intLabel < numClasses)
        return int32_t(r.intLabel);
    } else {
      auto it = byName.find(r.label);
      if (it != byName.end())
        return it->second;
    }
    src.failAt(r.line, "label '" + r.label +
                           "' does not occur in the train "
                           "split (" +
                           trainPath + ", " + std::to_string(numClasses) +
                           " classes)");
  }
};

//===----------------------------------------------------------------------===//
// Facts for the data report
//===----------------------------------------------------------------------===//

/// The text as a near-duplicate detector sees it: ASCII letters lower-cased,
/// runs of ASCII punctuation and space one separator, other bytes (digits,
/// non-ASCII letters) kept.
std::string normalizeForDuplicates(std::string_view text) {
  std::string out;
  bool gap = false;
  for (unsigned char c : text) {
    if (c < 0x80 && !std::isalnum(c)) {
      gap = !out.empty();
      continue;
    }
    if (gap)
      out += ' ';
    gap = false;
    out += char(c < 0x80 ? std::tolower(c) : c);
  }
  return out;
}

ftc_example_facts_t factsOf(const Row &r, const ftc::text::Encoding &e) {
  // The unit separator keeps ("ab", "c") and ("a", "bc") apart.
  std::string pairSep = r.pair ? "\x1f" + *r.pair : std::string();
  ftc_example_facts_t f{};
  f.hash = hashBytes(pairSep, hashBytes(r.text));
  f.normalized_hash = hashBytes(
      r.pair ? "\x1f" + normalizeForDuplicates(*r.pair) : std::string(),
      hashBytes(normalizeForDuplicates(r.text)));
  f.record = int64_t(r.line);
  f.length = int64_t(e.fullLength);
  f.unknown = int64_t(e.unknownTokens);
  return f;
}

/// Every label of `rows` that the train split lacks, with its count and
/// first lines: one error for all of them rather than the first.
void failOnUnseenLabels(const Source &src, const std::vector<Row> &rows,
                        const LabelMap &map, const std::string &trainPath) {
  std::map<std::string, std::vector<size_t>> unseen;
  for (const Row &r : rows) {
    if (!r.hasLabel)
      continue;
    bool known = map.integer ? r.labelIsInt && r.intLabel >= 0 &&
                                   r.intLabel < map.numClasses
                             : map.byName.count(r.label) > 0;
    if (!known)
      unseen[r.label].push_back(r.line);
  }
  if (unseen.empty())
    return;
  std::string list;
  for (auto &[label, lines] : unseen) {
    list += (list.empty() ? "" : "; ") + std::string("'") + label + "' (" +
            std::to_string(lines.size()) +
            (lines.size() == 1 ? " row" : " rows") + ", line";
    for (size_t i = 0; i < lines.size() && i < 5; ++i)
      list += (i ? ", " : (lines.size() > 1 ? "s " : " ")) +
              std::to_string(lines[i]);
    list += lines.size() > 5 ? ", ...)" : ")";
  }
  src.fail(FTC_STATUS_DATA_ERROR,
           std::to_string(unseen.size()) + " label" +
               (unseen.size() == 1 ? " does" : "s do") +
               " not occur in the train split (" + trainPath + ", " +
               std::to_string(map.numClasses) +
               " classes), so the model cannot predict " +
               (unseen.size() == 1 ? "it" : "them") + ": " + list);
}

//===----------------------------------------------------------------------===//
// The dataset
//===----------------------------------------------------------------------===//

class TextDataset : public Dataset {
public:
  TextDataset(int64_t maxLength, LabelMap map, size_t skipped, bool narrow)
      : maxLen(maxLength), labelMap(std::move(map)), skippedRows(skipped),
        narrowIds(narrow) {
    addFeature("input_ids", FTC_DTYPE_I32, {maxLen});
    addFeature("token_type_ids", FTC_DTYPE_I32, {maxLen});
    addFeature("attention_mask", FTC_DTYPE_I32, {maxLen});
    addFeature("label", FTC_DTYPE_I32, {});
    setLabel("label", labelMap.numClasses);
    offsets.push_back(0);
  }

  void add(const ftc::text::Encoding &e, int32_t label) {
    size_t n = e.ids.size();
    size_t typeStart = size_t(std::find(e.typeIds.begin(), e.typeIds.end(), 1) -
                              e.typeIds.begin());
    for (int32_t id : e.ids) {
      if (narrowIds)
        ids16.push_back(uint16_t(id));
      else
        ids32.push_back(id);
    }
    offsets.push_back(offsets.back() + n);
    typeStarts.push_back(uint16_t(typeStart));
    labels.push_back(label);
    setNumExamples(int64_t(labels.size()));
  }

  void fill(const int64_t *indices, size_t count,
            void *const *buffers) override {
    auto *ids = static_cast<int32_t *>(buffers[0]);
    auto *types = static_cast<int32_t *>(buffers[1]);
    auto *mask = static_cast<int32_t *>(buffers[2]);
    auto *label = static_cast<int32_t *>(buffers[3]);
    size_t L = size_t(maxLen);
    for (size_t i = 0; i < count; ++i) {
      size_t ex = size_t(indices[i]);
      size_t begin = offsets[ex], n = offsets[ex + 1] - begin;
      int32_t *row = ids + i * L, *trow = types + i * L, *mrow = mask + i * L;
      for (size_t t = 0; t < L; ++t) {
        bool real = t < n;
        row[t] = !real       ? padId
                 : narrowIds ? int32_t(ids16[begin + t])
                             : ids32[begin + t];
        trow[t] = real && t >= typeStarts[ex] ? 1 : 0;
        mrow[t] = real ? 1 : 0;
      }
      label[i] = labels[ex];
    }
  }

  const char *labelName(int64_t index) const override {
    return index >= 0 && size_t(index) < labelMap.names.size()
               ? labelMap.names[size_t(index)].c_str()
               : nullptr;
  }

  bool describe(ftc_split_facts_t &out) override {
    out.source = source.c_str();
    out.record_unit = "line"; // where the row starts
    out.length_unit = "tokens";
    out.max_length = maxLen;
    out.examples = facts.data();
    return true;
  }

  int32_t padId = 0;
  std::string source;
  std::vector<ftc_example_facts_t> facts; // one per example, for describe
  const LabelMap &mapping() const { return labelMap; }
  size_t skipped() const { return skippedRows; }
  int64_t skippedRecords() const override { return int64_t(skippedRows); }

private:
  int64_t maxLen;
  LabelMap labelMap;
  size_t skippedRows;
  bool narrowIds;
  std::vector<uint16_t> ids16;
  std::vector<int32_t> ids32;
  std::vector<uint64_t> offsets;
  std::vector<uint16_t> typeStarts;
  std::vector<int32_t> labels;
};

/// The spec's tokenizer: WordPiece, or a byte-level BPE for GPT-2-style
/// models, whose examples are the text's tokens alone, truncated to
/// max_length and padded with <|endoftext|> (Hugging Face's GPT2TokenizerFast
/// with pad_token = eos_token, truncation and padding="max_length").
struct Tokenizer {
  std::function<ftc::text::Encoding(const Row &)> encode;
  int32_t padId;
  size_t vocabSize;

  static Tokenizer load(const Config &config, const Columns &cols,
                        size_t maxLength) {
    if (specTokenizerIsByteLevelBpe(config, "text-classification"))
      return bpe(config, cols, maxLength);
    auto wp = std::make_shared<ftc::text::WordPiece>(
        loadSpecTokenizer(config, "text-classification"));
    if (wp->clsId() < 0 || wp->sepId() < 0 || wp->padId() < 0)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "the vocabulary lacks [CLS], [SEP] or [PAD]", "tokenizer");
    return {[wp, maxLength](const Row &r) {
              return r.pair
                         ? wp->encode(r.text, std::string_view(*r.pair),
                                      maxLength, false)
                         : wp->encode(r.text, std::nullopt, maxLength, false);
            },
            wp->padId(), wp->vocabSize()};
  }

  static Tokenizer bpe(const Config &config, const Columns &cols,
                       size_t maxLength) {
    if (cols.pair)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "text_pair needs a WordPiece tokenizer: a byte-level BPE "
                  "(GPT-2's) has no sentence-pair template",
                  "text_pair");
    auto bpe = std::make_shared<ftc::text::ByteLevelBpe>(
        loadSpecByteLevelBpe(config, "text-classification"));
    std::optional<int32_t> eos = bpe->eosId();
    if (!eos)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  std::string("the tokenizer has no ") +
                      ftc::text::ByteLevelBpe::kEndOfText + " to pad with",
                  "tokenizer");
    return {[bpe, maxLength](const Row &r) {
              ftc::text::Encoding e;
              e.ids = bpe->encode(r.text);
              e.fullLength = e.ids.size(); // byte-level: nothing is unknown
              e.ids.resize(std::min(e.ids.size(), maxLength));
              e.typeIds.assign(e.ids.size(), 0);
              e.attentionMask.assign(e.ids.size(), 1);
              return e;
            },
            *eos, bpe->vocabSize()};
  }
};

struct TextClassification {
  static constexpr const char *kName = "text-classification";
  static constexpr const char *kVersion = "1.0.0";
  static constexpr const char *kDescription =
      "labelled text in CSV, TSV or JSON lines, tokenized with BERT "
      "WordPiece or GPT-2's byte-level BPE";
  static constexpr ftc_key_decl_t kKeys[] = {
      stringKey("text", "\"text\"", nullptr,
                "the column (CSV/TSV header) or field (JSONL) with the text"),
      stringKey("text_pair", nullptr, nullptr,
                "the column or field with a second text (sentence pairs: "
                "token type 1)"),
      stringKey("label", "\"label\"", nullptr,
                "the column or field with the label: strings (classes are "
                "the sorted unique train labels) or integers 0..K-1"),
      stringKey("tokenizer", nullptr, nullptr,
                "vocab.txt, tokenizer.json (WordPiece or byte-level BPE), "
                "vocab.json + merges.txt, or a directory holding them "
                "(tokenizer.json first); default: model.checkpoint"),
      intKey("max_length", "128", 8, 4096,
             "tokens per example, with [CLS] and [SEP] for WordPiece: "
             "longer texts are truncated (longest first), shorter ones "
             "padded ([PAD], or <|endoftext|> for byte-level BPE)"),
      boolKey("lowercase", "true",
              "lower-case and strip accents (uncased models); applies to a "
              "vocab.txt, a tokenizer.json carries its own setting"),
      boolKey("skip_bad_rows", "false",
              "skip malformed rows instead of failing (they are counted)"),
      stringKey("format", "\"auto\"", "auto|csv|tsv|jsonl",
                "file format; auto picks it from the extension (.csv, .tsv, "
                ".jsonl)"),
  };

  static std::unique_ptr<Dataset> open(const Config &config,
                                       const std::string &split) {
    const char *key = splitKey(split);

    Settings s;
    s.cols.text = config.getString("text");
    s.cols.label = config.getString("label");
    s.cols.pair = config.findString("text_pair");
    s.cols.labelOptional = split == "predict";
    if (s.cols.pair && s.cols.pair->empty())
      s.cols.pair.reset();
    s.format = config.getString("format");
    s.skipBadRows = config.getBool("skip_bad_rows");
    int64_t maxLength = config.getInt("max_length");
    if (maxLength < 8 || maxLength > 4096)
      throw Error(FTC_STATUS_INVALID_ARGUMENT,
                  "max_length = " + std::to_string(maxLength) +
                      " is outside [8, 4096]",
                  "max_length");

    auto pathOf = [&](const char *k) {
      std::optional<std::string> p = config.findString(k);
      if (!p || p->empty())
        throw Error(FTC_STATUS_NOT_FOUND,
                    std::string("the text-classification dataset needs '") + k +
                        "', the file of the " + k + " split",
                    k);
      return Source{*p, k};
    };
    Source train = pathOf("train");
    Source src = split == "train" ? train : pathOf(key);

    Tokenizer tok = Tokenizer::load(config, s.cols, size_t(maxLength));

    size_t skipped = 0, trainSkipped = 0;
    std::vector<Row> rows = readRows(src, s, skipped);
    LabelMap map;
    if (split == "train") {
      map = LabelMap::build(train, rows);
    } else {
      std::vector<Row> trainRows = readRows(train, s, trainSkipped);
      map = LabelMap::build(train, trainRows);
      if (rows.empty())
        src.fail(FTC_STATUS_DATA_ERROR, "has no examples");
    }

    if (split != "train")
      failOnUnseenLabels(src, rows, map, train.path);
    auto ds = std::make_unique<TextDataset>(maxLength, std::move(map), skipped,
                                            tok.vocabSize <= 65536);
    ds->padId = tok.padId;
    ds->source = src.path;
    ds->facts.reserve(rows.size());
    for (const Row &r : rows) {
      int32_t label = r.hasLabel ? ds->mapping().map(src, r, train.path) : -1;
      ftc::text::Encoding e = tok.encode(r);
      ds->add(e, label);
      ds->facts.push_back(factsOf(r, e));
    }
    return ds;
  }
};

} // namespace

FTC_DEFINE_DATASET_PLUGIN(TextClassification)
