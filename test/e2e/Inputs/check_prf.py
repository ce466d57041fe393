#!/usr/bin/env python3
"""Recomputes accuracy, precision, recall and F1 from the confusion matrix
in metrics.jsonl's 'end' event and checks them against the logged metrics.

    check_prf.py METRICS.jsonl --average binary|macro [--nontrivial]

The matrix is [true][predicted]. binary: of class 1. macro: the unweighted
mean over the classes that occur as a label or a prediction, per-class F1
averaged (scikit-learn's average="macro"); 0 for a zero denominator.
--nontrivial requires a misclassification, so the test checks something.
"""
import argparse
import json
import sys

p = argparse.ArgumentParser()
p.add_argument("path")
p.add_argument("--average", choices=["binary", "macro"], required=True)
p.add_argument("--nontrivial", action="store_true")
a = p.parse_args()


def fail(msg):
    sys.exit(f"check_prf: {a.path}: {msg}")


events = [json.loads(l) for l in open(a.path) if l.strip()]
start, end = events[0], events[-1]
if end.get("event") != "end" or "confusion_matrix" not in end:
    fail("no 'end' event with a confusion_matrix")
m = end["confusion_matrix"]
n = len(m)
if any(len(row) != n for row in m):
    fail(f"the confusion matrix is not square: {m}")
total = sum(map(sum, m))
if total != start["eval_examples"]:
    fail(f"the matrix counts {total} examples, the eval split has {start['eval_examples']}")
if a.nontrivial and all(m[i][j] == 0 for i in range(n) for j in range(n) if i != j):
    fail(f"no misclassification in {m}: make the test's training shorter")
if a.average == "binary" and n != 2:
    fail(f"binary averaging needs 2 classes, the matrix has {n}")


def div(x, y):
    return x / y if y else 0.0


def prf(c):
    tp = m[c][c]
    predicted = sum(m[r][c] for r in range(n))
    actual = sum(m[c])
    p, r = div(tp, predicted), div(tp, actual)
    return p, r, div(2 * p * r, p + r), predicted + actual > 0


if a.average == "binary":
    precision, recall, f1, _ = prf(1)
else:
    per = [prf(c) for c in range(n)]
    per = [x for x in per if x[3]]
    precision = sum(x[0] for x in per) / len(per)
    recall = sum(x[1] for x in per) / len(per)
    f1 = sum(x[2] for x in per) / len(per)
expected = {"accuracy": div(sum(m[i][i] for i in range(n)), total),
            "precision": precision, "recall": recall, "f1": f1}
logged = end["metrics"]
for name, value in expected.items():
    if name not in logged:
        fail(f"the end event has no '{name}'")
    if abs(logged[name] - value) > 1e-12:
        fail(f"{name}: logged {logged[name]!r}, the matrix gives {value!r}")
# The end metrics are the last evaluation's.
last_eval = [e for e in events if e.get("event") == "eval"][-1]
if last_eval["metrics"] != logged:
    fail(f"the end metrics {logged} are not the last eval's {last_eval['metrics']}")
print(f"check_prf: {a.average} precision {precision:.4f} recall {recall:.4f} "
      f"f1 {f1:.4f} match the confusion matrix {m}")
