#!/usr/bin/env bash
# Measure the autotuner on a GPU machine in one command:
#  tune1    `effgen tune` of the default set (lua/default.lua, every candidate measured) into a fresh
#           database, timed, with its breakdown (compile, check, time), and the strategy-quality table
#           (bench/tune_report.py quality: exhaustive best vs the model's pick vs the best of its top 8);
#  pack     `effgen pack` of that database, then `effgen check` served from the packed file with NVRTC
#           made unavailable (every first call must load its cubin from the database);
#  tune2    the same tune again into a second fresh database (compiles included) and the winners of the
#           two runs compared (bench/tune_report.py stability); with EFFGEN_TUNE1_JSON it compares with
#           the summary of an earlier run instead of this one's tune1.
#   bench/tune.sh [OUTDIR]     EFFGEN_TUNE_STEPS: the steps (default "tune1 pack tune2");
#                              EFFGEN_BUILD: build folder (default /tmp/effgen-build);
#                              EFFGEN_TUNE_FLAGS / EFFGEN_TUNE2_FLAGS: extra flags of the two tunes, e.g.
#                              "--shard 0/4" to re-tune a quarter of the set
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/bench/out}
build=${EFFGEN_BUILD:-/tmp/effgen-build}
mkdir -p "$out"
if [ ! -x "$build/effgen" ]; then
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j"$(nproc)" >/dev/null
fi
eg=$build/effgen
# the target contexts on this GPU compile for (sm_90a on a 9.0 GPU), so the packed rows are the ones served
arch=$("$eg" info | awk '/^target/ { print $2 }')
[ -n "$arch" ] || { echo "tune.sh: no GPU found (effgen info)"; exit 1; }
db1=$out/tune1.db db2=$out/tune2.db
steps=" ${EFFGEN_TUNE_STEPS:-tune1 pack tune2} "

if [[ $steps == *" tune1 "* ]]; then
  echo "== tune 1: $arch, default set, every candidate"
  rm -f "$db1"*
  "$eg" tune --arch "$arch" --db "$db1" --json "$out/tune1.json" --quiet ${EFFGEN_TUNE_FLAGS:-} > "$out/tune1.txt"
  tail -n 2 "$out/tune1.txt"
  python3 "$here/bench/tune_report.py" quality "$out/tune1.json" > "$out/quality.txt" || true
  tail -n 5 "$out/quality.txt"
fi

if [[ $steps == *" pack "* ]]; then
  echo "== pack, then serve without NVRTC"
  "$eg" pack --arch "$arch" --from "$db1" -o "$out/kernels.db" --quiet > "$out/pack.txt"
  tail -n 1 "$out/pack.txt"
  "$eg" db --db "$out/kernels.db" verify > "$out/verify.txt" && tail -n 1 "$out/verify.txt"
  rc=0
  EFFGEN_NVRTC=/nonexistent/libnvrtc.so EFFGEN_DB="$out/kernels.db" EFFGEN_LOG=1 \
    "$eg" check --d 64,80,128,256 --dtype bf16,fp16 --causal both --align br > "$out/check-no-nvrtc.txt" \
    2> "$out/check-no-nvrtc.log" || rc=$?
  tail -n 2 "$out/check-no-nvrtc.txt"
  echo "effgen check exit $rc; kernels loaded from the packed database: $(grep -c 'no NVRTC' "$out/check-no-nvrtc.log" || true);" \
    "compiled: $(grep -c ': compiled' "$out/check-no-nvrtc.log" || true)"
fi

if [[ $steps == *" tune2 "* ]]; then
  echo "== tune 2: the same tune again, fresh database"
  rm -f "$db2"*
  "$eg" tune --arch "$arch" --db "$db2" --json "$out/tune2.json" --quiet ${EFFGEN_TUNE2_FLAGS:-} > "$out/tune2.txt"
  tail -n 2 "$out/tune2.txt"
  python3 "$here/bench/tune_report.py" stability "${EFFGEN_TUNE1_JSON:-$out/tune1.json}" "$out/tune2.json" \
    > "$out/stability.txt" || true
  tail -n 1 "$out/stability.txt"
fi
