#!/usr/bin/env bash
# strip lengths of the walk against the previous tree on the causal window of 256 (first tree: strips at every window head dim)
source .dev/device-env.sh
W=/tmp/w1; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r1.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j12 --target effgen_cli effgen test_gpu_wgmma 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j4 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen
timeout -s KILL 150 build-dev/tests/test_gpu_wgmma walk > $W/walk.txt 2>&1; echo "walk rc $?"; grep -c "^ok" $W/walk.txt; grep -E "FAIL|passed" $W/walk.txt | head -20
el walk; ck
A="--d 128 --n 2048,8192 --causal 1 --window 255,0"
for r in 1 2; do
  timeout -s KILL 40 $O bench $A --json $W/o-$r.json > $W/o-$r.txt 2>&1; echo "o $r rc $?"
  timeout -s KILL 40 $N bench $A --json $W/n-$r.json > $W/n-$r.txt 2>&1; echo "n $r rc $?"
  for L in 1 2 4 8 16; do
    EFFGEN_WG_STRIP=$L timeout -s KILL 40 $N bench $A --json $W/n$L-$r.json > $W/n$L-$r.txt 2>&1; echo "n$L $r rc $?"
  done
  for c in wg.bm128.bn64.c2.s4 wg.bm128.bn128.c2.s3; do
    timeout -s KILL 40 $N bench $A --config $c --json $W/n-$c-$r.json > $W/n-$c-$r.txt 2>&1; echo "$c $r rc $?"
  done
  el "round $r"; ck
done
for f in $W/*.json; do $PY - "$f" <<'PY'
import json,sys
rows=json.load(open(sys.argv[1]))["rows"]
print(sys.argv[1].split('/')[-1], " ".join(f"N{r['N']}:{r['tflops']:.0f}" for r in rows))
PY
done | sort > $W/summary.txt; cat $W/summary.txt
ck
