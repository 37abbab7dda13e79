#!/usr/bin/env bash
# window kernels without ping-pong between the consumers: checks, A/B against the committed tree; all GPU tests if it gains
source .dev/device-env.sh
W=/tmp/w13; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r13.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j12 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j4 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen
timeout -s KILL 60 $N check --quick --d 128 --dtype bf16,fp16 --causal 1 --window 255,0 > $W/check-window.txt 2>&1; echo "check window rc $? $(tail -1 $W/check-window.txt)"
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
gain=$($PY - $W <<'PY'
import json,glob,sys
W=sys.argv[1]; s={"o":[], "n":[]}
for f in glob.glob(f"{W}/ab-*-w256-*.json"):
    x=f.split("/")[-1].split("-")[1]
    s[x]+= [r["tflops"] for r in json.load(open(f))["rows"]]
print(f"{sum(s['n'])/max(1e-9,sum(s['o'])):.4f}")
PY
)
echo "window new/old $gain"
el window; ck
if $PY -c "import sys; sys.exit(0 if float('$gain') > 1.01 else 1)"; then
  cd build-dev && timeout -s KILL 400 ctest -L gpu -j8 --timeout 390 > $W/ctest-gpu.txt 2>&1; echo "ctest rc $?"; cd ..
  tail -25 $W/ctest-gpu.txt
  cp build-dev/Testing/Temporary/LastTest.log $W/ctest-last.log 2>/dev/null; gzip -f $W/ctest-last.log
fi
el done; ck
