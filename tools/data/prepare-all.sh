#!/usr/bin/env bash
#===- prepare-all.sh - Every data set the BERT pipelines use --------------===#
# SPDX-License-Identifier: Apache-2.0
#
# usage: prepare-all.sh [data dir]     (default: <repo>/data)
#
# Runs prepare-fine-foods.sh (the Amazon fine-food reviews, CSV) and
# prepare-corpus.sh (the pretraining text and the bert-base-uncased vocab).
# Idempotent and quick once done; fails when a prerequisite is missing.
#===------------------------------------------------------------------------===#
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/prepare-fine-foods.sh" "$@"
"$here/prepare-corpus.sh" "$@"
