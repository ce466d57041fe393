#!/usr/bin/env python3
"""Checks metrics.jsonl against the contract in docs/user-guide.md."""
import argparse
import json
import math
import sys

p = argparse.ArgumentParser()
p.add_argument("path")
p.add_argument("--min-accuracy", type=float, default=None)
p.add_argument("--epochs", type=int, default=None)
a = p.parse_args()

def fail(msg):
    print(f"check_metrics: {a.path}: {msg}", file=sys.stderr)
    sys.exit(1)

events = [json.loads(line) for line in open(a.path) if line.strip()]
if not events or events[-1].get("event") != "end":
    fail("the last line is not an 'end' event")
trains = [e for e in events if e.get("event") == "train"]
evals = [e for e in events if e.get("event") == "eval"]
if not trains:
    fail("no 'train' events")
for e in trains:
    for key in ("step", "loss", "lr", "examples_per_s"):
        if key not in e:
            fail(f"train event without '{key}': {e}")
    if not math.isfinite(e["loss"]):
        fail(f"non-finite loss: {e}")
steps = [e["step"] for e in trains]
if steps != sorted(steps):
    fail("train steps are not increasing")
for e in evals:
    for key in ("epoch", "step", "split", "metrics"):
        if key not in e:
            fail(f"eval event without '{key}': {e}")
    if e["split"] != "eval" or "loss" not in e["metrics"] or "accuracy" not in e["metrics"]:
        fail(f"eval event without loss and accuracy: {e}")
if a.epochs is not None and sorted({e["epoch"] for e in evals}) != list(range(1, a.epochs + 1)):
    fail(f"expected one eval per epoch 1..{a.epochs}, got {[e['epoch'] for e in evals]}")
if a.min_accuracy is not None:
    if not evals:
        fail("no eval events")
    acc = evals[-1]["metrics"]["accuracy"]
    if acc < a.min_accuracy:
        fail(f"final eval accuracy {acc:.4f} < {a.min_accuracy}")
    print(f"final eval accuracy {acc:.4f}")
print("metrics ok")
