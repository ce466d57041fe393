#!/usr/bin/env python3
"""Writes Fashion-MNIST as an image folder (prepare-fashion-folder.sh).

usage: make-fashion-folder.py <fashion-mnist dir> <out dir>

<out dir>/train/<class>/NNNNN.png: the first 100 training images of each
class, in file order (1000 images); <out dir>/test/<class>/NNNNN.png: all
10000 test images. NNNNN is the image's index in its IDX file. Grey 8-bit
PNGs written with zlib (level 9, no filter): the same bytes on every run.
Class folders carry Fashion-MNIST's names, so the image-folder plugin's
labels (the sorted names) differ from the IDX label numbers.
"""
import gzip
import os
import struct
import sys
import zlib

import numpy as np

CLASSES = ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
           "Shirt", "Sneaker", "Bag", "Ankle_boot"]
PER_CLASS_TRAIN = 100


def idx(path, rank):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    if magic != 0x800 | rank:
        raise SystemExit(f"{path}: not an IDX file of rank {rank}")
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * rank)
    return body.reshape(dims)


def png(image):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    h, w = image.shape
    raw = b"".join(b"\x00" + image[y].tobytes() for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def write_split(out, images, labels, keep):
    for name in CLASSES:
        os.makedirs(os.path.join(out, name), exist_ok=True)
    for i in keep:
        path = os.path.join(out, CLASSES[labels[i]], f"{i:05d}.png")
        with open(path, "wb") as f:
            f.write(png(images[i]))
    return len(keep)


def main():
    src, out = sys.argv[1], sys.argv[2]
    train_x = idx(os.path.join(src, "train-images-idx3-ubyte.gz"), 3)
    train_y = idx(os.path.join(src, "train-labels-idx1-ubyte.gz"), 1)
    test_x = idx(os.path.join(src, "t10k-images-idx3-ubyte.gz"), 3)
    test_y = idx(os.path.join(src, "t10k-labels-idx1-ubyte.gz"), 1)
    keep = []
    for c in range(len(CLASSES)):
        first = np.flatnonzero(train_y == c)[:PER_CLASS_TRAIN]
        if len(first) != PER_CLASS_TRAIN:
            raise SystemExit(f"class {c} has only {len(first)} training images")
        keep.extend(first.tolist())
    n_train = write_split(os.path.join(out, "train"), train_x, train_y, sorted(keep))
    n_test = write_split(os.path.join(out, "test"), test_x, test_y, range(len(test_y)))
    print(f"wrote {out}: {n_train} train and {n_test} test images", file=sys.stderr)


if __name__ == "__main__":
    main()
