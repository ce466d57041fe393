"""ftc's output directory through Hugging Face's own loaders.

    hf_roundtrip.py --model DIR --reviews CSV --max-length N
        --predictions FTC.jsonl [--base BASE_DIR --adapter ADAPTER_DIR]

1. `AutoTokenizer` and `AutoModelForSequenceClassification.from_pretrained`
   on DIR (ftc's output: weights, config.json, tokenizer files) predict the
   CSV's `review` column; the class probabilities must equal `ftc predict`'s
   (FTC.jsonl, same order) within 1e-4, and every predicted label agree.
2. With --adapter: PEFT's `PeftModel.from_pretrained` puts ftc's LoRA
   adapter on the base model (BASE_DIR, as transformers loads it); its
   logits must equal those of DIR (ftc's merged model) within 1e-4.
"""
import argparse
import csv
import json
import sys

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

TOL = 1e-4


def logits_of(model, enc):
    out = []
    with torch.no_grad():
        for i in range(0, enc["input_ids"].shape[0], 64):
            out.append(model(**{k: v[i:i + 64] for k, v in enc.items()}).logits)
    return torch.cat(out).numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--reviews", required=True)
    ap.add_argument("--max-length", type=int, required=True)
    ap.add_argument("--predictions", required=True)
    ap.add_argument("--base")
    ap.add_argument("--adapter")
    a = ap.parse_args()
    torch.set_num_threads(1)

    preds = [json.loads(l) for l in open(a.predictions, encoding="utf-8")]
    texts = [r["review"] for r in csv.DictReader(open(a.reviews, encoding="utf-8"))]
    texts = texts[:len(preds)]
    if len(texts) != len(preds) or not preds:
        raise SystemExit(f"{len(preds)} predictions for {len(texts)} reviews")
    tok = AutoTokenizer.from_pretrained(a.model)
    model = AutoModelForSequenceClassification.from_pretrained(a.model).eval()
    enc = tok(texts, truncation=True, max_length=a.max_length, padding="max_length",
              return_tensors="pt")
    logits = logits_of(model, enc)
    probs = torch.softmax(torch.from_numpy(logits), -1).numpy()
    names = [model.config.id2label[i] for i in range(probs.shape[1])]
    ftc = np.array([[p["probabilities"][n] for n in names] for p in preds])
    diff = float(np.abs(ftc - probs).max())
    agree = sum(names[int(i)] == p["label"] for i, p in zip(probs.argmax(1), preds))
    print(f"from_pretrained: {len(preds)} predictions, labels agree {agree}/{len(preds)}, "
          f"max |p_hf - p_ftc| {diff:.2e}")
    ok = diff <= TOL and agree == len(preds)

    if a.adapter:
        from peft import PeftModel
        base = AutoModelForSequenceClassification.from_pretrained(
            a.base, num_labels=len(names), id2label=model.config.id2label,
            label2id=model.config.label2id)
        peft = PeftModel.from_pretrained(base, a.adapter).eval()
        peft_logits = logits_of(peft, enc)
        scale = float(np.abs(logits).max())
        pdiff = float(np.abs(peft_logits - logits).max())
        print(f"peft: adapter on the base model vs ftc's merged model: max |diff| "
              f"{pdiff:.2e} (logits up to {scale:.3g})")
        ok &= pdiff <= TOL * max(1.0, scale)
    print("round trip ok" if ok else "round trip FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
