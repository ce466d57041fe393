#!/usr/bin/env bash
#===- prepare-fashion-folder.sh - Fashion-MNIST as an image folder --------===#
# SPDX-License-Identifier: Apache-2.0
#
# usage: prepare-fashion-folder.sh [data dir]     (default: <repo>/data)
#
# Writes <data dir>/fashion-folder/ from Debian's Fashion-MNIST
# (dataset-fashion-mnist, /usr/share/datasets/fashion-mnist/*.gz) in the
# layout the image-folder dataset plugin reads: train/<class>/NNNNN.png, the
# first 100 training images of each class (1000), and test/<class>/NNNNN.png,
# all 10000 test images; <class> is Fashion-MNIST's class name (T-shirt_top,
# Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle_boot),
# NNNNN the image's index in its IDX file. See make-fashion-folder.py.
#
# Idempotent: skipped when the stamp says the folder is complete (the
# converter's hash). Fails (never skips) when the data set or numpy is
# missing.
#===------------------------------------------------------------------------===#
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/common.sh"
use_data_dir fashion-folder "$@"

src=/usr/share/datasets/fashion-mnist
out="$data/fashion-folder"
make="$here/make-fashion-folder.py"
stamp="1000 train + 10000 test images; $(sha256sum "$make" | cut -d' ' -f1)"
if [ "$(cat "$out/.ftc-done" 2>/dev/null)" = "$stamp" ]; then
  exit 0
fi
if [ ! -f "$src/t10k-images-idx3-ubyte.gz" ]; then
  echo "error: $src is missing; install the Debian package dataset-fashion-mnist" >&2
  exit 1
fi
rm -rf "$out" "$out.tmp"
/usr/bin/python3 "$make" "$src" "$out.tmp"
[ "$(find "$out.tmp/train" -name '*.png' | wc -l)" = 1000 ]
[ "$(find "$out.tmp/test" -name '*.png' | wc -l)" = 10000 ]
echo "$stamp" > "$out.tmp/.ftc-done"
mv "$out.tmp" "$out"
