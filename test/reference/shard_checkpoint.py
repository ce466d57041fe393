#!/usr/bin/env python3
"""Rewrites a model.safetensors as Hugging Face's sharded layout.

SRC/model.safetensors -> DST/model-0000K-of-0000N.safetensors plus
DST/model.safetensors.index.json (weight_map), round-robin over N shards.
config.json is copied along.
"""
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_io  # noqa: E402

src, dst, shards = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(dst, exist_ok=True)
tensors = safetensors_io.load(os.path.join(src, "model.safetensors"))
names = sorted(tensors)
weight_map = {}
for k in range(shards):
    part = {n: tensors[n] for i, n in enumerate(names) if i % shards == k}
    file = f"model-{k + 1:05d}-of-{shards:05d}.safetensors"
    safetensors_io.save(os.path.join(dst, file), part)
    weight_map.update({n: file for n in part})
with open(os.path.join(dst, "model.safetensors.index.json"), "w") as f:
    json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f)
if os.path.exists(os.path.join(src, "config.json")):
    shutil.copy(os.path.join(src, "config.json"), dst)
