#!/usr/bin/env python3
"""Writes a small synthetic IDX image/label pair for the e2e tests.

Two classes that a linear model separates: class c has bright pixels in
rows [c*k, (c+1)*k). Options corrupt the files in the ways the idx plugin
must reject.
"""
import argparse
import gzip
import random
import struct

p = argparse.ArgumentParser()
p.add_argument("prefix")
p.add_argument("--count", type=int, default=256)
p.add_argument("--classes", type=int, default=2)
p.add_argument("--size", type=int, default=8)
p.add_argument("--gzip", action="store_true")
p.add_argument("--bad-label", type=int, help="set example 3's label to this")
p.add_argument("--bad-magic", action="store_true")
p.add_argument("--truncate", type=int, help="drop this many bytes from the images")
a = p.parse_args()

rng = random.Random(7)
labels = [i % a.classes for i in range(a.count)]
if a.bad_label is not None:
    labels[3] = a.bad_label
rows = a.size // a.classes
pixels = bytearray()
for lab in labels:
    for r in range(a.size):
        for _ in range(a.size):
            hot = (lab % a.classes) * rows <= r < (lab % a.classes + 1) * rows
            pixels.append(min(255, (200 if hot else 20) + rng.randrange(40)))

magic = 0x00000804 if a.bad_magic else 0x00000803
images = struct.pack(">IIII", magic, a.count, a.size, a.size) + bytes(pixels)
if a.truncate:
    images = images[: -a.truncate]
label_bytes = struct.pack(">II", 0x00000801, a.count) + bytes(l & 0xFF for l in labels)

opener = gzip.open if a.gzip else open
suffix = ".gz" if a.gzip else ""
with opener(a.prefix + "-images-idx3-ubyte" + suffix, "wb") as f:
    f.write(images)
with opener(a.prefix + "-labels-idx1-ubyte" + suffix, "wb") as f:
    f.write(label_bytes)
