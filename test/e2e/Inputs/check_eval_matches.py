"""Checks that `ftc eval` outputs (JSON lines) match the run's final eval.

    check_eval_matches.py METRICS.jsonl EVAL.json...

Accuracy must be identical; the loss may differ by float rounding (1e-6
relative: merged weights compute x(W + sBA)^T instead of xW^T + s(xA^T)B^T).
"""
import json
import math
import sys

final = [json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]["metrics"]
for path in sys.argv[2:]:
    got = json.loads(open(path).read().strip().splitlines()[-1])["metrics"]
    if got["accuracy"] != final["accuracy"]:
        sys.exit(f"{path}: accuracy {got['accuracy']} != {final['accuracy']}")
    if not math.isclose(got["loss"], final["loss"], rel_tol=1e-6):
        sys.exit(f"{path}: loss {got['loss']} != {final['loss']}")
    print(f"{path}: accuracy {got['accuracy']}, loss {got['loss']} match")
