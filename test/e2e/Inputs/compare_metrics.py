#!/usr/bin/env python3
"""Checks that two metrics.jsonl files describe the same training.

Every train, eval and end event must match exactly (the same steps, losses,
learning rates, eval metrics, confusion matrix), ignoring wall-clock fields
(examples_per_s, train_seconds), output paths, and the start/resume events
that say how a run began. A resumed run must therefore have logged every
step exactly once.
"""
import json
import sys

IGNORED_FIELDS = {"examples_per_s", "train_seconds", "checkpoint"}
COMPARED_EVENTS = {"train", "eval", "end"}


def events(path):
    out = []
    for line in open(path):
        if not line.strip():
            continue
        e = json.loads(line)
        if e.get("event") in COMPARED_EVENTS:
            out.append({k: v for k, v in e.items() if k not in IGNORED_FIELDS})
    return out


a, b = events(sys.argv[1]), events(sys.argv[2])
if not a or a[-1]["event"] != "end":
    sys.exit(f"compare_metrics: {sys.argv[1]} does not end with an 'end' event")
for i in range(max(len(a), len(b))):
    ea = a[i] if i < len(a) else None
    eb = b[i] if i < len(b) else None
    if ea != eb:
        sys.exit(f"compare_metrics: event {i} differs:\n  {ea}\n  {eb}")
print(f"compare_metrics: {len(a)} events match")
