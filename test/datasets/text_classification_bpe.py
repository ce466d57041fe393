"""text-classification with a byte-level BPE tokenizer, against Hugging Face.

usage: text_classification_bpe.py spec <out.toml> <train.csv> <eval.csv> <tokenizer dir> <max_length>
       text_classification_bpe.py check <dump.jsonl> <file.csv> <tokenizer dir> <max_length>

`spec` writes a spec whose [dataset] reads the fine-food reviews (columns
review, score) with the tokenizer. `check` compares what ftc-dataset-dump
printed for a split with the review column of <file.csv> encoded as a
GPT-2 sequence classifier is fed: transformers' GPT2TokenizerFast from the
tokenizer directory with pad_token = eos_token, padding="max_length",
truncation=True; tokenizers' Tokenizer.from_file with truncation and
padding must give the same (a difference between the two is an error
here). input_ids and attention_mask must be equal and token_type_ids zero;
prints "<n> examples, <m> mismatches".
"""
import csv
import json
import sys

from tokenizers import Tokenizer
from transformers import GPT2TokenizerFast

EOT = "<|endoftext|>"


def spec(out, train, eval_, tok_dir, max_length):
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join([
            "[dataset]", 'type = "text-classification"',
            f"train = {json.dumps(train)}", f"eval = {json.dumps(eval_)}",
            'text = "review"', 'label = "score"',
            f"tokenizer = {json.dumps(tok_dir)}", f"max_length = {max_length}",
        ]) + "\n")


def check(dump, csv_path, tok_dir, max_length):
    texts = [r["review"] for r in csv.DictReader(open(csv_path, encoding="utf-8"))]
    hf = GPT2TokenizerFast.from_pretrained(tok_dir)
    hf.pad_token = hf.eos_token
    want = hf(texts, padding="max_length", truncation=True, max_length=max_length)
    rust = Tokenizer.from_file(f"{tok_dir}/tokenizer.json")
    rust.enable_truncation(max_length)
    rust.enable_padding(length=max_length, pad_id=rust.token_to_id(EOT), pad_token=EOT)
    for n, e in enumerate(rust.encode_batch(texts, add_special_tokens=False)):
        if e.ids != want["input_ids"][n] or e.attention_mask != want["attention_mask"][n]:
            sys.exit(f"{csv_path}: row {n + 1}: transformers and tokenizers disagree")
    got = [json.loads(line) for line in open(dump, encoding="utf-8")][1:]
    if len(got) != len(texts):
        sys.exit(f"{dump}: {len(got)} examples, {csv_path} has {len(texts)} rows")
    bad = 0
    for n, g in enumerate(got):
        if (g["input_ids"] != want["input_ids"][n] or
                g["attention_mask"] != want["attention_mask"][n] or
                any(g["token_type_ids"])):
            bad += 1
            print(f"MISMATCH row {n + 1}: {texts[n]!r}\n  expected "
                  f"{want['input_ids'][n]}\n  got      {g['input_ids']}")
    print(f"{len(texts)} examples, {bad} mismatches")


if __name__ == "__main__":
    if sys.argv[1] == "spec":
        spec(*sys.argv[2:6], int(sys.argv[6]))
    else:
        check(*sys.argv[2:5], int(sys.argv[5]))
