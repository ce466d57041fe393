"""Hugging Face transformers as the reference for ftc's GPT-2: logits, loss,
every gradient and N AdamW steps on one batch, in ftc-trace's layout.

    gpt2_hf_parity.py --spec JOB.toml [--set KEY=VALUE]... --checkpoint DIR
        --inputs INPUTS.safetensors [--hf-labels LABELS.safetensors]
        --ftc FTC.safetensors --steps N -o OUT.safetensors

Loads GPT2LMHeadModel (task causal-lm: the head tied to transformer.wte,
the labels shifted by the model itself, so LABELS are the input ids with
-100 at padding) or GPT2ForSequenceClassification (its `score` takes ftc's
initial values, `init.score.weight`; config.pad_token_id marks the padding,
as a user sets it) with from_pretrained(DIR) and eager attention, dropout 0.
Names and layouts are transformers' own (Conv1D weights [in, out]), which
ftc-trace also writes. AdamW with the spec's lr, betas, eps and weight decay
(none on the spec's optimizer.no_decay globs, else on what the Trainer
exempts: biases and normalisation layers) and clip_grad_norm_.
"""
import argparse

import numpy as np
import torch
from transformers import GPT2ForSequenceClassification, GPT2LMHeadModel

import safetensors_io
from parity_common import adamw_steps, deterministic_torch
from bert_torch import load_spec, trainable_set


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", required=True)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--hf-labels")
    ap.add_argument("--ftc", required=True)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()

    deterministic_torch()
    spec = load_spec(a.spec, a.overrides)
    model_spec = spec.get("model", {})
    task = model_spec.get("task", "causal-lm")
    opt = spec.get("optimizer", {})
    batch_size = int(spec.get("train", {}).get("batch_size", 32))
    inputs = safetensors_io.load(a.inputs)
    ftc = safetensors_io.load(a.ftc)
    batch = {k: torch.from_numpy(inputs[k][:batch_size].astype(np.int64))
             for k in ("input_ids", "attention_mask")}
    if task == "causal-lm":
        model = GPT2LMHeadModel.from_pretrained(a.checkpoint, attn_implementation="eager")
        labels = torch.from_numpy(
            safetensors_io.load(a.hf_labels)["labels"][:batch_size].astype(np.int64))
    else:
        num_labels = int(model_spec.get("num_labels", 0)) or int(inputs["label"].max()) + 1
        model = GPT2ForSequenceClassification.from_pretrained(
            a.checkpoint, num_labels=num_labels, attn_implementation="eager")
        labels = torch.from_numpy(inputs["label"][:batch_size].astype(np.int64))
    model.train()  # dropout is 0 in the checkpoint's config
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, p in params.items():
            if not name.startswith("transformer."):
                p.copy_(torch.from_numpy(ftc["init." + name]))
    init = {n: p.detach().numpy().copy() for n, p in params.items()}
    trainable = trainable_set(list(params), spec.get("freeze", {}))
    for n, p in params.items():
        p.requires_grad_(n in trainable)

    out = {"init." + k: v for k, v in init.items()}
    with torch.no_grad():
        logits = model(**batch).logits.numpy()
    # ftc's causal-lm logits are [B*S, V]; a classifier's [B, C].
    out["logits"] = logits.reshape(-1, logits.shape[-1]).copy()
    loss = model(**batch, labels=labels).loss
    loss.backward()
    out["loss"] = np.array(loss.item(), np.float32)
    for name in sorted(trainable):
        out["grad." + name] = params[name].grad.numpy().copy()

    adamw_steps(model, params, trainable, opt, a.steps,
                lambda: model(**batch, labels=labels).loss)
    for name, p in params.items():
        out["param." + name] = p.detach().numpy().copy()
    safetensors_io.save(a.output, out, {"producer": "gpt2_hf_parity.py"})
    print(f"gpt2_hf_parity: transformers {type(model).__name__}: loss {float(loss):.6f}, "
          f"{len(trainable)} of {len(params)} parameters trainable, {a.steps} steps")


if __name__ == "__main__":
    main()
