"""The PyTorch side of bench/bench.py: the same BERT, weights, batch, freeze
set and optimizer as the ftc run, timed step by step (or the same MLP, or
the same CNN: --mlp, --vision).

    torch_peer.py --checkpoint DIR --inputs FILE --batch B --threads T
        --steps N --warmup W [--freeze none|head-only|freeze_below=K]

The model is test/reference/bert_torch.py's functional BERT (the parity
reference, so the two sides compute the same thing); frozen parameters have
requires_grad False, so autograd prunes the backward pass as it would in a
torch.nn model. torch.optim.AdamW over the trainable parameters. Prints one
JSON object: per-step seconds, peak RSS, the BLAS torch uses and its threads.
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "test", "reference"))
import bert_torch  # noqa: E402
from parity_common import bf16_autocast  # noqa: E402
import safetensors_io  # noqa: E402


def blas_library():
    """The BLAS shared object this process actually mapped."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f
                    if "blas" in line.split()[-1]}
        return ", ".join(sorted(os.path.realpath(p) for p in libs)) or "?"
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--freeze", default="none")
    ap.add_argument("--labels", type=int, default=2)
    ap.add_argument("--mlp", default=None,
                    help="an MLP instead: sizes, e.g. 784,256,128,10")
    ap.add_argument("--vision", default=None,
                    help="a CNN instead: resnet18 or efficientnet-lite0")
    ap.add_argument("--image-size", type=int, default=224)
    ap.add_argument("--autocast", action="store_true",
                    help="forward passes under torch.autocast('cpu', bfloat16)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.mlp:
        return mlp(a)
    if a.vision:
        return vision(a)

    config = json.load(open(os.path.join(a.checkpoint, "config.json")))
    ckpt = safetensors_io.load(os.path.join(a.checkpoint, "model.safetensors"))
    inputs = safetensors_io.load(a.inputs)
    model = bert_torch.Bert(config, "sequence-classification")
    shapes = model.param_shapes(a.labels)
    gen = torch.Generator().manual_seed(0)
    params = {}
    for name, shape in shapes.items():
        v = (torch.from_numpy(ckpt[name].astype(np.float32)) if name in ckpt
             else bert_tensors_init(name, shape, gen))
        params[name] = v
    freeze = {"policy": "none"}
    if a.freeze == "head-only":
        freeze = {"policy": "head-only"}
    elif a.freeze.startswith("freeze_below="):
        freeze = {"policy": "none",
                  "freeze_below": int(a.freeze.split("=")[1])}
    trainable = bert_torch.trainable_set(list(shapes), freeze)
    for name, v in params.items():
        v.requires_grad_(name in trainable)
    batch = {k: torch.from_numpy(v[:a.batch].astype(np.int64))
             for k, v in inputs.items()
             if k in ("input_ids", "token_type_ids", "attention_mask", "label")}
    opt = torch.optim.AdamW([params[n] for n in sorted(trainable)], lr=1e-4,
                            weight_decay=0.01)
    times = []
    for step in range(a.warmup + a.steps):
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with bf16_autocast(a.autocast):
            loss, _ = model.forward(params, batch)
        loss.float().backward()
        opt.step()
        elapsed = time.perf_counter() - start
        if step >= a.warmup:
            times.append(elapsed)
    print(json.dumps({
        "step_seconds": times,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        * 1024,
        "blas": blas_library(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "trainable": len(trainable),
    }))


def classifier_steps(a, net, opt, x, y):
    """Times a.warmup + a.steps steps of cross-entropy training of `net` on
    (x, y) and prints bench.py's JSON object for the timed ones."""
    times = []
    for step in range(a.warmup + a.steps):
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with bf16_autocast(a.autocast):
            loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.float().backward()
        opt.step()
        if step >= a.warmup:
            times.append(time.perf_counter() - start)
    print(json.dumps({
        "step_seconds": times,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        * 1024,
        "blas": blas_library(), "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "trainable": sum(1 for _ in net.parameters())}))


def mlp(a):
    """The mlp family's network (Linear + ReLU, the last Linear without):
    the same shapes and work per step as ftc's; values do not change the
    timing, so inputs and weights are random here."""
    sizes = [int(x) for x in a.mlp.split(",")]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    x = torch.randn(a.batch, sizes[0])
    y = torch.randint(0, sizes[-1], (a.batch,))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.01)
    classifier_steps(a, net, opt, x, y)


def vision(a):
    """torchvision's ResNet-18 or the reference EfficientNet-Lite0 (its own
    model code, dynamic "SAME" padding, dropout and drop connect off as in
    the ftc job), 10 classes, in training mode, with SGD (momentum 0.9,
    weight decay 1e-4) as the ftc job: the same shapes and work per step;
    values do not change the timing, so inputs and weights are random."""
    if a.vision == "resnet18":
        from torchvision.models import resnet18
        net = resnet18(num_classes=10)
    else:
        from efficientnet_lite_pytorch import EfficientNet
        net = EfficientNet.from_name("efficientnet-lite0", image_size=None,
                                     num_classes=10, dropout_rate=0.0,
                                     drop_connect_rate=0.0)
    net.train()
    x = torch.randn(a.batch, 3, a.image_size, a.image_size)
    y = torch.randint(0, 10, (a.batch,))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9,
                          weight_decay=1e-4)
    classifier_steps(a, net, opt, x, y)


def bert_tensors_init(name, shape, gen):
    return bert_torch.hf_init(name, shape, 0.02, gen)


if __name__ == "__main__":
    main()
