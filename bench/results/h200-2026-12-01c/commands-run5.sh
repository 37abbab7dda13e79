#!/usr/bin/env bash
# mma.sync copies: the thread's place re-read from %tid.x at each copy, unsigned column offset, the epilogue's
# indexes re-drawn from %ctaid (spill-free defaults): timing against the committed build, then all GPU tests
source .dev/device-env.sh
W=/tmp/w71; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r71.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv > $W/info.txt
(cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j12 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/bo -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bo -j4 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
for round in 1 2; do
  for b in n o; do E=/tmp/b$b/effgen
    timeout -s KILL 80 $E bench --arch sm_90 --dtype bf16 --json $W/$b-dense-$round.json > $W/$b-dense-$round.txt 2>&1 || echo "$b dense failed"
    timeout -s KILL 60 $E bench --arch sm_90 --dtype bf16 --d 80,96,160,192 --n 4096 --json $W/$b-odd-$round.json > $W/$b-odd-$round.txt 2>&1 || echo "$b odd failed"
    timeout -s KILL 40 $E bench --arch sm_90 --d 128 --n 2048,8192 --causal 1 --window 255,0 --json $W/$b-win-$round.json > $W/$b-win-$round.txt 2>&1 || echo "$b win failed"
  done
  el round$round; ck
done
timeout -s KILL 60 /tmp/bn/effgen bench --arch sm_90 --dtype fp16 --d 128,160 --json $W/n-fp16-1.json > $W/n-fp16-1.txt 2>&1 || echo "n fp16 failed"
timeout -s KILL 60 /tmp/bo/effgen bench --arch sm_90 --dtype fp16 --d 128,160 --json $W/o-fp16-1.json > $W/o-fp16-1.txt 2>&1 || echo "o fp16 failed"
$PY - "$W" > $W/new-vs-old.txt <<'PY'
import json, sys, glob
W = sys.argv[1]
def load(pat):
    best, meta = {}, {}
    for f in glob.glob(f"{W}/{pat}-*.json"):
        for r in json.load(open(f))["rows"]:
            k = (r["dtype"], r["D"], r["N"], r["mask"])
            if r["tflops"] > best.get(k, 0):
                best[k] = r["tflops"]; meta[k] = (r["config"], r.get("registers"), r.get("spill_bytes"))
    return best, meta
print("dtype D N mask  config  old (regs/spill)  new (regs/spill)  new/old   (TFLOP/s, best of the rounds)")
rs = []
for kind in ("dense", "odd", "win", "fp16"):
    o, om = load("o-" + kind); n, nm = load("n-" + kind)
    for k in sorted(n):
        if k in o:
            rs.append(n[k] / o[k])
            print(*k, nm[k][0], f"{o[k]:7.1f} ({om[k][1]}/{om[k][2]})  {n[k]:7.1f} ({nm[k][1]}/{nm[k][2]})  {n[k]/o[k]:.3f}")
import math
print("geomean new/old", round(math.exp(sum(math.log(x) for x in rs) / len(rs)), 4), "over", len(rs), "rows")
PY
cat $W/new-vs-old.txt; ck
cd /tmp/bn && timeout -s KILL 420 ctest -L gpu -j8 --timeout 400 > $W/ctest-gpu.txt 2>&1; echo "ctest rc $?"; tail -25 $W/ctest-gpu.txt; cd - >/dev/null
el done; ck
