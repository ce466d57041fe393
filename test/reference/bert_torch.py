"""An independent PyTorch reference for ftc's BERT: loss, logits, every
gradient and N AdamW steps on one batch, written in ftc-trace's layout.

    bert_torch.py --spec JOB.toml [--set KEY=VALUE]... --checkpoint CKPT_DIR
        --inputs INPUTS.safetensors [--ftc FTC.safetensors] --steps N
        -o OUT.safetensors

The model follows Hugging Face's BertForSequenceClassification /
BertForMaskedLM / BertForTokenClassification (transformers 4.x): post-
LayerNorm encoder, erf GELU, an additive attention mask of the float32
minimum where attention_mask is 0, pooler tanh(dense(h[:, 0])) for
sequence classification, an MLM head whose decoder weight IS the word
embedding matrix (tied, so its gradient is the sum of both uses), and mean
cross entropy (ignore_index -100 for token-level tasks). Dropout is not
implemented: the tests use probability 0.

The task head is new in a fine-tuning run and ftc initialises it with its
own RNG, so the head's starting values are taken from ftc's output
(`init.<name>`) when --ftc is given; without it they are drawn here as
BertPreTrainedModel._init_weights does (for testing this script alone).

Settings come from the same job spec ftc ran ([model] task, num_labels;
[freeze] policy, trainable, frozen, freeze_below; [optimizer] lr, beta1,
beta2, eps, weight_decay, no_decay, layer_lr_decay, clip_grad_norm; [train]
batch_size), with `--set section.key=value` overrides as on ftc's command
line. The optimizer options follow docs/spec.md and Hugging Face /
PyTorch conventions, built from torch's own parameter groups and
clip_grad_norm_ rather than from ftc's kernels:

  no_decay        globs (default ["**.bias", "**.LayerNorm.weight"]) of
                  parameters in a weight_decay = 0 group, as the HF Trainer
                  groups them.
  layer_lr_decay  each parameter in its own group at lr * decay**d, where d
                  is its depth below the head: a name with a dotted
                  component `embeddings` is at L + 1 (L = the number of
                  encoder layers), `...layer.<i>...` at L - i, anything else
                  (pooler, classifier, MLM head) at 0. Decoupled weight
                  decay uses the group's lr, as torch.optim.AdamW does.
  clip_grad_norm  torch.nn.utils.clip_grad_norm_ over every trainable
                  gradient before each step (factor min(1, max_norm /
                  (norm + 1e-6))); each step's norm and factor are printed.
  freeze_below    the embeddings and every layer with index < N frozen, on
                  top of the policy.

Output (float32): `init.<name>` for every parameter, `loss` (rank 0) and
`logits` on the first batch (examples 0..B-1) before any update,
`grad.<name>` for every trainable parameter (before any clipping), and
`param.<name>` for every parameter after N steps of torch.optim.AdamW
(decoupled weight decay, only on trainable parameters), each step on that
same batch at the constant lr.
"""

import argparse
import json
import math
import os
import re
import sys
import tomllib

import numpy as np
import torch
import torch.nn.functional as F

import safetensors_io

TASKS = ("sequence-classification", "masked-lm", "token-classification")


# ----------------------------------------------------------------------------
# Spec
# ----------------------------------------------------------------------------

def load_spec(path, overrides):
    with open(path, "rb") as f:
        spec = tomllib.load(f)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise SystemExit(f"--set {item}: expected section.key=value")
        try:
            parsed = tomllib.loads("v = " + value)["v"]
        except tomllib.TOMLDecodeError:
            parsed = value  # a bare string, as ftc accepts
        section, name = key.split(".", 1)
        spec.setdefault(section, {})[name] = parsed
    return spec


