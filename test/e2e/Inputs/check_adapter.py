"""Checks a LoRA run's output against PEFT's layout and the merge rule.

    check_adapter.py RUN_DIR BASE.safetensors SCALE

adapter_model.safetensors must hold exactly the trainable tensors as PEFT's
save_pretrained names them: "base_model.model.<module>.lora_A.weight" /
".lora_B.weight" (A [r, in], B [out, r]) and the modules_to_save tensors as
"base_model.model.<name>". merged/model.safetensors (lora_merge) must equal the base
checkpoint except every adapted W, which is W + SCALE * B @ A (float64 here,
independent of ftc's merge), and the modules_to_save tensors, which come from
the adapter.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "reference"))
import safetensors_io  # noqa: E402

run, base_path, scale = sys.argv[1], sys.argv[2], float(sys.argv[3])
adapter = safetensors_io.load(os.path.join(run, "adapter_model.safetensors"))
config = json.load(open(os.path.join(run, "adapter_config.json")))
base = safetensors_io.load(base_path)
merged = safetensors_io.load(os.path.join(run, "merged", "model.safetensors"))
prefix = "base_model.model."

fail = []
for name in adapter:
    if not name.startswith(prefix):
        fail.append(f"adapter tensor {name} lacks the PEFT prefix")
expected = set()
for m in config["target_modules"]:
    expected |= {f"{prefix}{m}.lora_A.weight", f"{prefix}{m}.lora_B.weight"}
for m in config["modules_to_save"] or []:
    expected |= {n for n in adapter if n.startswith(f"{prefix}{m}.")
                 and ".lora_" not in n}
if set(adapter) != expected:
    fail.append(f"adapter tensors {sorted(adapter)} != expected {sorted(expected)}")

changed = 0
for m in config["target_modules"]:
    a = adapter[f"{prefix}{m}.lora_A.weight"].astype(np.float64)
    b = adapter[f"{prefix}{m}.lora_B.weight"].astype(np.float64)
    w = base[f"{m}.weight"].astype(np.float64)
    if a.shape[0] != config["r"] or b.shape[1] != config["r"]:
        fail.append(f"{m}: lora shapes {a.shape} {b.shape} do not have rank r")
    if not np.any(b):
        fail.append(f"{m}: lora_B is still zero: the adapter did not train")
    want = w + scale * b @ a
    got = merged[f"{m}.weight"].astype(np.float64)
    err = np.abs(got - want).max()
    if err > 1e-6:
        fail.append(f"{m}.weight: merged differs from W + s*B@A by {err:g}")
    changed += 1
unchanged = 0
saved = {n[len(prefix):] for n in adapter if ".lora_" not in n}
for name, t in merged.items():
    if ".lora_" in name:
        fail.append(f"merged weights contain {name}")
    elif name in saved:
        if not np.array_equal(t, adapter[prefix + name]):
            fail.append(f"merged {name} differs from the adapter's")
    elif name.removesuffix(".weight") not in config["target_modules"]:
        if name in base and not np.array_equal(t, base[name]):
            fail.append(f"merged {name} differs from the frozen base tensor")
        unchanged += 1
for f in fail:
    print("FAIL:", f)
if fail:
    sys.exit(1)
print(f"adapter: {len(adapter)} tensors, names as PEFT saves them")
print(f"merged: {changed} weights = base + {scale:g} * B @ A, "
      f"{unchanged} tensors unchanged")
