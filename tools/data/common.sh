# shellcheck shell=bash
#===- common.sh - Shared by the prepare-*.sh data scripts ----------------===#
# SPDX-License-Identifier: Apache-2.0

# use_data_dir NAME [DIR]: sets $data to DIR (default <repo>/data), made and
# absolute, and takes the lock <data>/.prepare-NAME.lock for the rest of the
# script: tests run in parallel and several prepare the same data.
use_data_dir() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  data="${2:-$root/data}"
  mkdir -p "$data"
  data="$(cd "$data" && pwd)"
  exec 9> "$data/.prepare-$1.lock"
  flock 9
}
