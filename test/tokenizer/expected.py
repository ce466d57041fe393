"""Expected WordPiece ids from Hugging Face's `tokenizers` (the Rust library).

usage: expected.py <model dir> <corpus.jsonl> <out.jsonl>

Loads <model dir>/tokenizer.json with tokenizers.Tokenizer.from_file and
writes one JSON line per corpus line (a JSON string, or {"text", "pair",
"max_length"}): {"ids", "type_ids", "tokens"} with special tokens and no
truncation, plus "trunc" ({"ids", "type_ids", "attention_mask"}, truncated
longest-first and padded to max_length) when the case has max_length.

The same ids must come from tokenizers' BertWordPieceTokenizer built from
<model dir>/vocab.txt alone (the two files describe one tokenizer): a
difference between the two references is an error here, not a silent pick.
"""
import json
import sys

from tokenizers import Tokenizer
from tokenizers.implementations import BertWordPieceTokenizer


def encode(tok, text, pair, max_length):
    if max_length:
        tok.enable_truncation(max_length, strategy="longest_first")
        tok.enable_padding(length=max_length, pad_id=tok.token_to_id("[PAD]"))
    else:
        tok.no_truncation()
        tok.no_padding()
    return tok.encode(text, pair) if pair is not None else tok.encode(text)


def main():
    model_dir, corpus, out_path = sys.argv[1:4]
    from_json = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    from_vocab = BertWordPieceTokenizer(f"{model_dir}/vocab.txt", lowercase=True)
    out = []
    for n, line in enumerate(open(corpus, encoding="utf-8"), 1):
        if not line.strip():
            continue
        case = json.loads(line)
        item = {"text": case} if isinstance(case, str) else case
        text, pair = item["text"], item.get("pair")
        rec = {}
        for name, max_length in (("full", None), ("trunc", item.get("max_length"))):
            if name == "trunc" and not max_length:
                continue
            a = encode(from_json, text, pair, max_length)
            b = encode(from_vocab, text, pair, max_length)
            if a.ids != b.ids or a.type_ids != b.type_ids:
                sys.exit(f"{corpus}:{n}: tokenizer.json and vocab.txt disagree: {a.ids} vs {b.ids}")
            if name == "full":
                rec.update(ids=a.ids, type_ids=a.type_ids,
                           tokens=encode(from_json, text, None, None).tokens[1:-1])
            else:
                rec["trunc"] = {"max_length": max_length, "ids": a.ids, "type_ids": a.type_ids,
                                "attention_mask": a.attention_mask}
        out.append(json.dumps(rec))
    with open(out_path + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    import os
    os.replace(out_path + ".tmp", out_path)
    print(f"wrote {out_path}: {len(out)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
