"""Checks a gradual-unfreezing run's per-epoch checkpoints.

    check_stages.py BASE.safetensors RUN_DIR

RUN_DIR holds checkpoint-4, -8, -12 (epochs 1..3 of stages_bert.toml). Each
epoch may move only the parameters its stage trains; the optimizer's own
step counts (<name>.step in trainer_state.safetensors) must equal the number
of steps each parameter actually trained.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "reference"))
import safetensors_io  # noqa: E402

base = safetensors_io.load(sys.argv[1])
run = sys.argv[2]
ck = {e: safetensors_io.load(os.path.join(run, f"checkpoint-{4 * e}",
                                          "model.safetensors"))
      for e in (1, 2, 3)}
prev = {0: base, 1: ck[1], 2: ck[2], 3: ck[3]}


def group(name):
    if not name.startswith("bert."):
        return "head"
    if name.startswith("bert.pooler."):
        return "pooler"
    if name.startswith("bert.embeddings."):
        return "embeddings"
    return "layer " + name.split(".")[3]


def moved(e, name):
    before = prev[e - 1].get(name)
    return before is None or not np.array_equal(before, prev[e][name])


fail = []
for name in ck[3]:
    g = group(name)
    # The head (classifier) is new: not in the base checkpoint.
    if name not in base and g != "head":
        fail.append(f"{name} missing from the base checkpoint")
    expect = {1: g == "head",
              2: g in ("head", "pooler", "layer 1"),
              3: True}
    for e in (1, 2, 3):
        if e == 1 and g == "pooler":
            expect[1] = False
        if moved(e, name) != expect[e] and not (e > 1 and name not in base):
            fail.append(f"epoch {e}: {name} moved={moved(e, name)}, "
                        f"expected {expect[e]}")
for f in fail:
    print("FAIL:", f)
if fail:
    sys.exit(1)
print("epoch 1: only the head moved")
print("epoch 2: layer 0 and the embeddings unchanged, layer 1 moved")
print("epoch 3: everything moved")
state = safetensors_io.load(os.path.join(run, "checkpoint-12",
                                         "trainer_state.safetensors"))
steps = {}
for name, v in state.items():
    if name.endswith(".step"):
        steps.setdefault(group(name[:-len(".step")]), set()).add(int(v))
order = ["head", "pooler", "layer 1", "layer 0", "embeddings"]
if any(len(steps.get(g, ())) != 1 for g in order):
    sys.exit(f"step counts per group are not uniform: {steps}")
print("own steps: " + ", ".join(
    f"{'classifier' if g == 'head' else g} {next(iter(steps[g]))}"
    for g in order))
