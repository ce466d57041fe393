"""efficientnet_lite_pytorch (the model code shipped with the pretrained
EfficientNet-Lite0) as the reference for ftc's efficientnet-lite plugin:
logits, loss, every gradient, the running statistics and N SGD steps on one
batch, in ftc-trace's layout.

    efficientnet_lite_parity.py --spec JOB.toml --checkpoint DIR
        --inputs INPUTS.safetensors --ftc FTC.safetensors --steps N
        -o OUT.safetensors

EfficientNet.from_name('efficientnet-lite0') with model.num_labels classes,
dynamic "SAME" padding (image_size=None), dropout and drop connect 0 (the
spec must say so: both are random), DIR/model.safetensors loaded (the
classifier `_fc` takes ftc's initial values when its class count differs).
Training mode but for batch norms whose weight and bias are frozen (eval
mode, ftc's freeze.batch_norm = "eval"); freeze_below = k freezes the stem
and blocks 0 ... k-1. torch.optim.SGD with the spec's lr and momentum, no
weight decay on biases and batch norms.
"""
import argparse

import numpy as np
import torch
from efficientnet_lite_pytorch import EfficientNet

import safetensors_io
from bert_torch import load_spec
from parity_common import deterministic_torch


def block_of(name):
    if name.startswith("_blocks."):
        return int(name.split(".")[1])
    if name.startswith(("_conv_stem.", "_bn0.")):
        return -1
    if name.startswith(("_conv_head.", "_bn1.")):
        return 16
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
    assert float(ms.get("dropout", 0.2)) == 0 and float(ms.get("drop_connect_rate", 0.2)) == 0, \
        "the parity job must switch off dropout and drop connect"
    labels = int(ms["num_labels"])
    model = EfficientNet.from_name("efficientnet-lite0", image_size=None,
                                   num_classes=labels, dropout_rate=0.0,
                                   drop_connect_rate=0.0)
    ftc = safetensors_io.load(a.ftc)
    state = {k: torch.from_numpy(v)
             for k, v in safetensors_io.load(a.checkpoint + "/model.safetensors").items()}
    for k in ("_fc.weight", "_fc.bias"):
        if k not in state or tuple(state[k].shape) != tuple(ftc["init." + k].shape):
            state[k] = torch.from_numpy(ftc["init." + k])
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), \
        (missing, unexpected)

    params = dict(model.named_parameters())
    below = freeze.get("freeze_below")
    trainable = {n for n in params
                 if below is None or block_of(n) is None or block_of(n) >= int(below)}
    if freeze.get("policy") == "head-only":
        trainable = {n for n in params if n.startswith("_fc.")}
    for n, p in params.items():
        p.requires_grad_(n in trainable)
    bns = {name: m for name, m in model.named_modules() if isinstance(m, torch.nn.BatchNorm2d)}
    frozen_bns = [m for name, m in bns.items()
                  if name + ".weight" not in trainable and name + ".bias" not in trainable]

    def train_mode():
        model.train()
        for m in frozen_bns:
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

    bn_params = {name + "." + p for name in bns for p in ("weight", "bias")}
    exempt = {n for n in params if n.endswith(".bias") or n in bn_params}
    decay = float(opt.get("weight_decay", 0.0))
    groups = [{"params": [params[n] for n in sorted(trainable) if (n in exempt) == nd],
               "weight_decay": 0.0 if nd else decay} for nd in (False, True)]
    sgd = torch.optim.SGD(groups, lr=float(opt["lr"]), momentum=float(opt.get("momentum", 0.0)))
    for step in range(a.steps):
        if step:
            sgd.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x), y).backward()
        sgd.step()
    out.update({"param." + k: v for k, v in tensors().items()})
    safetensors_io.save(a.output, out, {"producer": "efficientnet_lite_parity.py"})
    print(f"efficientnet_lite_parity: loss {float(loss):.6f}, {len(trainable)} of "
          f"{len(params)} parameters trainable, {len(frozen_bns)} frozen batch norms, "
          f"{a.steps} steps")


if __name__ == "__main__":
    main()