def glob_regex(pattern):
    """ftc's parameter-name globs (compiler/include/ftc/Support/Glob.h):
    * within a dotted segment, ** across segments, ? one non-dot character,
    {a,b} alternatives, {0..11} integer ranges, \\c literal."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^.]*")
        elif c == "?":
            out.append("[^.]")
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "{":
            depth, j = 1, i + 1
            while j < len(pattern) and depth:
                depth += {"{": 1, "}": -1}.get(pattern[j], 0)
                j += 1
            if depth:
                raise SystemExit(f"unbalanced '{{' in pattern '{pattern}'")
            body = pattern[i + 1:j - 1]
            m = re.fullmatch(r"(\d+)\.\.(\d+)", body)
            if m:
                lo, hi = int(m.group(1)), int(m.group(2))
                out.append("(?:" + "|".join(str(k) for k in range(lo, hi + 1)) + ")")
            else:
                alts, depth, start = [], 0, 0
                for k, ch in enumerate(body):
                    depth += {"{": 1, "}": -1}.get(ch, 0)
                    if ch == "," and depth == 0:
                        alts.append(body[start:k])
                        start = k + 1
                alts.append(body[start:])
                out.append("(?:" + "|".join(glob_regex(a) for a in alts) + ")")
            i = j
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def is_lora_target(module, targets):
    """PEFT's rule for plain names (the last component matches); a target
    with a dot or a wildcard is a glob over the whole module name."""
    for t in targets:
        if any(c in t for c in ".*{?["):
            if re.fullmatch(glob_regex(t), module):
                return True
        elif module.rsplit(".", 1)[-1] == t:
            return True
    return False


def is_head(name):
    """The task head: whatever BertModel itself does not own."""
    return not name.startswith("bert.")


def name_parts(name):
    return name.split(".")


def layer_index(name):
    """`...layer.<i>...` or `...layers.<i>...` -> i (the first such), else
    None."""
    parts = name_parts(name)
    for k in range(len(parts) - 1):
        if parts[k] in ("layer", "layers") and re.fullmatch(r"\d{1,9}",
                                                            parts[k + 1]):
            return int(parts[k + 1])
    return None


def is_embedding(name):
    return "embeddings" in name_parts(name)


def depth_below_head(name, num_layers):
    """0 for the head (and pooler), L - i for layer i, L + 1 for the
    embeddings."""
    if is_embedding(name):
        return num_layers + 1
    i = layer_index(name)
    return num_layers - i if i is not None else 0


def trainable_set(names, freeze):
    trainable = policy_trainable(names, freeze)
    below = freeze.get("freeze_below")
    if below is not None:
        below = int(below)
        if not any(layer_index(n) is not None for n in names):
            raise SystemExit("freeze_below needs a layered model")
        trainable = {n for n in trainable
                     if not is_embedding(n)
                     and not (layer_index(n) is not None
                              and layer_index(n) < below)}
    if not trainable:
        raise SystemExit("the freeze settings leave no parameter trainable")
    return trainable


def policy_trainable(names, freeze):
    policy = freeze.get("policy", "none")
    if policy == "none":
        return set(names)
    if policy == "head-only":
        return {n for n in names if is_head(n)}
    if policy == "lora":
        # PEFT: the adapters and modules_to_save (default: the head) train.
        save = freeze.get("modules_to_save")
        regexes = [re.compile(glob_regex(p)) for p in save or []]
        return {n for n in names if ".lora_" in n or
                (any(r.fullmatch(n) for r in regexes) if save else is_head(n))}
    if policy == "bitfit":
        return {n for n in names if is_head(n) or n == "bias" or n.endswith(".bias")}
    if policy == "patterns":
        trainable, frozen = freeze.get("trainable"), freeze.get("frozen")
        if bool(trainable) == bool(frozen):
            raise SystemExit("freeze policy 'patterns' needs exactly one of "
                             "'trainable' and 'frozen'")
        regexes = [re.compile(glob_regex(p)) for p in (trainable or frozen)]
        for p, r in zip(trainable or frozen, regexes):
            if not any(r.fullmatch(n) for n in names):
                raise SystemExit(f"freeze pattern '{p}' matches no parameter")
        hit = {n for n in names if any(r.fullmatch(n) for r in regexes)}
        return hit if trainable else set(names) - hit
    raise SystemExit(f"unknown freeze policy '{policy}'")


# ----------------------------------------------------------------------------
# The model
# ----------------------------------------------------------------------------

def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def activation(name):
    if name == "gelu":
        return gelu
    if name == "relu":
        return F.relu
    raise SystemExit(f"hidden_act '{name}' is not supported here")


class Bert:
    """Functional BERT over a {name: tensor} dict with Hugging Face names."""

    def __init__(self, config, task, lora=None):
        self.c = config
        self.task = task
        # {"r", "alpha", "targets"} for freeze.policy = "lora", else None.
        self.lora = lora
        self.act = activation(config.get("hidden_act", "gelu"))
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.heads = int(config["num_attention_heads"])

    def param_shapes(self, num_labels):
        """Every parameter the task model owns (BertModel + head)."""
        c = self.c
        h, inter = c["hidden_size"], c["intermediate_size"]
        s = {
            "bert.embeddings.word_embeddings.weight": (c["vocab_size"], h),
            "bert.embeddings.position_embeddings.weight":
                (c["max_position_embeddings"], h),
            "bert.embeddings.token_type_embeddings.weight":
                (c.get("type_vocab_size", 2), h),
            "bert.embeddings.LayerNorm.weight": (h,),
            "bert.embeddings.LayerNorm.bias": (h,),
        }

        def dense(prefix, n_in, n_out):
            s[prefix + ".weight"] = (n_out, n_in)
            s[prefix + ".bias"] = (n_out,)
            if self.lora and is_lora_target(prefix, self.lora["targets"]):
                r = self.lora["r"]
                s[prefix + ".lora_A.weight"] = (r, n_in)
                s[prefix + ".lora_B.weight"] = (n_out, r)

        def ln(prefix):
            s[prefix + ".weight"] = (h,)
            s[prefix + ".bias"] = (h,)

        for i in range(c["num_hidden_layers"]):
            p = f"bert.encoder.layer.{i}."
            for n in ("query", "key", "value"):
                dense(p + "attention.self." + n, h, h)
            dense(p + "attention.output.dense", h, h)
            ln(p + "attention.output.LayerNorm")
            dense(p + "intermediate.dense", h, inter)
            dense(p + "output.dense", inter, h)
            ln(p + "output.LayerNorm")
        if self.task == "sequence-classification":
            dense("bert.pooler.dense", h, h)
            dense("classifier", h, num_labels)
        elif self.task == "token-classification":
            dense("classifier", h, num_labels)
        else:
            dense("cls.predictions.transform.dense", h, h)
            ln("cls.predictions.transform.LayerNorm")
            s["cls.predictions.bias"] = (c["vocab_size"],)
        return s

    def layer_norm(self, x, p, prefix):
        return F.layer_norm(x, x.shape[-1:], p[prefix + ".weight"],
                            p[prefix + ".bias"], self.eps)

    def dense(self, x, p, prefix):
        y = F.linear(x, p[prefix + ".weight"], p[prefix + ".bias"])
        if prefix + ".lora_A.weight" in p:
            # PEFT's LoRA Linear (no dropout here): y + scale * B(A(x)).
            scale = self.lora["alpha"] / self.lora["r"]
            y = y + scale * F.linear(F.linear(x, p[prefix + ".lora_A.weight"]),
                                     p[prefix + ".lora_B.weight"])
        return y

    def encoder(self, p, ids, types, mask):
        b, s = ids.shape
        e = "bert.embeddings."
        positions = torch.arange(s).unsqueeze(0).expand(b, s)
        x = (p[e + "word_embeddings.weight"][ids]
             + p[e + "token_type_embeddings.weight"][types]
             + p[e + "position_embeddings.weight"][positions])
        x = self.layer_norm(x, p, e + "LayerNorm")
        # get_extended_attention_mask: (1 - mask) * finfo.min, added to the
        # scaled scores.
        additive = (1.0 - mask.to(torch.float32))[:, None, None, :] * \
            torch.finfo(torch.float32).min
        h = x.shape[-1]
        d = h // self.heads

        def split(t):  # [B, S, H] -> [B, heads, S, d]
            return t.view(b, s, self.heads, d).permute(0, 2, 1, 3)

        for i in range(self.c["num_hidden_layers"]):
            a = f"bert.encoder.layer.{i}.attention."
            q = split(self.dense(x, p, a + "self.query"))
            k = split(self.dense(x, p, a + "self.key"))
            v = split(self.dense(x, p, a + "self.value"))
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d)
            probs = torch.softmax(scores + additive, dim=-1)
            context = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(b, s, h)
            attn = self.layer_norm(self.dense(context, p, a + "output.dense") + x,
                                   p, a + "output.LayerNorm")
            o = f"bert.encoder.layer.{i}."
            inter = self.act(self.dense(attn, p, o + "intermediate.dense"))
            x = self.layer_norm(self.dense(inter, p, o + "output.dense") + attn,
                                p, o + "output.LayerNorm")
        return x

    def forward(self, p, batch):
        """Returns (loss, logits); token-level logits are [B*S, C]."""
        h = self.encoder(p, batch["input_ids"], batch["token_type_ids"],
                         batch["attention_mask"])
        if self.task == "sequence-classification":
            pooled = torch.tanh(self.dense(h[:, 0], p, "bert.pooler.dense"))
            logits = self.dense(pooled, p, "classifier")
            return F.cross_entropy(logits, batch["label"]), logits
        b, s, hid = h.shape
        if self.task == "token-classification":
            logits = self.dense(h, p, "classifier")
        else:
            t = self.act(self.dense(h, p, "cls.predictions.transform.dense"))
            t = self.layer_norm(t, p, "cls.predictions.transform.LayerNorm")
            logits = F.linear(t, p["bert.embeddings.word_embeddings.weight"],
                              p["cls.predictions.bias"])
        logits = logits.reshape(b * s, -1)
        labels = batch["labels"].reshape(b * s)
        return F.cross_entropy(logits, labels, ignore_index=-100), logits


def hf_init(name, shape, std, gen):
    """BertPreTrainedModel._init_weights for a new parameter."""
    if name.endswith("LayerNorm.weight"):
        return torch.ones(shape)
    if name.endswith(".bias") or name == "cls.predictions.bias":
        return torch.zeros(shape)
    return torch.randn(shape, generator=gen) * std


# ----------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spec", required=True)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--checkpoint", required=True,
                    help="HF-style directory: config.json + model.safetensors")
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--ftc", help="ftc-trace output; its init.* give the head")
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0,
                    help="head init seed when --ftc is not given")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    spec = load_spec(a.spec, a.overrides)
    model_spec = spec.get("model", {})
    task = model_spec.get("task", "sequence-classification")
    if task not in TASKS:
        raise SystemExit(f"unknown task '{task}'")
    opt = spec.get("optimizer", {})
    if opt.get("type", "adamw") != "adamw":
        raise SystemExit("only the adamw optimizer is implemented here")
    sched = spec.get("schedule", {})
    if sched.get("type", "constant") != "constant" or sched.get("warmup_steps", 0):
        print("bert_torch: note: the schedule is ignored; every step uses the "
              "constant lr", file=sys.stderr)
    batch_size = int(spec.get("train", {}).get("batch_size", 32))

    with open(os.path.join(a.checkpoint, "config.json")) as f:
        config = json.load(f)
    for key in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
        if float(config.get(key, 0.0)) != 0.0:
            raise SystemExit(f"{key} must be 0 for a deterministic comparison")
    ckpt = safetensors_io.load(os.path.join(a.checkpoint, "model.safetensors"))
    inputs = safetensors_io.load(a.inputs)
    ftc = safetensors_io.load(a.ftc) if a.ftc else {}

    label_name = "label" if task == "sequence-classification" else "labels"
    num_labels = int(model_spec.get("num_labels", 0))
    if not num_labels and label_name in inputs and task != "masked-lm":
        num_labels = int(inputs[label_name].max()) + 1
    freeze = spec.get("freeze", {})
    lora = None
    if freeze.get("policy") == "lora":
        if float(freeze.get("lora_dropout", 0.0)) != 0.0:
            raise SystemExit("lora_dropout must be 0 for a deterministic "
                             "comparison")
        lora = {"r": int(freeze.get("lora_rank", 8)),
                "alpha": float(freeze.get("lora_alpha", 16.0)),
                "targets": freeze.get("lora_targets", ["query", "value"])}
    model = Bert(config, task, lora)
    shapes = model.param_shapes(num_labels)

    gen = torch.Generator().manual_seed(a.seed)
    std = float(config.get("initializer_range", 0.02))
    init = {}
    for name, shape in shapes.items():
        if name in ckpt:
            value = torch.from_numpy(ckpt[name].astype(np.float32))
        elif "init." + name in ftc:
            value = torch.from_numpy(ftc["init." + name].astype(np.float32))
        elif ftc:
            raise SystemExit(f"'{name}' is in neither the checkpoint nor "
                             f"{a.ftc} (init.{name})")
        else:
            value = hf_init(name, shape, std, gen)
        if tuple(value.shape) != tuple(shape):
            raise SystemExit(f"'{name}': shape {list(value.shape)}, expected "
                             f"{list(shape)}")
        init[name] = value.clone()

    trainable = trainable_set(list(shapes), spec.get("freeze", {}))
    params = {n: v.clone().requires_grad_(n in trainable)
              for n, v in init.items()}

    n = inputs["input_ids"].shape[0]
    if n < batch_size:
        raise SystemExit(f"{a.inputs} has {n} examples, fewer than the "
                         f"batch size {batch_size}")
    batch = {k: torch.from_numpy(v[:batch_size].astype(np.int64))
             for k, v in inputs.items()
             if k in ("input_ids", "token_type_ids", "attention_mask",
                      label_name)}
    if "attention_mask" not in batch:
        batch["attention_mask"] = torch.ones_like(batch["input_ids"])

    out = {"init." + k: v.numpy() for k, v in init.items()}
    with torch.no_grad():
        _, logits = model.forward(params, batch)
    out["logits"] = logits.numpy()
    loss, _ = model.forward(params, batch)
    loss.backward()
    out["loss"] = np.array(loss.item(), np.float32)
    for name in sorted(trainable):
        g = params[name].grad
        out["grad." + name] = (g if g is not None
                               else torch.zeros_like(params[name])).numpy().copy()

    lr = float(opt.get("lr", 1e-3))
    weight_decay = float(opt.get("weight_decay", 0.0))
    no_decay = [re.compile(glob_regex(g)) for g in
                opt.get("no_decay", ["**.bias", "**.LayerNorm.weight"])]
    layer_decay = float(opt.get("layer_lr_decay", 1.0))
    max_norm = float(opt.get("clip_grad_norm", 0.0))
    num_layers = 1 + max((layer_index(k) for k in shapes
                          if layer_index(k) is not None), default=-1)
    groups = []
    for name in sorted(trainable):
        decays = not any(r.fullmatch(name) for r in no_decay)
        scale = layer_decay ** depth_below_head(name, num_layers)
        groups.append({"params": [params[name]], "lr": lr * scale,
                       "weight_decay": weight_decay if decays else 0.0})
    n_decay = sum(1 for g in groups if g["weight_decay"])
    print(f"bert_torch: weight decay {weight_decay:g} on {n_decay} of "
          f"{len(groups)} trainable parameters")
    if layer_decay != 1.0:
        scales = sorted({g["lr"] / lr for g in groups}, reverse=True)
        print("bert_torch: layer-wise lr scales " +
              " ".join(f"{x:.6g}" for x in scales))
    optimizer = torch.optim.AdamW(
        groups, lr=lr,
        betas=(float(opt.get("beta1", 0.9)), float(opt.get("beta2", 0.999))),
        eps=float(opt.get("eps", 1e-8)), weight_decay=weight_decay)
    for step in range(a.steps):
        if step:  # the first step reuses the gradients computed above
            optimizer.zero_grad(set_to_none=True)
            loss, _ = model.forward(params, batch)
            loss.backward()
        if max_norm > 0:
            grads = [params[k] for k in sorted(trainable)]
            norm = float(torch.nn.utils.clip_grad_norm_(grads, max_norm))
            factor = min(1.0, max_norm / (norm + 1e-6))
            print(f"bert_torch: step {step + 1}: gradient norm {norm:.6g}, "
                  f"clip factor {factor:.6g}"
                  + (" (clipped)" if factor < 1.0 else " (not clipped)"))
        optimizer.step()
    for name, value in params.items():
        out["param." + name] = value.detach().numpy().copy()

    safetensors_io.save(a.output, out, {"producer": "bert_torch.py",
                                        "task": task, "steps": str(a.steps)})
    print(f"bert_torch: {task}: loss {loss_text(out['loss'])}, "
          f"{len(trainable)} of {len(shapes)} parameters trainable, "
          f"{a.steps} steps -> {a.output}")


def loss_text(x):
    return f"{float(x):.6f}"


if __name__ == "__main__":
    main()
