"""Writes a tiny random GPT-2 checkpoint and a batch of inputs for it.

    make_tiny_gpt2.py OUTDIR --seed S [--layers 2 --embd 32 --heads 4
        --vocab 96 --positions 32 --batch 4 --seq 12 --examples 8
        --task causal-lm|sequence-classification --labels 3]

OUTDIR/ckpt/config.json        a Hugging Face GPT2Config (model_type "gpt2",
                               gelu_new, dropout probabilities 0, eps 1e-5)
OUTDIR/ckpt/model.safetensors  every GPT2Model tensor under its Hugging Face
                               name with the prefix of the task models
                               (transformer.wte, transformer.h.N.attn.c_attn,
                               ...; Conv1D weights stored [in, out] as
                               transformers stores them), random and
                               non-trivial (LayerNorm weights not 1, biases
                               not 0). No lm_head (tied to wte) and no score.
OUTDIR/inputs.safetensors      input_ids and attention_mask [N, S] I32 (row
                               1 and every third row right-padded, with pad
                               id 0) and, by task, labels [N, S] I32 (the
                               next token at each position, -100 at the last
                               real token and at padding: what the causal-lm
                               dataset gives) or label [N] I32.
OUTDIR/hf_labels.safetensors   (causal-lm) labels [N, S] I32 as transformers
                               takes them: the input ids, -100 at padding
                               (GPT2LMHeadModel shifts them itself).

Only numpy is needed.
"""

import argparse
import json
import os

import numpy as np

import safetensors_io


def gpt2_tensors(rng, a):
    h = a.embd
    t = {}

    def normal(shape, std):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    def layer_norm(prefix):
        t[prefix + ".weight"] = (1.0 + normal((h,), 0.2)).astype(np.float32)
        t[prefix + ".bias"] = normal((h,), 0.1)

    def conv1d(prefix, n_in, n_out):
        t[prefix + ".weight"] = normal((n_in, n_out), 1.0 / np.sqrt(n_in))
        t[prefix + ".bias"] = normal((n_out,), 0.1)

    t["transformer.wte.weight"] = normal((a.vocab, h), 0.5)
    t["transformer.wpe.weight"] = normal((a.positions, h), 0.3)
    for i in range(a.layers):
        p = f"transformer.h.{i}."
        layer_norm(p + "ln_1")
        conv1d(p + "attn.c_attn", h, 3 * h)
        conv1d(p + "attn.c_proj", h, h)
        layer_norm(p + "ln_2")
        conv1d(p + "mlp.c_fc", h, 4 * h)
        conv1d(p + "mlp.c_proj", 4 * h, h)
    layer_norm("transformer.ln_f")
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--embd", type=int, default=32)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=96)
    ap.add_argument("--positions", type=int, default=32)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=12)
    ap.add_argument("--examples", type=int, default=8)
    ap.add_argument("--labels", type=int, default=3)
    ap.add_argument("--task", default="causal-lm",
                    choices=["causal-lm", "sequence-classification"])
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)

    ckpt = os.path.join(a.outdir, "ckpt")
    os.makedirs(ckpt, exist_ok=True)
    config = {
        "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
        "vocab_size": a.vocab, "n_positions": a.positions, "n_embd": a.embd,
        "n_layer": a.layers, "n_head": a.heads, "n_inner": None,
        "activation_function": "gelu_new", "resid_pdrop": 0.0, "embd_pdrop": 0.0,
        "attn_pdrop": 0.0, "layer_norm_epsilon": 1e-5, "initializer_range": 0.02,
        "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 1,
    }
    with open(os.path.join(ckpt, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    safetensors_io.save(os.path.join(ckpt, "model.safetensors"), gpt2_tensors(rng, a),
                        {"format": "pt"})

    n, s = a.examples, a.seq
    ids = rng.integers(2, a.vocab, size=(n, s)).astype(np.int32)
    mask = np.ones((n, s), np.int32)
    for r in range(n):
        if r == 1 or r % 3 == 2:
            length = int(rng.integers(3, s - 1))
            ids[r, length:] = 0
            mask[r, length:] = 0
    inputs = {"input_ids": ids, "attention_mask": mask}
    if a.task == "causal-lm":
        labels = np.full((n, s), -100, np.int32)
        labels[:, :-1] = np.where(mask[:, 1:] == 1, ids[:, 1:], -100)
        inputs["labels"] = labels
        safetensors_io.save(os.path.join(a.outdir, "hf_labels.safetensors"),
                            {"labels": np.where(mask == 1, ids, -100).astype(np.int32)}, {})
    else:
        inputs["label"] = rng.integers(0, a.labels, size=(n,)).astype(np.int32)
    safetensors_io.save(os.path.join(a.outdir, "inputs.safetensors"), inputs, {})


if __name__ == "__main__":
    main()
