#!/usr/bin/env bash
# softmax row maxima and sums as trees (wg and mma families): window and dense rows against the committed tree; masks beside the peers
source .dev/device-env.sh
W=/tmp/w11; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r11.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j11 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j5 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen
timeout -s KILL 60 $N check --quick --d 128 --dtype bf16,fp16 --causal 1 --window 255,0 > $W/check-window.txt 2>&1; echo "check window rc $? $(tail -1 $W/check-window.txt)"
A="--d 128 --n 2048,8192 --causal 1 --window 255,0"
B="--d 128 --n 2048,8192 --causal 0 --window 128,128"
for r in 1 2; do
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
timeout -s KILL 80 $O bench --json $W/wg-o.json > $W/wg-o.txt 2>&1; echo "wg o rc $?"
timeout -s KILL 80 $N bench --json $W/wg-n.json > $W/wg-n.txt 2>&1; echo "wg n rc $?"
timeout -s KILL 60 $O bench --arch sm_90 --d 128,256 --json $W/mma-o.json > $W/mma-o.txt 2>&1; echo "mma o rc $?"
timeout -s KILL 60 $N bench --arch sm_90 --d 128,256 --json $W/mma-n.json > $W/mma-n.txt 2>&1; echo "mma n rc $?"
$PY - $W <<'PY' | tee $W/dense-new-vs-old.txt
import json,sys
W=sys.argv[1]
for fam in ("wg","mma"):
    o={(r["D"],r["mask"],r["N"]):r["tflops"] for r in json.load(open(f"{W}/{fam}-o.json"))["rows"]}
    n={(r["D"],r["mask"],r["N"]):r["tflops"] for r in json.load(open(f"{W}/{fam}-n.json"))["rows"]}
    for k in sorted(o): print(fam, *k, f"{o[k]:.1f} {n[k]:.1f} {n[k]/o[k]:.3f}")
PY
el dense; ck
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
el done; ck
