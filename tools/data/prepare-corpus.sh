#!/usr/bin/env bash
#===- prepare-corpus.sh - Text for masked-LM pretraining, and the vocab ---===#
# SPDX-License-Identifier: Apache-2.0
#
# usage: prepare-corpus.sh [data dir]     (default: <repo>/data)
#
# 1. Writes <data dir>/corpus/: Jane Austen's six novels from the R package
#    janeaustenr (Debian: r-cran-janeaustenr), one .txt each, line by line
#    as packaged; and fine-food-reviews.txt, the 4000 unlabelled training
#    reviews (in-domain text; never the test reviews) from
#    prepare-fine-foods.sh.
# 2. Derives <data dir>/bert-uncased-8k/vocab.txt from the bert-base-uncased
#    vocabulary that all-MiniLM-L6-v2 ships (prepare-minilm.sh; see
#    make-small-vocab.py).
#
# Idempotent: each step is skipped when its output is complete. Fails (never
# skips) when Rscript or janeaustenr is missing.
#===------------------------------------------------------------------------===#
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/common.sh"
use_data_dir corpus "$@"

corpus="$data/corpus"
stamp="janeaustenr 6 novels + fine-food training reviews"
if [ "$(cat "$corpus/.ftc-done" 2>/dev/null)" != "$stamp" ]; then
  if ! command -v Rscript >/dev/null; then
    echo "error: Rscript is not installed; the pretraining corpus needs the" \
      "Debian packages r-base-core and r-cran-janeaustenr" >&2
    exit 1
  fi
  rm -rf "$corpus"
  mkdir -p "$corpus.tmp"
  Rscript --vanilla - "$corpus.tmp" <<'REOF'
out <- commandArgs(trailingOnly = TRUE)[1]
if (!requireNamespace("janeaustenr", quietly = TRUE))
  stop("the R package janeaustenr is not installed (Debian: r-cran-janeaustenr)")
for (book in c("sensesensibility", "prideprejudice", "mansfieldpark", "emma",
               "northangerabbey", "persuasion")) {
  e <- new.env()
  data(list = book, package = "janeaustenr", envir = e)
  text <- e[[book]]
  if (length(text) < 5000) stop(sprintf("%s has only %d lines", book, length(text)))
  writeLines(enc2utf8(text), file.path(out, paste0("austen-", book, ".txt")), useBytes = TRUE)
}
REOF
  reviews="$data/fine_foods/train-reviews.txt"
  if [ ! -f "$reviews" ]; then
    echo "error: $reviews is missing (run prepare-fine-foods.sh first)" >&2
    exit 1
  fi
  cp "$reviews" "$corpus.tmp/fine-food-reviews.txt"
  echo "$stamp" > "$corpus.tmp/.ftc-done"
  mv "$corpus.tmp" "$corpus"
  echo "wrote $corpus: $(ls "$corpus" | wc -l) files, $(cat "$corpus"/*.txt | wc -w) words" >&2
fi

vocab="$data/all-MiniLM-L6-v2/vocab.txt"
small="$data/bert-uncased-8k/vocab.txt"
if [ ! -f "$small" ] || [ "$small" -ot "$vocab" ]; then
  mkdir -p "$(dirname "$small")"
  /usr/bin/python3 "$here/make-small-vocab.py" "$vocab" "$small" 6000
fi
