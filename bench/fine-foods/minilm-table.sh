#!/usr/bin/env bash
# The fine-food table of docs/results-fine-foods.md: all-MiniLM-L6-v2
# fine-tuned four ways, the same architecture from random init, and
# fine-tuning after continued masked-LM pretraining on the unlabelled
# training reviews. Each variant runs `build/bin/ftc run` with the command
# printed before it, into runs/minilm/<variant>/, and its wall time goes to
# runs/minilm/<variant>.wall; the table's rows come from metrics.jsonl.
#   bench/fine-foods/minilm-table.sh [variant...]     run, then print
#   bench/fine-foods/minilm-table.sh --table [variant...]   print only
set -euo pipefail
cd "$(dirname "$0")/../.."
ftc=build/bin/ftc
spec=pipelines/fine-foods-minilm.toml
out=runs/minilm
mkdir -p "$out"
print_only=0
if [ "${1:-}" = "--table" ]; then
  print_only=1
  shift
fi

# From random init: the same spec without the checkpoint, the architecture
# and the tokenizer named (BERT's defaults are BERT-base's).
sed -e '/^checkpoint = /d' -e 's|^\[dataset\]|[dataset]\ntokenizer = "data/all-MiniLM-L6-v2/tokenizer.json"|' \
  -e 's|^task = "sequence-classification"|task = "sequence-classification"\nvocab_size = 30522\nhidden_size = 384\nnum_hidden_layers = 6\nnum_attention_heads = 12\nintermediate_size = 1536|' \
  "$spec" > "$out/random.toml"

nodrop="--set model.hidden_dropout_prob=0 --set model.attention_probs_dropout_prob=0 --set model.classifier_dropout=0.1"
declare -A args=(
  [full]="$spec"
  [head-only]="$spec --set freeze.policy=head-only --set optimizer.lr=2e-3 $nodrop"
  [head-only-30ep]="$spec --set freeze.policy=head-only --set optimizer.lr=1e-2 --set train.epochs=30 --set eval.every=epoch $nodrop"
  [pooler-head-10ep]="$spec --set freeze.policy=patterns --set freeze.trainable=[\"bert.pooler.**\",\"classifier.*\"] --set optimizer.lr=1e-3 --set train.epochs=10 $nodrop"
  [freeze-below-4]="$spec --set freeze.freeze_below=4 --set optimizer.lr=1e-4"
  [lora]="$spec --set freeze.policy=lora --set optimizer.lr=5e-4"
  [random]="$out/random.toml"
  [random-lr2e-4]="$out/random.toml --set optimizer.lr=2e-4"
  [mlm]="pipelines/pretrain-minilm-mlm.toml"
  [full-after-mlm]="$spec --set model.checkpoint=$out/mlm"
)
order=(full head-only freeze-below-4 lora random random-lr2e-4 mlm full-after-mlm)
[ $# -gt 0 ] && order=("$@")

if [ $print_only = 0 ]; then
  for v in "${order[@]}"; do
    echo "== $v: $ftc run ${args[$v]} --output-dir $out/$v" >&2
    start=$(date +%s)
    # shellcheck disable=SC2086
    $ftc run ${args[$v]} --output-dir "$out/$v" 2> "$out/$v.log" || { tail -5 "$out/$v.log"; exit 1; }
    echo "$(( $(date +%s) - start ))" > "$out/$v.wall"
  done
fi

echo "| variant | eval accuracy by epoch | final eval loss | wall time | median train examples/s |"
echo "|---|---|---|---|---|"
for v in "${order[@]}"; do
  /usr/bin/python3 - "$v" "$out/$v/metrics.jsonl" "$out/$v.wall" <<'PY'
import json, sys
v, path, wall = sys.argv[1:4]
ev = [json.loads(l) for l in open(path)]
evals = [e for e in ev if e.get("event") == "eval"]
trains = [e for e in ev if e.get("event") == "train"]
rates = sorted(e["examples_per_s"] for e in trains)
acc = " / ".join(f"{e['metrics']['accuracy']:.3f}" for e in evals) or "-"
loss = (f"{evals[-1]['metrics']['loss']:.3f}" if evals
        else f"{trains[-1]['loss']:.3f} (masked-LM train loss)")
rate = f"{rates[len(rates) // 2]:.1f}" if rates else "-"
print(f"| {v} | {acc} | {loss} | {open(wall).read().strip()} s | {rate} |")
PY
done
