"""The causal-lm dataset's examples, computed independently with `tokenizers`.

usage: causal_lm_expected.py <spec.toml> <expected.jsonl or -> --source SRC
           --tokenizer DIR [--block-size N] [--eos true|false]
           [--document paragraph|line|file] [--text-field NAME]

Writes <spec.toml>, a spec whose [dataset] is causal-lm with these settings
(the plugin's defaults for those not given), and, unless the second
argument is "-", what ftc-dataset-dump prints for its train split:
documents from SRC (a file, a directory of .txt/.jsonl files, or a glob;
files in sorted order) tokenized with Hugging Face's tokenizers
(Tokenizer.from_file on DIR/tokenizer.json, no special tokens added), each
followed by <|endoftext|> when eos is true, concatenated and cut into
blocks; the last block padded with <|endoftext|>; labels = the next token
of the block, -100 after its last real token; facts: the line where the
block's first document starts, the real length, no unknown tokens, and the
FNV-1a hash of the block's ids (int32, little-endian).
"""
import argparse
import bisect
import glob
import json
import os
import struct

from tokenizers import Tokenizer

EOT = "<|endoftext|>"


def files_of(source):
    if os.path.isdir(source):
        return sorted(os.path.join(source, f) for f in os.listdir(source)
                      if os.path.splitext(f)[1] in (".txt", ".jsonl"))
    if any(c in source for c in "*?[{"):
        return sorted(glob.glob(source))
    return [source]


def blank(line):
    return not line.strip(" \t\r\f\v")


def documents(path, unit, field):
    """(text, 1-based line) of each document of `path`."""
    with open(path, encoding="utf-8", newline="") as f:
        data = f.read()
    data = data.removeprefix("\ufeff")
    if path.endswith(".jsonl"):
        for n, line in enumerate(data.split("\n"), 1):
            if not blank(line):
                yield json.loads(line)[field], n
        return
    data = data.replace("\r\n", "\n")
    if unit == "file":
        if not blank(data):
            yield data, 1
        return
    paragraph, start = [], 0
    for n, line in enumerate(data.split("\n"), 1):
        if blank(line):
            if paragraph:
                yield "\n".join(paragraph), start
            paragraph = []
        elif unit == "line":
            yield line, n
        else:
            if not paragraph:
                start = n
            paragraph.append(line)
    if paragraph:
        yield "\n".join(paragraph), start


def fnv1a(ids):
    h = 0xcbf29ce484222325
    for b in struct.pack(f"<{len(ids)}i", *ids):
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    p = argparse.ArgumentParser()
    p.add_argument("spec")
    p.add_argument("expected")
    p.add_argument("--source", required=True)
    p.add_argument("--tokenizer", required=True)
    p.add_argument("--block-size", type=int)
    p.add_argument("--eos", choices=["true", "false"])
    p.add_argument("--document")
    p.add_argument("--text-field")
    a = p.parse_args()

    lines = ['[dataset]', 'type = "causal-lm"', f'train = {json.dumps(a.source)}',
             f'tokenizer = {json.dumps(a.tokenizer)}']
    if a.block_size is not None:
        lines.append(f"block_size = {a.block_size}")
    if a.eos:
        lines.append(f"eos = {a.eos}")
    if a.document:
        lines.append(f"document = {json.dumps(a.document)}")
    if a.text_field:
        lines.append(f"text_field = {json.dumps(a.text_field)}")
    with open(a.spec, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    if a.expected == "-":
        return

    tok = Tokenizer.from_file(os.path.join(a.tokenizer, "tokenizer.json"))
    eos = tok.token_to_id(EOT)
    block = a.block_size or 128
    ids, starts = [], []  # starts: (first id index, line) of each document
    for path in files_of(a.source):
        for text, line in documents(path, a.document or "paragraph",
                                    a.text_field or "text"):
            doc = tok.encode(text, add_special_tokens=False).ids
            if not doc:
                continue
            starts.append((len(ids), line))
            ids += doc + ([eos] if a.eos != "false" else [])

    out = [json.dumps({
        "examples": (len(ids) + block - 1) // block,
        "features": {name: [block] for name in
                     ("input_ids", "attention_mask", "labels")},
        "record_unit": "line", "length_unit": "tokens", "max_length": 0},
        separators=(",", ":"))]
    for b in range(0, len(ids), block):
        real = ids[b:b + block]
        n = len(real)
        line = starts[bisect.bisect_right(starts, (b, float("inf"))) - 1][1]
        out.append(json.dumps({
            "index": b // block,
            "input_ids": real + [eos] * (block - n),
            "attention_mask": [1] * n + [0] * (block - n),
            "labels": real[1:] + [-100] * (block - n + 1),
            "facts": {"record": line, "length": n, "unknown": 0,
                      "hash": fnv1a(real)}}, separators=(",", ":")))
    with open(a.expected, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
