"""Checks the overfitting event of a run's metrics.jsonl against its evals.

Usage: check_overfitting.py METRICS_JSONL N
Recomputes from the eval events (eval loss, and the training sample's loss
in train_metrics) where eval loss first rose N evaluations in a row while
the sample's loss fell, and requires exactly one overfitting event, there,
with the right losses and lowest eval loss; and that every eval event has
train metrics over as many examples as min(train, eval).
"""
import json
import sys

events = [json.loads(line) for line in open(sys.argv[1])]
n = int(sys.argv[2])
start = events[0]
evals = [e for e in events if e["event"] == "eval"]
assert evals, "no eval events"
sample = min(start["train_examples"], start["eval_examples"])
for e in evals:
    assert e["train_examples"] == sample, e
    assert set(e["train_metrics"]) == set(e["metrics"]), e

expected, streak = None, 0
for prev, cur in zip(evals, evals[1:]):
    rising = (cur["metrics"]["loss"] > prev["metrics"]["loss"]
              and cur["train_metrics"]["loss"] < prev["train_metrics"]["loss"])
    if rising and streak == 0:
        since = prev
    streak = streak + 1 if rising else 0
    if streak == n:
        expected = (since, cur)
        break

signals = [e for e in events if e["event"] == "overfitting"]
assert expected, "the evals never rose %d times in a row" % n
assert len(signals) == 1, f"{len(signals)} overfitting events"
since, cur = expected
s = signals[0]
assert s["step"] == cur["step"] and s["since_step"] == since["step"], (s, since["step"], cur["step"])
assert s["evals"] == n
assert s["eval_loss"] == {"from": since["metrics"]["loss"], "to": cur["metrics"]["loss"]}, s
assert s["train_loss"] == {"from": since["train_metrics"]["loss"], "to": cur["train_metrics"]["loss"]}, s
upto = [e for e in evals if e["step"] <= cur["step"]]
low = min(upto, key=lambda e: e["metrics"]["loss"])
assert s["lowest_eval_loss"] == {"step": low["step"], "value": low["metrics"]["loss"]}, s
# The event follows its eval event.
assert events.index(s) == events.index(cur) + 1
print(f"overfitting at step {s['step']} (since {s['since_step']}), lowest eval loss at step {low['step']}")
