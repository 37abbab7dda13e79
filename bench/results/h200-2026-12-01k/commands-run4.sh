#!/usr/bin/env bash
# strips: the next work tile (its record complete) handed over before the last V tile; walk section, window A/B
source .dev/device-env.sh
W=/tmp/w10; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r10.tgz -C $W . ; }
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j12 --target effgen_cli effgen test_gpu_wgmma 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j4 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen
for s in 3 16; do EFFGEN_WG_STRIP=$s timeout -s KILL 40 $N check --quick --d 128 --dtype bf16 --causal 1 --window 255,0 > $W/check-s$s.txt 2>&1; echo "check strip $s rc $? $(tail -1 $W/check-s$s.txt)"; done
A="--d 128 --n 2048,8192 --causal 1 --window 255,0"
B="--d 128 --n 2048,8192 --causal 0 --window 128,128"
for r in 1 2 3; do
  timeout -s KILL 40 $O bench $A --json $W/ab-o-w256-$r.json > /dev/null 2>&1; echo "o $r rc $?"
  timeout -s KILL 40 $N bench $A --json $W/ab-n-w256-$r.json > /dev/null 2>&1; echo "n $r rc $?"
  timeout -s KILL 40 $O bench $B --json $W/ab-o-w128x2-$r.json > /dev/null 2>&1
  timeout -s KILL 40 $N bench $B --json $W/ab-n-w128x2-$r.json > /dev/null 2>&1
done
for f in $W/ab-*.json; do $PY - "$f" <<'PY'
import json,sys
try: rows=json.load(open(sys.argv[1]))["rows"]
except Exception: print(sys.argv[1].split('/')[-1], "no rows"); sys.exit()
print(sys.argv[1].split('/')[-1], " ".join(f"N{r['N']}:{r['tflops']:.1f}" for r in rows), rows[0].get('config'))
PY
done | sort > $W/ab-summary.txt; cat $W/ab-summary.txt
el window; ck
timeout -s KILL 300 build-dev/tests/test_gpu_wgmma walk > $W/walk.txt 2>&1; echo "walk rc $? $(tail -1 $W/walk.txt)"; grep FAIL $W/walk.txt | head; el walk; ck
