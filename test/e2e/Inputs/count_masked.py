"""Prints whether the micro-batches of each optimizer step hold different
numbers of counted tokens (labels other than -100).

    count_masked.py INPUTS.safetensors MICRO_BATCH_SIZE
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "reference"))
import safetensors_io  # noqa: E402

labels = safetensors_io.load(sys.argv[1])["labels"]
micro = int(sys.argv[2])
counts = [int((labels[i:i + micro] != -100).sum())
          for i in range(0, labels.shape[0] - micro + 1, micro)]
print("counts per micro-batch:", counts)
print("micro-batch token counts " +
      ("differ" if len(set(counts)) > 1 else "are all equal"))
