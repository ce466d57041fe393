# Shared by tools/setup and tools/test: dependency install and the build.
# shellcheck shell=bash

FTC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FTC_BUILD="${FTC_BUILD:-$FTC_ROOT/build}"
LLVM_PREFIX=/usr/lib/llvm-22

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "error: '$*' needs root (no sudo found)" >&2; return 1
  fi
}

# Installs the Debian 12 packages listed in tools/deps/debian-packages.txt
# that are not installed yet (so a second run does nothing).
install_deps() {
  local want missing=()
  want=$(grep -v '^\s*#' "$FTC_ROOT/tools/deps/debian-packages.txt" | xargs)
  for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "dependencies already installed"
    return 0
  fi
  log "installing ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 \
    install -y -q --no-install-recommends "${missing[@]}"
}

FTC_VENV="${FTC_VENV:-$FTC_ROOT/.venv}"

# Creates (once) the project-local venv $FTC_VENV over Debian's Python (with
# its site packages, for python3-torch and python3-numpy) and installs
# tools/deps/requirements.txt into it: exact pins, hashes checked, no
# dependency resolution (the file lists the whole closure), then 'pip check'.
# A stamp holds the requirements' hash, so a changed file reinstalls.
install_venv() {
  local req="$FTC_ROOT/tools/deps/requirements.txt" stamp="$FTC_VENV/.ftc-requirements"
  local want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -x "$FTC_VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  log "installing tools/deps/requirements.txt into $FTC_VENV"
  rm -rf "$FTC_VENV"
  /usr/bin/python3 -m venv --system-site-packages "$FTC_VENV"
  "$FTC_VENV/bin/python" -m pip install -q --disable-pip-version-check \
    --no-input --require-hashes --no-deps --only-binary=:all: -r "$req"
  # pip check sees the system packages too: ignore what they require of each
  # other, and Debian's torch, which reports itself as 1.13.0a0 (peft asks
  # for >= 1.13.0); anything else is an error.
  local problems
  problems=$("$FTC_VENV/bin/python" -m pip check --disable-pip-version-check 2>&1 |
    grep -v -E '^No broken|^(pygobject|python-apt|dbus-python) |has requirement torch>=1\.13\.0, but you have torch 1\.13\.0a0' || true)
  if [ -n "$problems" ]; then
    echo "error: the venv's packages do not fit together:" >&2
    echo "$problems" >&2
    return 1
  fi
  echo "$want" > "$stamp"
}

# Configures (once) and builds everything with Ninja, ccache and mold.
build_all() {
  if [ ! -f "$FTC_BUILD/build.ninja" ]; then
    log "configuring $FTC_BUILD"
    cmake -G Ninja -S "$FTC_ROOT" -B "$FTC_BUILD" \
      -DCMAKE_BUILD_TYPE=Release \
      -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
      -DLLVM_EXTERNAL_LIT="$LLVM_PREFIX/bin/lit" \
      -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
      -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=mold \
      -DCMAKE_SHARED_LINKER_FLAGS=-fuse-ld=mold \
      -DCMAKE_MODULE_LINKER_FLAGS=-fuse-ld=mold \
      -DFTC_BUILD_TESTS=ON
  fi
  log "building (ninja -C $FTC_BUILD)"
  ninja -C "$FTC_BUILD"
}
