"""Checks `ftc predict` output against the labels it was not given.

    check_predictions.py PREDICTIONS.jsonl LABELS-idx1-ubyte METRICS.jsonl

Every line must be {"index", "label", "label_id", "probabilities"}, indices
0..N-1 in order, probabilities summing to 1 with the argmax as label_id; the
accuracy of label_id against the true labels (read here from the IDX file)
must equal the final evaluation accuracy in metrics.jsonl.
"""
import json
import math
import struct
import sys

preds = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
raw = open(sys.argv[2], "rb").read()
magic, n = struct.unpack(">II", raw[:8])
labels = list(raw[8:8 + n])
final = [json.loads(l) for l in open(sys.argv[3]) if l.strip()][-1]
if len(preds) != n:
    sys.exit(f"{len(preds)} predictions for {n} examples")
correct = 0
for i, p in enumerate(preds):
    if p["index"] != i or set(p) != {"index", "label", "label_id",
                                     "probabilities"}:
        sys.exit(f"line {i}: {p}")
    probs = p["probabilities"]
    if not math.isclose(sum(probs.values()), 1.0, rel_tol=1e-9):
        sys.exit(f"line {i}: probabilities sum to {sum(probs.values())}")
    best = max(probs, key=probs.get)
    if best != p["label"] or list(probs).index(best) != p["label_id"]:
        sys.exit(f"line {i}: label {p['label']} is not the argmax {best}")
    correct += p["label_id"] == labels[i]
accuracy = correct / n
if accuracy != final["metrics"]["accuracy"]:
    sys.exit(f"accuracy {accuracy} != the run's eval accuracy "
             f"{final['metrics']['accuracy']}")
print(f"{n} predictions, accuracy {accuracy} as in the run's evaluation")
