"""Checks `ftc plan`'s FLOP counts for a BERT classifier against the
textbook count from the model's sizes.

Usage: check_flops.py PLAN_OUTPUT CONFIG_JSON BATCH SEQ
Forward: 2 * tokens * (the encoder's linear weights) + the attention
products 2 * 2 * batch * heads * seq^2 * head_dim per layer + the pooler
and classifier (2 * batch * hidden * (hidden + labels)). Training runs the
forward, the backward-data and the backward-weights product of every linear
(the first layer's input is an embedding: no product) and of every
attention product: three times the forward.
"""
import json
import re
import sys

text, cfg = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
assert "\ncost (" in text, "no cost section"
text = text[text.index("\ncost ("):]
batch, seq = int(sys.argv[3]), int(sys.argv[4])
h, inter, layers = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
heads = cfg["num_attention_heads"]
tokens = batch * seq
linear = layers * (4 * h * h + 2 * h * inter)
attention = layers * 2 * 2 * batch * heads * seq * seq * (h // heads)
head = 2 * batch * h * (h + 2)
forward = 2 * tokens * linear + attention + head

def gflop(program):
    m = re.search(rf"^  {program}\s+(\S+)\s", text, re.M)
    assert m, f"no {program} row in:\n{text}"
    return float(m.group(1)) * 1e9

for program, want in (("eval_step", forward), ("train_step", 3 * forward)):
    got = gflop(program)
    assert abs(got - want) <= 1e-3 * want, f"{program}: ftc counts {got:.6g} FLOP, the formula {want:.6g}"
    print(f"{program}: {got / 1e9:.4g} GFLOP as the formula says")
