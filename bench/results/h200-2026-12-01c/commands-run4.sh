#!/usr/bin/env bash
# mma.sync family config sweep (committed kernels): two-CTA-per-SM shapes at D = 256 and spill-free shapes at D = 128,
# each beside the default, two rounds, beside the peers (bf16)
source .dev/device-env.sh
W=/tmp/w70; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r70.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv > $W/info.txt
(cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j16 --target effgen_cli effgen 2>&1 | grep -E "error|warning:")
el built
export EFFGEN_DB=/nonexistent-dir/none.db
E=/tmp/bn/effgen
C256="default bm64.bn32.w4.s2.d2 bm64.bn32.w4.s2 bm64.bn64.w4.s1 bm64.bn32.w4.s1"
C128="default bm64.bn32.w2.s2 bm64.bn64.w4.s2.d2 bm128.bn64.w8.s2.d2 bm128.bn32.w4.s3"
for c in bm64.bn32.w4.s2.d2 bm64.bn32.w4.s2; do
  timeout -s KILL 60 $E check --arch sm_90 --quick --d 256 --causal both --config $c > $W/check-$c.txt 2>&1; echo "check $c rc $? $(tail -1 $W/check-$c.txt)"; done
for c in bm64.bn32.w2.s2 bm64.bn64.w4.s2.d2; do
  timeout -s KILL 60 $E check --arch sm_90 --quick --d 128 --causal both --config $c > $W/check-$c.txt 2>&1; echo "check $c rc $? $(tail -1 $W/check-$c.txt)"; done
el checks; ck
for round in 1 2; do
  for c in $C256; do a=""; [ $c != default ] && a="--config $c"
    timeout -s KILL 60 $E bench --arch sm_90 --d 256 --dtype bf16 $a --json $W/d256-$c-$round.json > $W/d256-$c-$round.txt 2>&1 || echo "d256 $c failed"; done
  for c in $C128; do a=""; [ $c != default ] && a="--config $c"
    timeout -s KILL 60 $E bench --arch sm_90 --d 128 --dtype bf16 $a --json $W/d128-$c-$round.json > $W/d128-$c-$round.txt 2>&1 || echo "d128 $c failed"; done
  el round$round; ck
done
timeout -s KILL 120 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"; el peers
$PY - "$W" "$C256" "$C128" > $W/sweep.txt <<'PY'
import json, sys, glob
W, C256, C128 = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
fa = {}
for r in json.load(open(f"{W}/peers-bf16.json"))["rows"]:
    if r["impl"] == "sdpa-flash":
        fa[(r["D"], r["N"], r["mask"])] = r["tflops"]
for D, cs in ((256, C256), (128, C128)):
    best = {}
    for c in cs:
        for f in glob.glob(f"{W}/d{D}-{c}-*.json"):
            for r in json.load(open(f))["rows"]:
                k = (r["N"], r["mask"])
                best[(c, k)] = max(best.get((c, k), 0), r["tflops"])
    keys = sorted({k for (_, k) in best}, key=lambda k: (k[1], k[0]))
    print(f"D = {D}: TFLOP/s (best of 2) and x FlashAttention-2 (sdpa-flash, same run)")
    print("mask    N     " + " ".join(f"{c:>22s}" for c in cs))
    for k in keys:
        f = fa.get((D,) + k, 0)
        print(f"{k[1]:7s} {k[0]:5d} " + " ".join(f"{best.get((c,k),0):9.1f} ({best.get((c,k),0)/f if f else 0:5.3f})   " for c in cs))
PY
cat $W/sweep.txt; ck
el done
