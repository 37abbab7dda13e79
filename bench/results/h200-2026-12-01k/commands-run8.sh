#!/usr/bin/env bash
# the committed tree: the window on three consumers (64-key tiles) beside the default and two consumers of 64-key tiles
source .dev/device-env.sh
W=/tmp/w14; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r14.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j16 --target effgen_cli effgen 2>&1 | grep -E " error |warning:"
el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen
A="--d 128 --n 2048,8192 --causal 1 --window 255,0"
for r in 1 2; do
  for c in model wg.bm192.bn64.c3.s2 wg.bm192.bn64.c3.s3 wg.bm128.bn64.c2.s4; do
    if [ $c = model ]; then x=""; else x="--config $c"; fi
    timeout -s KILL 40 $N bench $A $x --json $W/w-$c-$r.json > $W/w-$c-$r.txt 2>&1; echo "$c $r rc $?"
  done
done
for f in $W/w-*.json; do $PY - "$f" <<'PY'
import json,sys
try: rows=json.load(open(sys.argv[1]))["rows"]
except Exception: print(sys.argv[1].split('/')[-1], "no rows"); sys.exit()
print(sys.argv[1].split('/')[-1], " ".join(f"N{r['N']}:{r['tflops']:.1f}" for r in rows), rows[0].get('config'), "spill", rows[0].get('spill', rows[0].get('spills')))
PY
done | sort > $W/summary.txt; cat $W/summary.txt
el done; ck
