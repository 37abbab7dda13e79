#!/usr/bin/env bash
# deps.sh - install the system packages an effgen build needs, only those that are missing, on
# Debian/Ubuntu. Tools count as present when they are on PATH however they got there; the package lists
# are refreshed only when they are absent or an install fails, so a ready machine never needs the network.
set -euo pipefail

missing_req=() missing_opt=()
command -v cmake >/dev/null 2>&1 || missing_req+=(cmake)
{ command -v cc >/dev/null 2>&1 && command -v make >/dev/null 2>&1; } || missing_req+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || missing_req+=(pkg-config)
# For the tuner database and its scripting; the build goes on without them.
header() { [ -e "/usr/include/$1" ] || [ -e "/usr/include/x86_64-linux-gnu/$1" ] || [ -e "/usr/include/aarch64-linux-gnu/$1" ]; }
header lua5.4/lua.h || missing_opt+=(liblua5.4-dev)
header sqlite3.h || missing_opt+=(libsqlite3-dev)
missing=("${missing_req[@]}" "${missing_opt[@]}")
[ ${#missing[@]} -eq 0 ] && exit 0

give_up() {
    if [ ${#missing_req[@]} -gt 0 ]; then
        echo "deps: cannot install ${missing_req[*]}: $1" >&2
        exit 1
    fi
    echo "deps: warning: ${missing_opt[*]} not installed ($1); continuing without them" >&2
    exit 0
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
# stale lists are the usual cause: refresh once and retry, then settle for the required set alone
$sudo apt-get update -qq || true
apt_install "${missing[@]}" && exit 0
if [ ${#missing_req[@]} -gt 0 ]; then
    apt_install "${missing_req[@]}" || give_up "apt-get failed"
fi
missing_req=()
give_up "apt-get failed"
