#!/usr/bin/env python3
"""Compares named tensors of two safetensors files byte for byte."""
import argparse
import json
import struct
import sys

def load(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    return {k: data[base + v["data_offsets"][0] : base + v["data_offsets"][1]]
            for k, v in header.items() if k != "__metadata__"}

p = argparse.ArgumentParser()
p.add_argument("a")
p.add_argument("b")
p.add_argument("--same", nargs="*", default=[])
p.add_argument("--different", nargs="*", default=[])
args = p.parse_args()
a, b = load(args.a), load(args.b)
for name in args.same:
    if a[name] != b[name]:
        sys.exit(f"{name} differs but should be bit-identical")
for name in args.different:
    if a[name] == b[name]:
        sys.exit(f"{name} is identical but should have changed")
print("ok")
