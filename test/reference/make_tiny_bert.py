"""Writes a tiny random BERT checkpoint and a batch of inputs for it.

    make_tiny_bert.py OUTDIR --seed S [--layers 2 --hidden 32 --heads 4
        --inter 64 --vocab 100 --max-pos 32 --labels 3 --batch 4 --seq 12
        --examples 8 --task sequence-classification]

OUTDIR/ckpt/config.json        a Hugging Face BertConfig (model_type "bert",
                               gelu, dropout probabilities 0, eps 1e-12)
OUTDIR/ckpt/model.safetensors  every BertModel tensor under its Hugging Face
                               name (bert.embeddings.*, bert.encoder.layer.*,
                               bert.pooler.dense.*), random and non-trivial:
                               LayerNorm weights are not 1 and biases are not
                               0, so every tensor changes the result. No task
                               head: ftc initialises it.
OUTDIR/inputs.safetensors      input_ids, token_type_ids, attention_mask
                               [N, S] I32 (some rows padded with trailing
                               zeros, some with a second segment of token
                               type 1) and, by task, label [N] I32
                               (sequence-classification) or labels [N, S] I32
                               with -100 where no loss is taken.

Only numpy is needed.
"""

import argparse
import json
import os

import numpy as np

import safetensors_io

MASK_TOKEN = 3  # the [MASK] id of the tiny vocabulary
CLS_TOKEN, SEP_TOKEN = 1, 2


def bert_tensors(rng, a):
    """The BertModel state dict with random values, float32."""
    h, inter = a.hidden, a.inter
    t = {}

    def normal(shape, std):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    def layer_norm(prefix):
        t[prefix + ".weight"] = (1.0 + normal((h,), 0.2)).astype(np.float32)
        t[prefix + ".bias"] = normal((h,), 0.1)

    def dense(prefix, n_in, n_out):
        t[prefix + ".weight"] = normal((n_out, n_in), 1.0 / np.sqrt(n_in))
        t[prefix + ".bias"] = normal((n_out,), 0.1)

    e = "bert.embeddings."
    t[e + "word_embeddings.weight"] = normal((a.vocab, h), 0.5)
    t[e + "position_embeddings.weight"] = normal((a.max_pos, h), 0.3)
    t[e + "token_type_embeddings.weight"] = normal((a.type_vocab, h), 0.3)
    layer_norm(e + "LayerNorm")
    for i in range(a.layers):
        p = f"bert.encoder.layer.{i}."
        for name in ("query", "key", "value"):
            dense(p + "attention.self." + name, h, h)
        dense(p + "attention.output.dense", h, h)
        layer_norm(p + "attention.output.LayerNorm")
        dense(p + "intermediate.dense", h, inter)
        dense(p + "output.dense", inter, h)
        layer_norm(p + "output.LayerNorm")
    if not a.no_pooler:
        dense("bert.pooler.dense", h, h)
    return t


def make_inputs(rng, a):
    n, s = a.examples, a.seq
    ids = np.zeros((n, s), np.int32)
    types = np.zeros((n, s), np.int32)
    mask = np.zeros((n, s), np.int32)
    for r in range(n):
        # Row 0 is full length with a pair; row 1 is padded, single segment;
        # row 2 is padded with a pair; the rest are random.
        if r == 0:
            length, pair = s, True
        elif r == 1:
            length, pair = max(3, s // 2), False
        elif r == 2:
            length, pair = max(4, s - 3), True
        else:
            length = int(rng.integers(max(3, s // 2), s + 1))
            pair = bool(rng.integers(0, 2)) and length >= 4
        ids[r, :length] = rng.integers(4, a.vocab, length)
        ids[r, 0] = CLS_TOKEN
        ids[r, length - 1] = SEP_TOKEN
        mask[r, :length] = 1
        if pair:
            split = int(rng.integers(2, length - 1))
            ids[r, split - 1] = SEP_TOKEN
            types[r, split:length] = 1
    out = {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}

    if a.task == "sequence-classification":
        label = rng.integers(0, a.labels, n).astype(np.int32)
        label[0] = a.labels - 1  # the inferred num_classes is --labels
        out["label"] = label
    elif a.task == "token-classification":
        labels = rng.integers(0, a.labels, (n, s)).astype(np.int32)
        labels[0, 0] = a.labels - 1
        labels[mask == 0] = -100
        labels[:, 0] = np.where(np.arange(n) % 2 == 1, -100, labels[:, 0])
        out["labels"] = labels
    elif a.task == "masked-lm":
        labels = np.full((n, s), -100, np.int32)
        for r in range(n):
            length = int(mask[r].sum())
            candidates = np.arange(1, length - 1)
            k = max(2, int(round(0.2 * len(candidates))))
            chosen = rng.choice(candidates, size=min(k, len(candidates)),
                                replace=False)
            labels[r, chosen] = ids[r, chosen]
            # BERT's 80/10/10: most become [MASK], one keeps its token.
            ids[r, chosen[1:]] = MASK_TOKEN
        out["labels"] = labels
    else:
        raise SystemExit(f"unknown task {a.task}")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("outdir")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--inter", type=int, default=64)
    p.add_argument("--vocab", type=int, default=100)
    p.add_argument("--max-pos", dest="max_pos", type=int, default=32)
    p.add_argument("--type-vocab", dest="type_vocab", type=int, default=2)
    p.add_argument("--labels", type=int, default=3)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--seq", type=int, default=12)
    p.add_argument("--examples", type=int, default=0,
                   help="examples in inputs.safetensors; 0 = 2 * batch")
    p.add_argument("--task", default="sequence-classification",
                   choices=["sequence-classification", "masked-lm",
                            "token-classification"])
    p.add_argument("--no-pooler", dest="no_pooler", action="store_true",
                   help="leave bert.pooler.* out of the checkpoint")
    a = p.parse_args()
    if a.examples <= 0:
        a.examples = 2 * a.batch
    if a.hidden % a.heads:
        raise SystemExit("--hidden must be a multiple of --heads")
    if a.seq > a.max_pos or a.seq < 4:
        raise SystemExit("--seq must be in [4, --max-pos]")

    rng = np.random.default_rng(a.seed)
    ckpt = os.path.join(a.outdir, "ckpt")
    os.makedirs(ckpt, exist_ok=True)
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": a.vocab,
        "hidden_size": a.hidden,
        "num_hidden_layers": a.layers,
        "num_attention_heads": a.heads,
        "intermediate_size": a.inter,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "classifier_dropout": None,
        "max_position_embeddings": a.max_pos,
        "type_vocab_size": a.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "use_cache": True,
        "torch_dtype": "float32",
    }
    with open(os.path.join(ckpt, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    safetensors_io.save(os.path.join(ckpt, "model.safetensors"),
                        bert_tensors(rng, a), {"format": "pt"})
    safetensors_io.save(os.path.join(a.outdir, "inputs.safetensors"),
                        make_inputs(rng, a))


if __name__ == "__main__":
    main()
