//===- DataReport.cpp - What the data says before training ----------------===//
// SPDX-License-Identifier: Apache-2.0
#include "ftc/runtime/DataReport.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>

using namespace ftc::rt;

namespace {

/// Groups examples by `key`: the copies of each repeated input, in order.
template <typename KeyOf>
std::vector<std::vector<size_t>> duplicateGroups(size_t n, KeyOf keyOf) {
  std::unordered_map<uint64_t, size_t> groupOf;
  std::vector<std::vector<size_t>> groups;
  for (size_t i = 0; i < n; ++i) {
    auto [it, fresh] = groupOf.emplace(keyOf(i), groups.size());
    if (fresh)
      groups.emplace_back();
    groups[it->second].push_back(i);
  }
  groups.erase(std::remove_if(groups.begin(), groups.end(),
                              [](const auto &g) { return g.size() < 2; }),
               groups.end());
  return groups;
}

/// Groups with two or more copies. The normalised pass counts only what
/// normalisation adds: copies that are not exact copies of each other.
DataReport::Duplicates duplicates(const SplitFacts &facts, bool normalized) {
  const auto &ex = facts.examples;
  auto groups = duplicateGroups(ex.size(), [&](size_t i) {
    return normalized ? ex[i].normalized_hash : ex[i].hash;
  });
  DataReport::Duplicates d;
  for (const auto &g : groups) {
    int64_t distinct = 1;
    if (normalized) {
      // Copies that are exact duplicates of each other count once here.
      std::vector<uint64_t> exact;
      for (size_t i : g)
        exact.push_back(ex[i].hash);
      std::sort(exact.begin(), exact.end());
      distinct = std::unique(exact.begin(), exact.end()) - exact.begin();
      if (distinct < 2)
        continue;
    }
    ++d.groups;
    d.extraCopies += normalized ? distinct - 1 : int64_t(g.size()) - 1;
    if (!facts.labels.empty() && std::any_of(g.begin(), g.end(), [&](size_t i) {
          return facts.labels[i] != facts.labels[g.front()];
        }))
      ++d.conflictingLabels;
    if (d.firstGroups.size() < DataReport::kShown) {
      std::vector<int64_t> records;
      for (size_t i : g)
        records.push_back(ex[i].record);
      d.firstGroups.push_back(std::move(records));
    }
  }
  return d;
}

/// Nearest-rank percentile of sorted values.
int64_t percentile(const std::vector<int64_t> &sorted, double p) {
  if (sorted.empty())
    return 0;
  size_t rank = size_t(std::ceil(p * double(sorted.size())));
  return sorted[std::min(sorted.size(), std::max<size_t>(rank, 1)) - 1];
}

DataReport::Split splitReport(const std::string &name, const SplitFacts &facts,
                              size_t numClasses) {
  DataReport::Split s;
  s.name = name;
  s.source = facts.source;
  s.recordUnit = facts.recordUnit;
  s.examples = int64_t(facts.examples.size());
  if (!facts.labels.empty()) {
    s.labelCounts.assign(numClasses, 0);
    for (int32_t label : facts.labels)
      if (label >= 0 && size_t(label) < numClasses)
        ++s.labelCounts[size_t(label)];
  }
  std::vector<int64_t> lengths;
  for (const ftc_example_facts_t &e : facts.examples) {
    if (e.length >= 0)
      lengths.push_back(e.length);
    if (e.unknown >= 0) {
      s.hasUnknown = true;
      s.unknownTokens += e.unknown;
    }
  }
  if (!facts.lengthUnit.empty() && !lengths.empty()) {
    s.lengthUnit = facts.lengthUnit;
    s.maxLength = facts.maxLength;
    std::sort(lengths.begin(), lengths.end());
    s.p50 = percentile(lengths, 0.50);
    s.p90 = percentile(lengths, 0.90);
    s.p95 = percentile(lengths, 0.95);
    s.p99 = percentile(lengths, 0.99);
    s.longest = lengths.back();
    for (int64_t l : lengths) {
      s.tokens += l;
      s.truncated += s.maxLength > 0 && l > s.maxLength;
    }
  }
  s.normalizes = std::any_of(
      facts.examples.begin(), facts.examples.end(),
      [](const ftc_example_facts_t &e) { return e.normalized_hash != e.hash; });
  s.exact = duplicates(facts, false);
  s.normalized = duplicates(facts, true);
  return s;
}

DataReport::Overlap overlap(const SplitFacts &train, const SplitFacts &eval,
                            bool normalized) {
  auto key = [&](const ftc_example_facts_t &e) {
    return normalized ? e.normalized_hash : e.hash;
  };
  std::unordered_map<uint64_t, int64_t> trainRecord, exactTrain;
  for (const ftc_example_facts_t &e : train.examples) {
    trainRecord.emplace(key(e), e.record);
    exactTrain.emplace(e.hash, e.record);
  }
  DataReport::Overlap o;
  for (const ftc_example_facts_t &e : eval.examples) {
    auto it = trainRecord.find(key(e));
    if (it == trainRecord.end() || (normalized && exactTrain.count(e.hash)))
      continue;
    ++o.examples;
    if (o.first.size() < DataReport::kShown)
      o.first.push_back({e.record, it->second});
  }
  return o;
}

/// Class `c` by its name, or its index where it has none.
std::string className(const DataReport &r, size_t c) {
  return c < r.classNames.size() && !r.classNames[c].empty()
             ? r.classNames[c]
             : std::to_string(c);
}

std::string percent(int64_t part, int64_t whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%",
                whole ? 100.0 * double(part) / double(whole) : 0.0);
  return buf;
}

