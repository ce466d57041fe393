#!/usr/bin/env bash
#===- prepare-austen-bpe.sh - A byte-level BPE tokenizer for Jane Austen --===#
# SPDX-License-Identifier: Apache-2.0
#
# usage: prepare-austen-bpe.sh [data dir]     (default: <repo>/data)
#
# Trains a GPT-2-style byte-level BPE tokenizer (8192 tokens, <|endoftext|>
# = 0) with Hugging Face's tokenizers (the project venv's, pinned in
# tools/deps/requirements.txt) on Jane Austen's six novels,
# <data dir>/corpus/austen-*.txt from prepare-corpus.sh, and writes
# <data dir>/austen-bpe/: tokenizer.json, vocab.json + merges.txt (GPT-2's
# layout), tokenizer_config.json and special_tokens_map.json (see
# train-byte-bpe.py). Single-threaded, so the files are the same on every
# run and machine.
#
# Idempotent: skipped when the stamp matches the settings and the novels'
# hashes. Fails (never skips) when the corpus or the venv is missing.
#===------------------------------------------------------------------------===#
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/common.sh"
use_data_dir austen-bpe "$@"

out="$data/austen-bpe"
novels=("$data"/corpus/austen-*.txt)
if [ "${#novels[@]}" != 6 ] || [ ! -f "${novels[0]}" ]; then
  echo "error: $data/corpus/austen-*.txt is not the six novels (run" \
    "prepare-corpus.sh first)" >&2
  exit 1
fi
stamp="byte-level BPE 8192, min_frequency 2, $(
  grep -o '^tokenizers==[^ ]*' "$here/../deps/requirements.txt"); $(
  cd "$data/corpus" && sha256sum austen-*.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$out/.ftc-done" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi

rm -rf "$out.tmp"
RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false \
  "$here/../../test/reference/run-venv" "$here/train-byte-bpe.py" \
  "$out.tmp" 8192 "${novels[@]}"
echo "$stamp" > "$out.tmp/.ftc-done"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "wrote $out: $(ls "$out" | xargs)" >&2
