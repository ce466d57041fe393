"""Checks `ftc check`'s data report against an independent computation.

Usage: check_data_report.py REPORT TRAIN_CSV EVAL_CSV TOKENIZER_JSON MAX_LENGTH
The CSVs have columns review,score. Lengths and unknown tokens come from
Hugging Face `tokenizers` (untruncated, [CLS]/[SEP] included); duplicates,
leakage and the majority baseline from Python's csv module.
"""
import collections
import csv
import math
import re
import sys

from tokenizers import Tokenizer

report_path, train_path, eval_path, tok_path, max_length = sys.argv[1:6]
max_length = int(max_length)
report = open(report_path, encoding="utf-8").read()
tok = Tokenizer.from_file(tok_path)
tok.no_truncation()
tok.no_padding()
unk = tok.token_to_id("[UNK]")


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [(r["review"], r["score"]) for r in csv.DictReader(f)]


def near(text):
    out, gap = [], False
    for ch in text:
        if ord(ch) < 0x80 and not ch.isalnum():
            gap = bool(out)
            continue
        if gap:
            out.append(" ")
        gap = False
        out.append(ch.lower() if ord(ch) < 0x80 else ch)
    return "".join(out)


def rank(sorted_values, p):
    return sorted_values[min(len(sorted_values), max(1, math.ceil(p * len(sorted_values)))) - 1]


def section(name):
    m = re.search(rf"^{name}: .*?(?=^\S)", report + "\nEND", re.S | re.M)
    assert m, f"no {name} section in the report"
    return m.group(0)


def expect(text, pattern, *values):
    m = re.search(pattern, text, re.M)
    assert m, f"'{pattern}' not found in:\n{text}"
    got = tuple(m.groups())
    want = tuple(str(v) for v in values)
    assert got == want, f"{pattern}: ftc says {got}, the reference {want}"


train, evals = rows(train_path), rows(eval_path)
for name, data in (("train", train), ("eval", evals)):
    sec = section(name)
    encodings = tok.encode_batch([t for t, _ in data])
    lengths = sorted(len(e.ids) for e in encodings)
    unknown = sum(e.ids.count(unk) for e in encodings)
    expect(sec, r"^  length in tokens: median (\d+), p90 (\d+), p99 (\d+), longest (\d+)$",
           rank(lengths, .5), rank(lengths, .9), rank(lengths, .99), lengths[-1])
    truncated = sum(l > max_length for l in lengths)
    expect(sec, rf"^  truncated at max_length {max_length}: (\d+) \((\d+\.\d)%\); (\d+) would keep 95% whole$",
           truncated, f"{100 * truncated / len(data):.1f}", rank(lengths, .95))
    expect(sec, r"^  unknown tokens: (\d+) of (\d+) ", unknown, sum(lengths))
    counts = collections.Counter(t for t, _ in data)
    groups = [n for n in counts.values() if n > 1]
    if groups:
        expect(sec, r"^  exact duplicates: (\d+) repeated examples? in (\d+) groups?",
               sum(groups) - len(groups), len(groups))
    else:
        expect(sec, r"^  exact duplicates: (none)$", "none")
    labels = collections.Counter(l for _, l in data)
    for label, n in labels.items():
        assert f" {label} {n} (" in sec, f"{name}: label {label} x{n} missing:\n{sec}"

train_labels = collections.Counter(l for _, l in train)
top = max(sorted(train_labels), key=lambda l: train_labels[l])
share = sum(l == top for _, l in evals) / len(evals)
expect(report, r"^baseline: always '(.*)' .* accuracy (\d\.\d+) on eval", top, f"{share:.3f}")
train_texts = {t for t, _ in train}
leaked = sum(t in train_texts for t, _ in evals)
if leaked:
    expect(report, r"^  exact: (\d+) eval examples? \(", leaked)
else:
    expect(report, r"^  exact: (none)$", "none")
near_train = {near(t) for t, _ in train}
near_leaked = sum(t not in train_texts and near(t) in near_train for t, _ in evals)
if near_leaked:
    expect(report, r"^  near \(case, spacing, punctuation\): (\d+) eval examples? \(", near_leaked)
print(f"data report agrees: {len(train)} train, {len(evals)} eval, baseline {share:.3f}, "
      f"{leaked} leaked, {near_leaked} near-leaked")
