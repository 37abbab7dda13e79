#!/usr/bin/env bash
# mma family: causal tiles past a warp's (pair's) diagonal skipped; wg strips: next Q handed over before the last V
source .dev/device-env.sh
W=/tmp/w8; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r8.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j11 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j5 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen
timeout -s KILL 150 $N check --arch sm_90 --quick --d 192,256 --dtype bf16,fp16 --causal both > $W/check-pair.txt 2>&1; echo "check pair rc $? $(tail -1 $W/check-pair.txt)"
timeout -s KILL 100 $N check --arch sm_90 --quick --d 256 --dtype bf16 --causal 1 --scale 3 --kv-heads 2 > $W/check-pair-gqa.txt 2>&1; echo "check pair gqa rc $? $(tail -1 $W/check-pair-gqa.txt)"
timeout -s KILL 150 $N check --arch sm_90 --quick --d 64,128,160 --dtype bf16,fp16 --causal 1 > $W/check-plain.txt 2>&1; echo "check plain rc $? $(tail -1 $W/check-plain.txt)"
el checks; ck
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
rows=json.load(open(sys.argv[1]))["rows"]
print(sys.argv[1].split('/')[-1], " ".join(f"N{r['N']}:{r['tflops']:.1f}" for r in rows), rows[0].get('config'))
PY
done | sort > $W/ab-summary.txt; cat $W/ab-summary.txt
el window; ck
for r in 1 2; do
  timeout -s KILL 90 $O bench --arch sm_90 --json $W/mma-o-$r.json > $W/mma-o-$r.txt 2>&1; echo "mma o $r rc $?"
  timeout -s KILL 90 $N bench --arch sm_90 --json $W/mma-n-$r.json > $W/mma-n-$r.txt 2>&1; echo "mma n $r rc $?"
done
el mma; ck
timeout -s KILL 120 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"
for x in o n; do for r in 1 2; do $PY bench/ratios.py $W/mma-$x-$r.json $W/peers-bf16.json > $W/ratios-mma-$x-$r.txt 2>&1; done; done
$PY - $W <<'PY'
import json,sys
W=sys.argv[1]
def best(x):
    b={}
    for r in (1,2):
        for row in json.load(open(f"{W}/mma-{x}-{r}.json"))["rows"]:
            k=(row["D"],row["mask"],row["N"]); b[k]=max(b.get(k,0),row["tflops"])
    return b
o,n=best("o"),best("n")
for k in sorted(o): print(*k, f"{o[k]:.1f} {n[k]:.1f} {n[k]/o[k]:.3f}")
PY
el done; ck
