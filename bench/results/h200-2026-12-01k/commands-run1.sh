#!/usr/bin/env bash
# L2 prefetch ahead of a strip's loads: EFFGEN_WG_AHEAD 0 / 1 / 2 on the window rows; the walk section
source .dev/device-env.sh
W=/tmp/w7; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r7.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j16 --target effgen_cli effgen test_gpu_wgmma 2>&1 | grep -E " error |warning:"
el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen
A="--d 128 --n 2048,8192 --causal 1 --window 255,0"
B="--d 128 --n 2048,8192 --causal 0 --window 128,128"
for r in 1 2 3; do
  for a in 0 1 2; do
    EFFGEN_WG_AHEAD=$a timeout -s KILL 40 $N bench $A --json $W/ab-a$a-w256-$r.json > /dev/null 2>&1; echo "a$a $r rc $?"
    EFFGEN_WG_AHEAD=$a timeout -s KILL 40 $N bench $B --json $W/ab-a$a-w128x2-$r.json > /dev/null 2>&1
  done
done
for f in $W/ab-*.json; do $PY - "$f" <<'PY'
import json,sys
rows=json.load(open(sys.argv[1]))["rows"]
print(sys.argv[1].split('/')[-1], " ".join(f"N{r['N']}:{r['tflops']:.1f}" for r in rows), rows[0].get('config'))
PY
done | sort > $W/ab-summary.txt; cat $W/ab-summary.txt
el ab; ck
timeout -s KILL 300 build-dev/tests/test_gpu_wgmma walk > $W/walk.txt 2>&1; echo "walk rc $? $(tail -1 $W/walk.txt)"; grep FAIL $W/walk.txt | head; el walk; ck