std::string records(const std::vector<int64_t> &r, const std::string &unit) {
  std::string s = unit + (r.size() > 1 ? "s " : " ");
  for (size_t i = 0; i < r.size() && i < 6; ++i)
    s += (i ? ", " : "") + std::to_string(r[i]);
  return s + (r.size() > 6 ? ", ..." : "");
}

void formatDuplicates(std::string &out, const DataReport::Split &s,
                      const DataReport::Duplicates &d, const char *kind) {
  out += "  " + std::string(kind) + " duplicates: ";
  if (!d.groups) {
    out += "none\n";
    return;
  }
  out += std::to_string(d.extraCopies) + " repeated example" +
         (d.extraCopies == 1 ? "" : "s") + " in " + std::to_string(d.groups) +
         " group" + (d.groups == 1 ? "" : "s");
  if (d.conflictingLabels)
    out +=
        ", " + std::to_string(d.conflictingLabels) + " with conflicting labels";
  out += "\n";
  for (const auto &g : d.firstGroups)
    out += "    " + records(g, s.recordUnit) + "\n";
  if (size_t(d.groups) > d.firstGroups.size())
    out += "    ...\n";
}

void formatSplit(std::string &out, const DataReport &r,
                 const DataReport::Split &s) {
  out += s.name + ": " + std::to_string(s.examples) + " examples" +
         (s.source.empty() ? "" : " (" + s.source + ")") + "\n";
  if (!s.labelCounts.empty()) {
    out += "  labels:";
    for (size_t c = 0; c < s.labelCounts.size(); ++c) {
      out += (c ? ", " : " ") + className(r, c) + " " +
             std::to_string(s.labelCounts[c]) + " (" +
             percent(s.labelCounts[c], s.examples) + ")";
    }
    out += "\n";
  }
  if (!s.lengthUnit.empty()) {
    out += "  length in " + s.lengthUnit + ": median " + std::to_string(s.p50) +
           ", p90 " + std::to_string(s.p90) + ", p99 " + std::to_string(s.p99) +
           ", longest " + std::to_string(s.longest) + "\n";
    if (s.maxLength > 0)
      out += "  truncated at max_length " + std::to_string(s.maxLength) + ": " +
             std::to_string(s.truncated) + " (" +
             percent(s.truncated, s.examples) + "); " + std::to_string(s.p95) +
             " would keep 95% whole\n";
  }
  if (s.hasUnknown)
    out += "  unknown tokens: " + std::to_string(s.unknownTokens) + " of " +
           std::to_string(s.tokens) + " (" +
           percent(s.unknownTokens, s.tokens) + ")\n";
  formatDuplicates(out, s, s.exact, "exact");
  if (!s.normalizes)
    return; // no normalisation beyond the stored input: the same as exact
  formatDuplicates(out, s, s.normalized, "near (case, spacing, punctuation)");
}

