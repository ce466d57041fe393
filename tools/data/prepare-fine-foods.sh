#!/usr/bin/env bash
#===- prepare-fine-foods.sh - Export the Amazon fine-food reviews ---------===#
# SPDX-License-Identifier: Apache-2.0
#
# usage: prepare-fine-foods.sh [data dir]     (default: <repo>/data)
#
# Writes <data dir>/fine_foods/{train,test}.csv from the `small_fine_foods`
# dataset of the R package modeldata (Debian: r-cran-modeldata, which pulls
# in r-base-core for Rscript): training_data (4000 rows) and testing_data
# (1000 rows), columns product, review, score ("great" / "other"). CSV as
# RFC 4180 (quoted fields, "" escapes), UTF-8, with a header row; the HTML
# line breaks (<br />) in the reviews become spaces. Also writes
# <data dir>/fine_foods/train-reviews.txt: the 4000 training reviews, one a
# line, without labels (in-domain text for masked-LM pretraining), and
# test-reviews.txt, the 1000 test reviews so (held-out text for a language
# model's perplexity).
#
# Idempotent: does nothing when both files exist with the expected row
# counts. Fails (never skips) when Rscript or modeldata is missing.
#===------------------------------------------------------------------------===#
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
use_data_dir fine-foods "$@"
out="$data/fine_foods"

count_rows() { # data rows of a CSV (records, not lines: reviews hold no newlines)
  [ -f "$1" ] && echo $(($(wc -l < "$1") - 1)) || echo 0
}
if [ "$(count_rows "$out/train.csv")" = 4000 ] &&
  [ "$(count_rows "$out/test.csv")" = 1000 ] &&
  [ -f "$out/train-reviews.txt" ] &&
  [ "$(wc -l < "$out/train-reviews.txt")" = 4000 ] &&
  [ -f "$out/test-reviews.txt" ] &&
  [ "$(wc -l < "$out/test-reviews.txt")" = 1000 ]; then
  exit 0
fi

if ! command -v Rscript >/dev/null; then
  echo "error: Rscript is not installed; the fine-food reviews need the" \
    "Debian packages r-base-core and r-cran-modeldata" >&2
  exit 1
fi
mkdir -p "$out"
echo "exporting modeldata::small_fine_foods to $out" >&2
Rscript --vanilla - "$out" <<'REOF'
out <- commandArgs(trailingOnly = TRUE)[1]
if (!requireNamespace("modeldata", quietly = TRUE))
  stop("the R package modeldata is not installed (Debian: r-cran-modeldata)")
e <- new.env()
data("small_fine_foods", package = "modeldata", envir = e)
write_split <- function(df, name, rows) {
  if (nrow(df) != rows)
    stop(sprintf("%s has %d rows, expected %d", name, nrow(df), rows))
  df <- data.frame(product = as.character(df$product),
                   review = gsub("<br */?>|[\r\n]+", " ",
                                 as.character(df$review)),
                   score = as.character(df$score),
                   stringsAsFactors = FALSE)
  tmp <- file.path(out, paste0(".", name, ".tmp"))
  write.csv(df, tmp, row.names = FALSE, fileEncoding = "UTF-8")
  invisible(file.rename(tmp, file.path(out, name)))
}
write_split(e$training_data, "train.csv", 4000)
# The training reviews alone, one a line, no labels: unlabelled in-domain
# text for masked-LM pretraining (never the test reviews).
write_reviews <- function(df, name) {
  reviews <- gsub("<br */?>|[\r\n]+", " ", as.character(df$review))
  tmp <- file.path(out, paste0(".", name, ".tmp"))
  writeLines(reviews, tmp, useBytes = TRUE)
  invisible(file.rename(tmp, file.path(out, name)))
}
write_reviews(e$training_data, "train-reviews.txt")
# The test reviews so too: held-out text for a language model's perplexity.
write_reviews(e$testing_data, "test-reviews.txt")
write_split(e$testing_data, "test.csv", 1000)
REOF
for f in train:4000 test:1000; do
  n="$(count_rows "$out/${f%%:*}.csv")"
  if [ "$n" != "${f##*:}" ]; then
    echo "error: $out/${f%%:*}.csv has $n rows, expected ${f##*:}" >&2
    exit 1
  fi
done
echo "wrote $out/train.csv (4000 rows) and $out/test.csv (1000 rows)" >&2
