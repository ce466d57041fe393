#!/usr/bin/env python3
"""Checks that two metrics.jsonl files describe the same training.

Every train, eval and end event must match exactly (the same steps, losses,
learning rates, eval metrics, confusion matrix), ignoring wall-clock fields
(examples_per_s, train_seconds), output paths, the frozen-prefix cache counts, and the start/resume events
that say how a run began. A resumed run must therefore have logged every
step exactly once.
"""
import argparse
import json
import math
import sys

IGNORED_FIELDS = {"examples_per_s", "train_seconds", "checkpoint", "prefix_cache",
                  "eval_prefix_cache"}
COMPARED_EVENTS = {"train", "eval", "end"}

ap = argparse.ArgumentParser()
ap.add_argument("a")
ap.add_argument("b")
ap.add_argument("--tolerance", type=float, default=0.0,
                help="relative tolerance for numbers (default: exact)")
ap.add_argument("--ignore", nargs="*", default=[],
                help="more fields to ignore")
args = ap.parse_args()
ignored = IGNORED_FIELDS | set(args.ignore)


def events(path):
    out = []
    for line in open(path):
        if not line.strip():
            continue
        e = json.loads(line)
        if e.get("event") in COMPARED_EVENTS:
            out.append({k: v for k, v in e.items() if k not in ignored})
    return out


def same(x, y):
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(same(p, q) for p, q in zip(x, y))
    if (isinstance(x, float) or isinstance(y, float)) and \
            isinstance(x, (int, float)) and isinstance(y, (int, float)):
        return math.isclose(x, y, rel_tol=args.tolerance, abs_tol=0.0) \
            if args.tolerance else x == y
    return x == y


a, b = events(args.a), events(args.b)
if not a or a[-1]["event"] != "end":
    sys.exit(f"compare_metrics: {args.a} does not end with an 'end' event")
for i in range(max(len(a), len(b))):
    ea = a[i] if i < len(a) else None
    eb = b[i] if i < len(b) else None
    if ea is None or eb is None or not same(ea, eb):
        sys.exit(f"compare_metrics: event {i} differs:\n  {ea}\n  {eb}")
print(f"compare_metrics: {len(a)} events match")
