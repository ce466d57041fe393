"""Writes a small random torchvision ResNet checkpoint and a batch of images.

    make_tiny_resnet.py OUTDIR --seed S [--variant resnet18|resnet50]
        [--layers 1 1 1 1] [--size 32] [--examples 8] [--labels 3]

OUTDIR/ckpt/model.safetensors  torchvision's ResNet state dict (BasicBlock
                               for resnet18, Bottleneck for resnet50) under
                               its own names, without the classifier `fc`
                               (a new head, as when fine-tuning) and without
                               num_batches_tracked; the batch norms are
                               non-trivial: weights not 1, biases not 0,
                               running means not 0, running variances not 1.
OUTDIR/inputs.safetensors      image [N, 3, S, S] F32 and label [N] I32.
"""

import argparse
import os

import numpy as np
import torch
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

import safetensors_io


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--variant", default="resnet18", choices=["resnet18", "resnet50"])
    ap.add_argument("--layers", type=int, nargs=4, default=[1, 1, 1, 1])
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--examples", type=int, default=8)
    ap.add_argument("--labels", type=int, default=3)
    a = ap.parse_args()

    torch.manual_seed(a.seed)
    block = BasicBlock if a.variant == "resnet18" else Bottleneck
    model = ResNet(block, a.layers, num_classes=a.labels)
    gen = torch.Generator().manual_seed(a.seed + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(1 + 0.2 * torch.randn(c, generator=gen))
                m.bias.copy_(0.1 * torch.randn(c, generator=gen))
                m.running_mean.copy_(0.1 * torch.randn(c, generator=gen))
                m.running_var.copy_(1 + 0.5 * torch.rand(c, generator=gen))
    state = {k: v.numpy() for k, v in model.state_dict().items()
             if not k.startswith("fc.") and not k.endswith("num_batches_tracked")}
    os.makedirs(os.path.join(a.outdir, "ckpt"), exist_ok=True)
    safetensors_io.save(os.path.join(a.outdir, "ckpt", "model.safetensors"), state,
                        {"format": "pt"})
    rng = np.random.default_rng(a.seed + 2)
    inputs = {
        "image": rng.standard_normal((a.examples, 3, a.size, a.size)).astype(np.float32),
        "label": rng.integers(0, a.labels, a.examples).astype(np.int32),
    }
    safetensors_io.save(os.path.join(a.outdir, "inputs.safetensors"), inputs)
    print(f"make_tiny_resnet: {a.variant} {a.layers}, {len(state)} tensors")


if __name__ == "__main__":
    main()
