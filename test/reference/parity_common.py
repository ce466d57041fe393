"""What the Hugging Face parity scripts share (hf_parity.py for BERT,
gpt2_hf_parity.py for GPT-2): deterministic torch, and ftc's AdamW run the
way Hugging Face's Trainer runs torch.optim.AdamW."""
import contextlib
import re

import torch

from bert_torch import glob_regex


def bf16_autocast(enabled):
    """PyTorch's CPU mixed precision (what ftc's train.precision = "bf16" is
    checked and measured against) when enabled, else nothing."""
    return (torch.autocast("cpu", dtype=torch.bfloat16) if enabled
            else contextlib.nullcontext())


def deterministic_torch():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def undecayed(model, opt):
    """The parameters without weight decay: the spec's optimizer.no_decay
    globs, else the Hugging Face Trainer's own rule (biases and every
    normalisation layer's parameters, transformers' get_parameter_names)."""
    names = [n for n, _ in model.named_parameters()]
    if "no_decay" in opt:
        globs = [re.compile(glob_regex(g)) for g in opt["no_decay"]]
        return {n for n in names if any(r.fullmatch(n) for r in globs)}
    from transformers.pytorch_utils import ALL_LAYERNORM_LAYERS
    from transformers.trainer_pt_utils import get_parameter_names
    decay = {n for n in get_parameter_names(model, ALL_LAYERNORM_LAYERS) if "bias" not in n}
    return set(names) - decay


def adamw_steps(model, params, trainable, opt, steps, loss_fn):
    """`steps` AdamW steps at the spec's constant lr: no weight decay on
    undecayed(model, opt), clip_grad_norm_ when the spec clips. The first step
    uses the gradients already in `params`; later ones call loss_fn() and
    backpropagate it."""
    weight_decay = float(opt.get("weight_decay", 0.0))
    exempt = undecayed(model, opt)
    groups = [{"params": [params[n] for n in sorted(trainable) if (n in exempt) == nd],
               "weight_decay": 0.0 if nd else weight_decay} for nd in (False, True)]
    optimizer = torch.optim.AdamW(
        groups, lr=float(opt.get("lr", 1e-3)),
        betas=(float(opt.get("beta1", 0.9)), float(opt.get("beta2", 0.999))),
        eps=float(opt.get("eps", 1e-8)))
    max_norm = float(opt.get("clip_grad_norm", 0.0))
    for step in range(steps):
        if step:
            optimizer.zero_grad(set_to_none=True)
            loss_fn().backward()
        if max_norm > 0:
            torch.nn.utils.clip_grad_norm_([params[n] for n in sorted(trainable)], max_norm)
        optimizer.step()
