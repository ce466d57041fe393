"""torchvision's ResNet as the reference for ftc's resnet plugin: logits,
loss, every gradient, the batch norms' running statistics and N SGD steps on
one batch, in ftc-trace's layout.

    resnet_torchvision_parity.py --spec JOB.toml --checkpoint DIR
        --inputs INPUTS.safetensors --ftc FTC.safetensors --steps N
        -o OUT.safetensors

Builds torchvision.models.resnet.ResNet (BasicBlock for resnet18/34,
Bottleneck for resnet50; the spec's layers) with model.num_labels classes,
loads DIR/model.safetensors (the classifier takes ftc's initial values,
init.fc.*). Training mode, except that a batch norm whose weight and bias
are both frozen runs in eval mode (freeze.batch_norm = "eval", ftc's
default). freeze_below = k freezes the stem and layer1 ... layer<k>.
torch.optim.SGD with the spec's lr, momentum, dampening, Nesterov and weight
decay, none on biases and batch-norm parameters (ftc's default no_decay,
["**.bias", "@norm"]). Outputs init.*, loss, logits (eval mode, after the
first training forward), grad.* and param.* (running statistics included).
"""
import argparse

import numpy as np
import torch
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

import safetensors_io
from bert_torch import load_spec
from parity_common import deterministic_torch


def stage_of(name):
    """The freeze_below block of a parameter: -1 for the stem, k - 1 for
    layer<k>, None for the classifier (ftc's resnet layer_of)."""
    if name.startswith("layer"):
        return int(name[5]) - 1
    if name.startswith(("conv1.", "bn1.")):
        return -1
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", required=True)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--ftc", required=True)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()

    deterministic_torch()
    spec = load_spec(a.spec, [])
    ms, opt, freeze = spec["model"], spec.get("optimizer", {}), spec.get("freeze", {})
    variant = ms.get("variant", "resnet18")
    layers = ms.get("layers") or ([2, 2, 2, 2] if variant == "resnet18" else [3, 4, 6, 3])
    block = Bottleneck if variant == "resnet50" else BasicBlock
    model = ResNet(block, layers, num_classes=int(ms["num_labels"]))
    ftc = safetensors_io.load(a.ftc)
    state = {k: torch.from_numpy(v)
             for k, v in safetensors_io.load(a.checkpoint + "/model.safetensors").items()}
    for k in ("fc.weight", "fc.bias"):
        state[k] = torch.from_numpy(ftc["init." + k])
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), \
        (missing, unexpected)

    params = dict(model.named_parameters())
    below = freeze.get("freeze_below")
    trainable = {n for n in params
                 if below is None or stage_of(n) is None or stage_of(n) >= int(below)}
    for n, p in params.items():
        p.requires_grad_(n in trainable)
    frozen_bns = [m for name, m in model.named_modules()
                  if isinstance(m, torch.nn.BatchNorm2d)
                  and name + ".weight" not in trainable and name + ".bias" not in trainable]

    def train_mode():
        model.train()
        for m in frozen_bns:
            if freeze.get("batch_norm", "eval") == "eval":
                m.eval()

    def tensors():
        return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()
                if not k.endswith("num_batches_tracked")}

    inputs = safetensors_io.load(a.inputs)
    batch = int(spec["train"]["batch_size"])
    x = torch.from_numpy(inputs["image"][:batch])
    y = torch.from_numpy(inputs["label"][:batch].astype(np.int64))
    out = {"init." + k: v for k, v in tensors().items()}

    train_mode()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    out["loss"] = np.array(loss.item(), np.float32)
    for n in sorted(trainable):
        out["grad." + n] = params[n].grad.numpy().copy()
    model.eval()
    with torch.no_grad():
        out["logits"] = model(x).numpy().copy()
    train_mode()

    bn_params = {name + "." + p for name, m in model.named_modules()
                 if isinstance(m, torch.nn.BatchNorm2d) for p in ("weight", "bias")}
    exempt = {n for n in params if n.endswith(".bias") or n in bn_params}
    decay = float(opt.get("weight_decay", 0.0))
    groups = [{"params": [params[n] for n in sorted(trainable) if (n in exempt) == nd],
               "weight_decay": 0.0 if nd else decay} for nd in (False, True)]
    sgd = torch.optim.SGD(groups, lr=float(opt["lr"]),
                          momentum=float(opt.get("momentum", 0.0)),
                          dampening=float(opt.get("dampening", 0.0)),
                          nesterov=bool(opt.get("nesterov", False)))
    for step in range(a.steps):
        if step:
            sgd.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x), y).backward()
        sgd.step()
    out.update({"param." + k: v for k, v in tensors().items()})
    safetensors_io.save(a.output, out, {"producer": "resnet_torchvision_parity.py"})
    print(f"resnet_torchvision_parity: torchvision {variant} {layers}: loss "
          f"{float(loss):.6f}, {len(trainable)} of {len(params)} parameters trainable, "
          f"{len(frozen_bns)} frozen batch norms, {a.steps} steps")


if __name__ == "__main__":
    main()
