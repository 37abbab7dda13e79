#!/usr/bin/env bash
# deps.sh - install the system packages an effgen build needs, only those that are missing, on
# Debian/Ubuntu. Tools count as present when they are on PATH however they got there; the package lists
# are refreshed only when they are absent or an install fails, so a ready machine never needs the network.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# cuobjdump (with the nvdisasm it runs) lets the compile matrix read the SASS of the Hopper kernels (their
# HGMMA, and the softmax's exponentials ahead of the wait for P V where a kernel overlaps them). The CUDA
# toolkit's own if it has them, else NVIDIA's wheels from PyPI unpacked into .tools/ (git-ignored; the two
# land side by side, where cuobjdump looks for nvdisasm); without them the matrix prints that it did not
# inspect the SASS.
tools="$root/.tools/nvidia/cu13/bin"
if ! command -v cuobjdump >/dev/null 2>&1 && [ ! -x /usr/local/cuda/bin/cuobjdump ] &&
    { [ ! -x "$tools/cuobjdump" ] || [ ! -x "$tools/nvdisasm" ]; }; then
    python3 -m pip install --quiet --disable-pip-version-check --timeout 20 --retries 1 --target "$root/.tools" \
        'nvidia-cuda-cuobjdump>=13,<14' 'nvidia-cuda-nvdisasm>=13,<14' >/dev/null 2>&1 ||
        echo "deps: cuobjdump not installed (pip failed): the compile matrix will not inspect SASS" >&2
fi

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
{ command -v cc >/dev/null 2>&1 && command -v make >/dev/null 2>&1; } || missing+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
# The kernel database (SQLite) and the tuning scripts (Lua 5.4) are part of the library. Headers
# found under $CMAKE_PREFIX_PATH count too (machines that bring the packages unpacked, without apt).
header() {
    for d in /usr/include /usr/include/x86_64-linux-gnu /usr/include/aarch64-linux-gnu; do
        [ -e "$d/$1" ] && return 0
    done
    local pp=${CMAKE_PREFIX_PATH:-}
    for p in ${pp//:/ }; do
        [ -e "$p/include/$1" ] || [ -e "$p/include/x86_64-linux-gnu/$1" ] && return 0
    done
    return 1
}
header lua5.4/lua.h || missing+=(liblua5.4-dev)
header sqlite3.h || missing+=(libsqlite3-dev)
# The Python package's tests (ctest python_cpu) run under pytest, with python3 from PATH or the system's.
has_pytest() {
    for py in python3 /usr/bin/python3; do
        command -v "$py" >/dev/null 2>&1 && "$py" -c 'import pytest' >/dev/null 2>&1 && return 0
    done
    return 1
}
has_pytest || missing+=(python3-pytest)
[ ${#missing[@]} -eq 0 ] && exit 0

give_up() {
    echo "deps: cannot install ${missing[*]}: $1" >&2
    exit 1
}
command -v apt-get >/dev/null 2>&1 || give_up "no apt-get here; use your package manager"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || give_up "not root and no sudo"
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
apt_install() { $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
lists_present() { find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' 2>/dev/null | grep -q .; }

echo "deps: installing ${missing[*]}"
lists_present || $sudo apt-get update -qq || true
apt_install "${missing[@]}" && exit 0
# stale lists are the usual cause: refresh once and retry
$sudo apt-get update -qq || true
apt_install "${missing[@]}" || give_up "apt-get failed"
