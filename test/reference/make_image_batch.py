"""Writes a batch of random images and labels for the tensors dataset.

    make_image_batch.py OUT.safetensors --seed S [--examples 4] [--size 96]
        [--channels 3] [--labels 3]

image [N, C, S, S] F32 (standard normal) and label [N] I32. Only numpy.
"""
import argparse

import numpy as np

import safetensors_io


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("output")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--examples", type=int, default=4)
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--labels", type=int, default=3)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    safetensors_io.save(a.output, {
        "image": rng.standard_normal(
            (a.examples, a.channels, a.size, a.size)).astype(np.float32),
        "label": rng.integers(0, a.labels, a.examples).astype(np.int32),
    })


if __name__ == "__main__":
    main()
