"""Expected byte-level BPE ids from Hugging Face's `tokenizers` (the Rust library).

usage: bpe_expected.py <tokenizer dir> <corpus.jsonl> <out dir>

<tokenizer dir> holds tokenizer.json, vocab.json and merges.txt (from
tools/data/prepare-austen-bpe.sh). Writes <out dir>/<variant>/tokenizer.json
for three variants of that tokenizer.json and <out dir>/expected.jsonl, one
line per corpus line (a JSON string): {"tokens": [...], "ids": {variant:
ids}} from encode(text, add_special_tokens=False). Variants:

  default       the tokenizer as trained (checked from <tokenizer dir>)
  prefix-space  the ByteLevel pre-tokenizer with add_prefix_space=true
  no-regex      the ByteLevel pre-tokenizer with use_regex=false
  added         <|endoftext|> with lstrip and rstrip, plus added tokens
                "Mr." (normalized), "ab" (not normalized, and a model
                token) and "xa" (normalized): the raw-text pass comes
                first

GPT-2's original files must give the same ids as tokenizer.json:
ByteLevelBPETokenizer(vocab.json, merges.txt) with <|endoftext|> as a
special token (as transformers' GPT2Tokenizer has it), also with
add_prefix_space=True for that variant. A difference between the two
references is an error here, not a silent pick.
"""
import copy
import json
import os
import sys

from tokenizers import Tokenizer
from tokenizers.implementations import ByteLevelBPETokenizer

EOT = "<|endoftext|>"


def variants(base):
    """The variant tokenizer.json documents of `base` (a parsed tokenizer.json)."""
    out = {}
    v = copy.deepcopy(base)
    v["pre_tokenizer"]["add_prefix_space"] = True
    out["prefix-space"] = v
    v = copy.deepcopy(base)
    v["pre_tokenizer"]["use_regex"] = False
    out["no-regex"] = v
    v = copy.deepcopy(base)
    for t in v["added_tokens"]:
        if t["content"] == EOT:
            t["lstrip"] = t["rstrip"] = True
    vocab = v["model"]["vocab"]
    next_id = len(vocab)
    for content, normalized in (("Mr.", True), ("ab", False), ("xa", True)):
        # The id tokenizers gives it: the model's, else the next free one.
        if content in vocab:
            token_id = vocab[content]
        else:
            token_id, next_id = next_id, next_id + 1
        v["added_tokens"].append({
            "id": token_id, "content": content, "single_word": False,
            "lstrip": False, "rstrip": False, "normalized": normalized,
            "special": False})
    out["added"] = v
    return out


def from_files(tok_dir, add_prefix_space):
    t = ByteLevelBPETokenizer(f"{tok_dir}/vocab.json", f"{tok_dir}/merges.txt",
                              add_prefix_space=add_prefix_space)
    t.add_special_tokens([EOT])
    return t


def main():
    tok_dir, corpus, out_dir = sys.argv[1:4]
    with open(f"{tok_dir}/tokenizer.json", encoding="utf-8") as f:
        base = json.load(f)
    refs = {"default": [Tokenizer.from_file(f"{tok_dir}/tokenizer.json"),
                        from_files(tok_dir, False)]}
    for name, doc in variants(base).items():
        os.makedirs(f"{out_dir}/{name}", exist_ok=True)
        path = f"{out_dir}/{name}/tokenizer.json"
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        refs[name] = [Tokenizer.from_file(path)]
    refs["prefix-space"].append(from_files(tok_dir, True))

    texts = [json.loads(line) for line in open(corpus, encoding="utf-8")
             if line.strip()]
    encoded = {}
    for name, toks in refs.items():
        runs = [t.encode_batch(texts, add_special_tokens=False) for t in toks]
        for n, (text, *encs) in enumerate(zip(texts, *runs), 1):
            if any(e.ids != encs[0].ids for e in encs):
                sys.exit(f"{corpus}:{n}: {name}: tokenizer.json and "
                         f"vocab.json + merges.txt disagree on {text!r}: "
                         f"{[e.ids for e in encs]}")
        encoded[name] = runs[0]
    with open(f"{out_dir}/expected.jsonl", "w", encoding="utf-8") as f:
        for i in range(len(texts)):
            f.write(json.dumps({
                "tokens": encoded["default"][i].tokens,
                "ids": {name: encs[i].ids for name, encs in encoded.items()},
            }) + "\n")
    print(f"wrote {out_dir}/expected.jsonl: {len(texts)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
