"""Tokenizes fine-food reviews with Hugging Face's BertTokenizerFast into a
`tensors` dataset file (input_ids, token_type_ids, attention_mask, label).

    make_review_batch.py TOKENIZER_DIR REVIEWS.csv N MAX_LENGTH OUT.safetensors

The first N reviews, truncated and padded to MAX_LENGTH; label 0 for
"great", 1 otherwise (the order ftc's text-classification dataset gives).
"""
import csv
import sys

import numpy as np
from transformers import BertTokenizerFast

import safetensors_io


def main():
    tok_dir, csv_path, n, max_length, out = sys.argv[1:6]
    rows = list(csv.DictReader(open(csv_path, encoding="utf-8")))[:int(n)]
    tok = BertTokenizerFast.from_pretrained(tok_dir)
    enc = tok([r["review"] for r in rows], truncation=True, max_length=int(max_length),
              padding="max_length", return_tensors="np")
    tensors = {k: enc[k].astype(np.int32)
               for k in ("input_ids", "token_type_ids", "attention_mask")}
    tensors["label"] = np.array([0 if r["score"] == "great" else 1 for r in rows], np.int32)
    if len(set(tensors["label"].tolist())) < 2:
        raise SystemExit("make_review_batch.py: the batch needs both labels")
    safetensors_io.save(out, tensors, {"producer": "make_review_batch.py"})


if __name__ == "__main__":
    main()
