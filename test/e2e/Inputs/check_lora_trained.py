"""Counts the lora_B tensors of an ftc-trace dump whose final values
(param.*) moved away from their zero initialisation (init.*)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "reference"))
import safetensors_io  # noqa: E402

t = safetensors_io.load(sys.argv[1])
names = [n[len("param."):] for n in t
         if n.startswith("param.") and n.endswith(".lora_B.weight")]
for n in names:
    if np.any(t["init." + n]):
        sys.exit(f"{n} did not start at zero")
moved = sum(bool(np.any(t["param." + n])) for n in names)
print(f"{moved} lora_B tensors moved from zero")
