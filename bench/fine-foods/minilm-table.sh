#!/usr/bin/env bash
# The fine-food table of docs/results-fine-foods.md: all-MiniLM-L6-v2
# fine-tuned five ways, the same architecture from random init, and
# fine-tuning after continued masked-LM pretraining on the unlabelled
# training reviews. Each variant runs `build/bin/ftc run` with the command
# printed before it, into runs/minilm/<variant>/ (a rerun resumes or, when
# complete, only reports), and the table's row comes from its metrics.jsonl.
#   bench/fine-foods/minilm-table.sh [variant...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/../.."
ftc=build/bin/ftc
spec=pipelines/fine-foods-minilm.toml
out=runs/minilm
mkdir -p "$out"

# From random init: the same spec without the checkpoint, the architecture
# and the tokenizer named (BERT's defaults are BERT-base's).
sed -e '/^checkpoint = /d' -e 's|^\[dataset\]|[dataset]\ntokenizer = "data/all-MiniLM-L6-v2/tokenizer.json"|' \
  -e 's|^task = "sequence-classification"|task = "sequence-classification"\nvocab_size = 30522\nhidden_size = 384\nnum_hidden_layers = 6\nnum_attention_heads = 12\nintermediate_size = 1536|' \
  "$spec" > "$out/random.toml"

declare -A args=(
  [full]="$spec"
  [head-only]="$spec --set freeze.policy=head-only --set optimizer.lr=2e-3 --set model.hidden_dropout_prob=0 --set model.attention_probs_dropout_prob=0 --set model.classifier_dropout=0.1"
  [freeze-below-4]="$spec --set freeze.freeze_below=4 --set optimizer.lr=1e-4"
  [lora]="$spec --set freeze.policy=lora --set optimizer.lr=5e-4"
  [random]="$out/random.toml"
  [random-lr2e-4]="$out/random.toml --set optimizer.lr=2e-4"
  [mlm]="pipelines/pretrain-minilm-mlm.toml"
  [full-after-mlm]="$spec --set model.checkpoint=$out/mlm"
)
order=(full head-only freeze-below-4 lora random random-lr2e-4 mlm full-after-mlm)
[ $# -gt 0 ] && order=("$@")

for v in "${order[@]}"; do
  echo "== $v: $ftc run ${args[$v]} --output-dir $out/$v" >&2
  start=$(date +%s)
  # shellcheck disable=SC2086
  $ftc run ${args[$v]} --output-dir "$out/$v" 2> "$out/$v.log" || { tail -5 "$out/$v.log"; exit 1; }
  echo "$(( $(date +%s) - start ))" > "$out/$v.wall"
done

echo "| variant | eval accuracy (epochs 1/2/3) | eval loss | wall time | train examples/s |"
echo "|---|---|---|---|---|"
for v in "${order[@]}"; do
  /usr/bin/python3 - "$v" "$out/$v/metrics.jsonl" "$out/$v.wall" <<'PY'
import json, sys
v, path, wall = sys.argv[1:4]
ev = [json.loads(l) for l in open(path)]
evals = [e for e in ev if e.get("event") == "eval"]
rates = [e["examples_per_s"] for e in ev if e.get("event") == "train" and "examples_per_s" in e]
acc = "/".join(f"{e['metrics']['accuracy']:.3f}" for e in evals) or "-"
loss = f"{evals[-1]['metrics']['loss']:.3f}" if evals else f"{[e for e in ev if e.get('event') == 'train'][-1]['loss']:.3f} (MLM)"
rate = f"{sorted(rates)[len(rates) // 2]:.1f}" if rates else "-"
print(f"| {v} | {acc} | {loss} | {open(wall).read().strip()} s | {rate} |")
PY
done
