#!/usr/bin/env bash
# main.sh - the main job: build effgen, then `effgen tune` on its defaults for this machine's GPU arch
# (measured winners in the kernel database; sm_90a on a 9.0 GPU) and, with a GPU, a quick check and the
# benchmark. Without a GPU the arch is sm_90 (or $EFFGEN_ARCH) and the tune runs offline: model picks,
# compiled by NVRTC.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${EFFGEN_BUILD_DIR:-$root/build-release}
jobs=$(nproc 2>/dev/null || echo 2)

"$root/scripts/deps.sh"
if ! ldconfig -p 2>/dev/null | grep -q 'libnvrtc\.so'; then
    for d in /usr/local/cuda/lib64 /usr/local/cuda/lib; do
        [ -d "$d" ] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    done
fi

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$jobs"
effgen="$build/effgen"
"$effgen" info

# The GPU's arch, from the driver's own tool; none found means no usable GPU.
gpu_arch=""
if command -v nvidia-smi >/dev/null 2>&1; then
    cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader -i 0 2>/dev/null | head -1 | tr -d ' .') || cc=""
    [[ "$cc" =~ ^[0-9]+$ ]] && gpu_arch="sm_$cc"
fi
# The target contexts on this GPU compile for: its own arch, except sm_90a on a 9.0 GPU (the Hopper
# warpgroup family), so the tuned winners are the ones the runtime serves.
default_arch=$gpu_arch
[ "$gpu_arch" = sm_90 ] && default_arch=sm_90a
arch=${EFFGEN_ARCH:-${default_arch:-sm_90}}

# The main job is the tuner on its defaults (lua/default.lua) into the default kernel database. With a
# GPU of the target arch it measures every candidate; otherwise the cost model picks and only the
# winners are compiled (offline mode).
if [ -z "$gpu_arch" ]; then
    echo "main: no GPU found; tuning offline for $arch: the cost model picks, NVRTC compiles the winners"
    "$effgen" tune --arch "$arch" --jobs "$jobs"
    "$effgen" db list
    exit 0
fi
echo "main: GPU $gpu_arch found; tuning, checking and benchmarking for $arch"
"$effgen" tune --arch "$arch" --jobs "$jobs" --json "$build/tune-$arch.json"
"$effgen" check --quick
"$effgen" bench --json "$build/bench-$arch.json"
echo "main: tuning summary in $build/tune-$arch.json, benchmark rows in $build/bench-$arch.json"