void formatOverlap(std::string &out, const DataReport &r,
                   const DataReport::Overlap &o, const char *kind) {
  out += "  " + std::string(kind) + ": ";
  if (!o.examples) {
    out += "none\n";
    return;
  }
  out += std::to_string(o.examples) + " eval example" +
         (o.examples == 1 ? "" : "s") + " (" +
         percent(o.examples, r.eval.examples) + ") also in train\n";
  for (auto [e, t] : o.first)
    out += "    eval " + r.eval.recordUnit + " " + std::to_string(e) +
           " = train " + r.train.recordUnit + " " + std::to_string(t) + "\n";
  if (size_t(o.examples) > o.first.size())
    out += "    ...\n";
}

} // namespace

DataReport ftc::rt::buildDataReport(const SplitFacts &train,
                                    const SplitFacts *eval,
                                    std::vector<std::string> classNames) {
  size_t numClasses = classNames.size();
  for (const SplitFacts *f : {&train, eval})
    if (f)
      for (int32_t label : f->labels)
        numClasses = std::max(numClasses, size_t(std::max(label, -1) + 1));
  DataReport r;
  r.classNames = std::move(classNames);
  r.train = splitReport("train", train, numClasses);
  if (eval) {
    r.hasEval = true;
    r.eval = splitReport("eval", *eval, numClasses);
    r.leakage = overlap(train, *eval, false);
    r.normalizedLeakage = overlap(train, *eval, true);
  }
  const std::vector<int64_t> &counts = r.train.labelCounts;
  if (!counts.empty()) {
    r.majorityClass =
        std::max_element(counts.begin(), counts.end()) - counts.begin();
    const DataReport::Split &on = eval ? r.eval : r.train;
    if (on.examples && !on.labelCounts.empty())
      r.majorityAccuracy =
          double(on.labelCounts[size_t(r.majorityClass)]) / double(on.examples);
    if (eval && !r.eval.labelCounts.empty())
      for (size_t c = 0; c < numClasses; ++c)
        if (r.eval.labelCounts[c] && !counts[c])
          r.unseenLabels.push_back(int64_t(c));
  }
  return r;
}

std::string ftc::rt::formatDataReport(const DataReport &r) {
  std::string out;
  formatSplit(out, r, r.train);
  if (r.hasEval)
    formatSplit(out, r, r.eval);
  if (r.majorityClass >= 0) {
    size_t c = size_t(r.majorityClass);
    std::string name = className(r, c);
    char acc[32];
    std::snprintf(acc, sizeof acc, "%.3f", r.majorityAccuracy);
    out += std::string("baseline: always '") + name +
           "' (the train split's majority class) scores accuracy " + acc +
           " on " + (r.hasEval ? "eval" : "train") + ": the number to beat\n";
  }
  if (r.hasEval) {
    out += "train/eval overlap (leakage):\n";
    formatOverlap(out, r, r.leakage, "exact");
    if (r.train.normalizes)
      formatOverlap(out, r, r.normalizedLeakage,
                    "near (case, spacing, punctuation)");
  }
  for (int64_t c : r.unseenLabels) {
    std::string name = className(r, size_t(c));
    out += "warning: label '" + name + "' occurs " +
           std::to_string(r.eval.labelCounts[size_t(c)]) +
           " times in eval but never in train: the model cannot learn it\n";
  }
  return out;
}
