"""The same fine-tuning job as pipelines/fine-foods-minilm.toml, with the
Hugging Face Trainer: the recipe a user would otherwise run.

    .venv/bin/python bench/fine-foods/hf_trainer.py [--threads 2]
        [--train-limit N] [--eval-limit N] [--epochs 3] [--out DIR]

all-MiniLM-L6-v2 from data/all-MiniLM-L6-v2 (AutoModelForSequenceClassification:
the BertModel weights plus a new head), its own fast tokenizer, max_length
128 (truncated, padded), batch 32, AdamW lr 5e-5 with weight decay 0.01 on
all but biases and LayerNorm weights, gradient clipping 1.0, linear schedule
with 10% warmup, 3 epochs, seed 42, evaluation after each epoch on the 1000
test reviews; torch on the CPU with --threads threads. Prints one JSON line
per evaluation and a summary line (accuracy, wall time, train examples/s).
"""
import argparse
import csv
import json
import os
import time

import numpy as np
import torch
from transformers import (AutoModelForSequenceClassification, AutoTokenizer, Trainer,
                          TrainingArguments, TrainerCallback)

LABELS = ["great", "other"]


class Reviews(torch.utils.data.Dataset):
    def __init__(self, path, tok, limit):
        rows = list(csv.DictReader(open(path, encoding="utf-8")))
        rows = rows[:limit] if limit else rows
        self.enc = tok([r["review"] for r in rows], truncation=True, max_length=128,
                       padding="max_length")
        self.labels = [LABELS.index(r["score"]) for r in rows]

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        item = {k: torch.tensor(v[i]) for k, v in self.enc.items()}
        item["labels"] = torch.tensor(self.labels[i])
        return item


class EvalLog(TrainerCallback):
    def on_evaluate(self, args, state, control, metrics=None, **kw):
        print(json.dumps({"epoch": round(state.epoch or 0), "step": state.global_step,
                          "accuracy": metrics.get("eval_accuracy"),
                          "loss": metrics.get("eval_loss")}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--train-limit", type=int, default=0)
    ap.add_argument("--eval-limit", type=int, default=0)
    ap.add_argument("--epochs", type=float, default=3)
    ap.add_argument("--model", default="data/all-MiniLM-L6-v2")
    ap.add_argument("--out", default="runs/minilm/hf-trainer")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tok = AutoTokenizer.from_pretrained(a.model)
    train = Reviews("data/fine_foods/train.csv", tok, a.train_limit)
    test = Reviews("data/fine_foods/test.csv", tok, a.eval_limit)
    model = AutoModelForSequenceClassification.from_pretrained(
        a.model, num_labels=2, id2label=dict(enumerate(LABELS)),
        label2id={l: i for i, l in enumerate(LABELS)})
    args = TrainingArguments(
        output_dir=a.out, per_device_train_batch_size=32, per_device_eval_batch_size=64,
        learning_rate=5e-5, weight_decay=0.01, max_grad_norm=1.0, num_train_epochs=a.epochs,
        lr_scheduler_type="linear", warmup_ratio=0.1, eval_strategy="epoch",
        save_strategy="no", logging_steps=25, seed=42, report_to=[], use_cpu=True,
        dataloader_num_workers=0, disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=test,
                      compute_metrics=lambda p: {"accuracy": float(
                          (np.argmax(p.predictions, -1) == p.label_ids).mean())},
                      callbacks=[EvalLog()])
    start = time.time()
    result = trainer.train()
    wall = time.time() - start
    final = trainer.evaluate()
    print(json.dumps({"summary": "hf-trainer", "accuracy": final["eval_accuracy"],
                      "eval_loss": final["eval_loss"], "wall_s": round(wall, 1),
                      "train_examples_per_s": round(result.metrics["train_samples_per_second"], 1),
                      "threads": a.threads, "transformers": __import__("transformers").__version__,
                      "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
