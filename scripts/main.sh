#!/usr/bin/env bash
# main.sh - the main job: build effgen, then generate and NVRTC-compile the default kernel set for this
# machine's GPU arch and, with a GPU present, check every kernel against the reference and benchmark
# it. Without a GPU the arch is sm_90 (or $EFFGEN_ARCH) and only generation and compilation run.
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
arch=${EFFGEN_ARCH:-${gpu_arch:-sm_90}}

if [ -z "$gpu_arch" ]; then
    echo "main: no GPU found; generating and compiling for $arch only (no check, no benchmark)"
    "$effgen" compile --all --arch "$arch" --jobs "$jobs"
    exit 0
fi
echo "main: GPU $gpu_arch found; compiling, checking and benchmarking for $arch"
"$effgen" compile --all --arch "$arch" --jobs "$jobs"
"$effgen" check
"$effgen" bench --json "$build/bench-$arch.json"
echo "main: benchmark rows in $build/bench-$arch.json"
