"""What the CNN parity references share (resnet_torchvision_parity.py,
efficientnet_lite_parity.py): loading the checkpoint with ftc's new head,
batch norms in eval mode where ftc's freeze.batch_norm = "eval" puts them,
and one batch's loss, gradients, eval-mode logits and N SGD steps in
ftc-trace's layout."""
import argparse

import numpy as np
import torch

import safetensors_io
from bert_torch import load_spec
from parity_common import deterministic_torch


def setup(description):
    """The command line both references take (--spec, --checkpoint,
    --inputs, --ftc, --steps, -o), deterministic torch, and the spec.
    Returns (args, spec, ftc-trace's tensors)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--ftc", required=True)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    deterministic_torch()
    return a, load_spec(a.spec, []), safetensors_io.load(a.ftc)


def load_checkpoint(model, checkpoint_dir, ftc, head):
    """DIR/model.safetensors into `model`; the `head` tensors take ftc's
    initial values where the checkpoint has none of their shape. Only the
    num_batches_tracked counters may be missing."""
    state = {k: torch.from_numpy(v) for k, v in
             safetensors_io.load(checkpoint_dir + "/model.safetensors").items()}
    for k in head:
        if k not in state or tuple(state[k].shape) != tuple(ftc["init." + k].shape):
            state[k] = torch.from_numpy(ftc["init." + k])
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), \
        (missing, unexpected)


def batch_norms(model):
    return {name: m for name, m in model.named_modules()
            if isinstance(m, torch.nn.BatchNorm2d)}


def run(model, trainable, spec, inputs_path, steps):
    """ftc-trace's tensors for `model` with `trainable` parameter names:
    init.*, loss and grad.* (training mode), logits (eval mode, after that
    training forward), param.* after `steps` SGD steps (the spec's lr,
    momentum, dampening, Nesterov, weight decay except on biases and batch
    norms: ftc's default no_decay). Returns (tensors, loss, frozen batch
    norms)."""
    opt, freeze = spec.get("optimizer", {}), spec.get("freeze", {})
    params = dict(model.named_parameters())
    for n, p in params.items():
        p.requires_grad_(n in trainable)
    bns = batch_norms(model)
    frozen_bns = [m for name, m in bns.items()
                  if name + ".weight" not in trainable and name + ".bias" not in trainable]

    def train_mode():
        model.train()
        if freeze.get("batch_norm", "eval") == "eval":
            for m in frozen_bns:
                m.eval()

    def tensors():
        return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()
                if not k.endswith("num_batches_tracked")}

    inputs = safetensors_io.load(inputs_path)
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
    sgd = torch.optim.SGD(groups, lr=float(opt["lr"]),
                          momentum=float(opt.get("momentum", 0.0)),
                          dampening=float(opt.get("dampening", 0.0)),
                          nesterov=bool(opt.get("nesterov", False)))
    for step in range(steps):
        if step:
            sgd.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x), y).backward()
        sgd.step()
    out.update({"param." + k: v for k, v in tensors().items()})
    return out, float(loss), frozen_bns
