#!/usr/bin/env bash
# Reproduce the forward benchmark on a GPU machine in one command: build, run the GPU tests, time
# effgen on the dense suite and the peers (PyTorch SDPA backends) in the same run, join them
# (compare.py: fastest peer; ratios.py: each peer), and time the odd head dims at N = 4096; on a Hopper
# GPU also the mma.sync family (families.py: the two families row by row).
#   bench/run.sh [OUTDIR] [PEERS_DIR]      (defaults: bench/out, ../shared/peers)
# Extra effgen bench flags can be given in EFFGEN_BENCH_FLAGS (e.g. "--dtype fp16").
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/bench/out}
peers=${2:-$here/../shared/peers}
build=${EFFGEN_BUILD:-/tmp/effgen-build}
mkdir -p "$out"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
"$build/effgen" info | tee "$out/info.txt"
if [ -z "${EFFGEN_SKIP_TESTS:-}" ]; then
  (cd "$build" && ctest -L gpu --output-on-failure) 2>&1 | tail -n 30 | tee "$out/ctest-gpu.txt"
fi
dtype=${EFFGEN_DTYPE:-bf16}
"$build/effgen" bench --dtype "$dtype" --json "$out/effgen-$dtype.json" ${EFFGEN_BENCH_FLAGS:-} | tee "$out/effgen-$dtype.txt"
python3 "$peers/peers.py" --suite dense --dtype "$dtype" --out "$out/peers-$dtype.json" > "$out/peers-$dtype.log" 2>&1
python3 "$peers/compare.py" "$out/effgen-$dtype.json" "$out/peers-$dtype.json" > "$out/compare-$dtype.txt"
"$build/effgen" bench --dtype "$dtype" --d 64,80,96,128,160,192,256 --n 4096 --json "$out/effgen-dims-$dtype.json" \
  > "$out/effgen-dims-$dtype.txt"
python3 "$here/bench/ratios.py" "$out/effgen-$dtype.json" "$out/peers-$dtype.json" | tee "$out/ratios-$dtype.txt"
# On a Hopper GPU the default is the warpgroup family (sm_90a): the mma.sync family too, in the same run,
# beside the peers and beside the default row by row.
if grep -q "^target *sm_90a" "$out/info.txt"; then
  "$build/effgen" bench --arch sm_90 --dtype "$dtype" --json "$out/effgen-mma-$dtype.json" ${EFFGEN_BENCH_FLAGS:-} \
    > "$out/effgen-mma-$dtype.txt"
  python3 "$here/bench/ratios.py" "$out/effgen-mma-$dtype.json" "$out/peers-$dtype.json" > "$out/ratios-mma-$dtype.txt"
  python3 "$here/bench/families.py" "$out/effgen-$dtype.json" "$out/effgen-mma-$dtype.json" | tee "$out/families-$dtype.txt"
fi
# Variable lengths (64 sequences of 128 to 4096 tokens, D = 128) beside the dense kernel at their mean length,
# PyTorch SDPA on the batch padded with a padding mask and on nested tensors (needs PyTorch).
if python3 -c "import torch" 2>/dev/null; then
  EFFGEN_LIBRARY="$build/libeffgen.so" python3 "$here/python/bench_varlen.py" --dtype "$dtype" \
    --out "$out/bench-varlen-$dtype.json" 2>&1 | grep -v -e '^{' -e '^W[0-9]' | tee "$out/bench-varlen-$dtype.txt"
fi
