"""Hugging Face transformers itself as the reference for ftc's BERT: loss,
logits, every gradient and N AdamW steps on one batch, in ftc-trace's layout.

    hf_parity.py --spec JOB.toml [--set KEY=VALUE]... --checkpoint DIR
        --inputs INPUTS.safetensors --ftc FTC.safetensors --steps N
        -o OUT.safetensors

Loads `BertForSequenceClassification.from_pretrained(DIR)` (transformers,
pinned in tools/deps/requirements.txt; eager attention, dropout 0 from the
spec's model keys) — the model a user would run — and gives it ftc's initial
values of the new head (`init.classifier.*` from ftc-trace; every other
tensor comes from DIR through from_pretrained, so a base-model checkpoint
exercises transformers' own prefix handling). The loss is the model's own
(labels passed in); the optimizer is torch.optim.AdamW with the HF Trainer's
grouping (no weight decay on biases and normalisation layers, by
transformers' own rule unless the spec lists no_decay) and
clip_grad_norm_, as in bert_torch.py, at the spec's constant lr.

With --autocast, every forward pass runs under PyTorch's CPU autocast
(`torch.autocast("cpu", dtype=torch.bfloat16)`): the reference for ftc's
train.precision = "bf16" (products on bf16 operands, f32 master weights).
"""
import argparse

import numpy as np
import torch
from transformers import BertForSequenceClassification

import safetensors_io
from parity_common import adamw_steps, bf16_autocast, deterministic_torch
from bert_torch import load_spec, trainable_set



def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", required=True)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--ftc", required=True)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--autocast", action="store_true",
                    help="forward passes under torch.autocast('cpu', bfloat16)")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()

    deterministic_torch()
    spec = load_spec(a.spec, a.overrides)
    model_spec = spec.get("model", {})
    if model_spec.get("task", "sequence-classification") != "sequence-classification":
        raise SystemExit("hf_parity.py: only sequence-classification")
    opt = spec.get("optimizer", {})
    batch_size = int(spec.get("train", {}).get("batch_size", 32))
    inputs = safetensors_io.load(a.inputs)
    ftc = safetensors_io.load(a.ftc)
    num_labels = int(model_spec.get("num_labels", 0)) or int(inputs["label"].max()) + 1

    dropouts = {k: float(model_spec[k]) for k in
                ("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout")
                if k in model_spec}
    if any(v != 0.0 for v in dropouts.values()) or len(dropouts) < 2:
        raise SystemExit("hf_parity.py: the spec must set hidden_dropout_prob and "
                         "attention_probs_dropout_prob to 0")
    model = BertForSequenceClassification.from_pretrained(
        a.checkpoint, num_labels=num_labels, attn_implementation="eager", **dropouts)
    model.train()  # dropout is 0: train mode only checks nothing depends on it
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, p in params.items():
            if not name.startswith("bert."):
                p.copy_(torch.from_numpy(ftc["init." + name]))
    init = {n: p.detach().numpy().copy() for n, p in params.items()}
    trainable = trainable_set(list(params), spec.get("freeze", {}))
    for n, p in params.items():
        p.requires_grad_(n in trainable)

    batch = {k: torch.from_numpy(v[:batch_size].astype(np.int64)) for k, v in inputs.items()
             if k in ("input_ids", "token_type_ids", "attention_mask")}
    labels = torch.from_numpy(inputs["label"][:batch_size].astype(np.int64))

    def step_loss():
        with bf16_autocast(a.autocast):
            return model(**batch, labels=labels).loss.float()

    out = {"init." + k: v for k, v in init.items()}
    with torch.no_grad(), bf16_autocast(a.autocast):
        out["logits"] = model(**batch).logits.float().numpy().copy()
    loss = step_loss()
    loss.backward()
    out["loss"] = np.array(loss.item(), np.float32)
    for name in sorted(trainable):
        out["grad." + name] = params[name].grad.numpy().copy()

    adamw_steps(model, params, trainable, opt, a.steps, step_loss)
    for name, p in params.items():
        out["param." + name] = p.detach().numpy().copy()
    safetensors_io.save(a.output, out, {"producer": "hf_parity.py"})
    print(f"hf_parity: transformers BertForSequenceClassification"
          f"{' (autocast bf16)' if a.autocast else ''}: loss {float(loss):.6f}, "
          f"{len(trainable)} of {len(params)} parameters trainable, {a.steps} steps")


if __name__ == "__main__":
    main()
