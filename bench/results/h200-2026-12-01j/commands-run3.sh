#!/usr/bin/env bash
# the final tree against the previous one, the masks beside the peers, all GPU tests
source .dev/device-env.sh
W=/tmp/w3; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r3.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j13 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j3 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen
A="--d 128 --n 2048,8192 --causal 1 --window 255,0"
B="--d 128 --n 2048,8192 --causal 0 --window 128,128"
for r in 1 2 3; do
  timeout -s KILL 40 $O bench $A --json $W/ab-o-w256-$r.json > /dev/null 2>&1; echo "o $r rc $?"
  timeout -s KILL 40 $N bench $A --json $W/ab-n-w256-$r.json > /dev/null 2>&1; echo "n $r rc $?"
  timeout -s KILL 40 $O bench $B --json $W/ab-o-w128x2-$r.json > /dev/null 2>&1
  timeout -s KILL 40 $N bench $B --json $W/ab-n-w128x2-$r.json > /dev/null 2>&1
done
el ab; ck
for m in "window --causal 1 --window 255,0" "alibi --causal 1 --alibi" "bias --causal 0 --bias b" "bsparse --causal 0 --bsparse 10,128"; do
  set -- $m; n=$1; shift
  timeout -s KILL 40 $N bench --d 128 --n 2048,8192 "$@" --json $W/m-$n.json > $W/m-$n.txt 2>&1; echo "masks $n rc $?"
done
$PY - "$W" <<'PY'
import json, glob, sys
W = sys.argv[1]; rows = []
for f in sorted(glob.glob(f"{W}/m-*.json")): rows += json.load(open(f))["rows"]
json.dump({"rows": rows}, open(f"{W}/effgen-masks.json", "w"), indent=1)
PY
timeout -s KILL 100 $PY .dev/peers/peers.py --suite masks --dtype bf16 --out $W/peers-masks.json > $W/peers-masks.log 2>&1; echo "peers masks rc $?"
$PY .dev/peers/compare.py $W/effgen-masks.json $W/peers-masks.json > $W/compare-masks.txt 2>&1; cat $W/compare-masks.txt
for f in $W/ab-*.json; do $PY - "$f" <<'PY'
import json,sys
rows=json.load(open(sys.argv[1]))["rows"]
print(sys.argv[1].split('/')[-1], " ".join(f"N{r['N']}:{r['tflops']:.1f}" for r in rows), rows[0].get('config'))
PY
done | sort > $W/ab-summary.txt; cat $W/ab-summary.txt
el bench; ck
cd build-dev && timeout -s KILL 420 ctest -L gpu -j8 --timeout 400 > $W/ctest-gpu.txt 2>&1; echo "ctest rc $?"; cd ..
tail -25 $W/ctest-gpu.txt
cp build-dev/Testing/Temporary/LastTest.log $W/ctest-last.log 2>/dev/null; gzip -f $W/ctest-last.log
el done; ck
