#!/usr/bin/env bash
# wg: O by TMA (O map required), work record, 16-byte stores; n = with the producer asleep in its waits, n2 = spinning; o = committed
source .dev/device-env.sh
W=/tmp/w3; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r3.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv > $W/info.txt
(cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j6 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/srcN2 -B /tmp/bn2 -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn2 -j5 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/bo -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bo -j5 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=/tmp/bn/effgen
ch() { local n=$1; shift; timeout -s KILL 120 $N check --quick "$@" > $W/check-$n.txt 2>&1; echo "check $n rc $? $(tail -1 $W/check-$n.txt)"; }
ch dense --d 64,96,128,160,192,256 --dtype bf16,fp16 --causal both
ch bias --d 64,128 --causal both --bias b
ch varlen --d 64,128,256 --causal both --varlen 1,700 --kv-heads 2
ch varlen96 --d 96,160 --causal 1 --varlen 60,200
ch window --d 64,128 --causal both --window 255,0
ch maskmod --d 128 --causal 1 --mask-mod "k <= q + 3"
ch c1 --d 64,128 --causal 0 --config wg.bm64.bn128.c1.s2
ch d192s3 --d 192 --causal 0 --config wg.bm128.bn64.c2.s3
ch bsparse --d 128 --causal 1 --bsparse 20,128
el checks; ck
for order in "n n2 o" "o n2 n"; do
  for b in $order; do E=/tmp/b$b/effgen; r=${order%% *}
    timeout -s KILL 80 $E bench --dtype bf16 --json $W/$b-dense-$r.json > $W/$b-dense-$r.txt 2>&1; echo "$b dense rc $?"
    timeout -s KILL 40 $E bench --d 128 --n 2048,8192 --causal 1 --window 255,0 --json $W/$b-win-$r.json > $W/$b-win-$r.txt 2>&1; echo "$b win rc $?"
  done
  el "order $order"; ck
done
for rep in 1 2 3; do
  for b in n n2 o; do E=/tmp/b$b/effgen
    for row in "64 8192 0" "64 16384 0" "128 16384 0" "256 16384 0" "256 16384 1"; do set -- $row
      timeout -s KILL 30 $E bench --d $1 --n $2 --causal $3 --reps 40 --json $W/long-$b-$1-$2-$3-$rep.json > /dev/null 2>&1
    done
  done
done
el long; ck
timeout -s KILL 120 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"; el peers
for b in n n2 o; do $PY bench/ratios.py $W/$b-dense-n.json $W/peers-bf16.json > $W/ratios-$b-dense-n.txt 2>&1; done; ck
$PY - "$W" <<'PY'
import json, sys, glob, math, collections
W = sys.argv[1]
def load(f):
    return {(r["D"], r["N"], r["mask"]): r["tflops"] for r in json.load(open(f))["rows"]}
for kind in ("dense", "win"):
    best = {}
    for b in ("n", "n2", "o"):
        d = {}
        for f in glob.glob(f"{W}/{b}-{kind}-*.json"):
            for k, v in load(f).items(): d[k] = max(d.get(k, 0), v)
        best[b] = d
    gm = collections.defaultdict(list)
    for k in sorted(best["o"]):
        o = best["o"][k]
        print(f"{kind:5s} D={k[0]:3d} N={k[1]:5d} {k[2]:10s} old {o:6.1f} n {best['n'][k]:6.1f} x{best['n'][k]/o:.3f} n2 {best['n2'][k]:6.1f} x{best['n2'][k]/o:.3f}")
        for b in ("n", "n2"): gm[b].append(math.log(best[b][k] / o))
    print(kind, "geomean n", round(math.exp(sum(gm["n"]) / len(gm["n"])), 4), "n2", round(math.exp(sum(gm["n2"]) / len(gm["n2"])), 4))
lg = collections.defaultdict(list)
for f in glob.glob(f"{W}/long-*.json"):
    b, D, N, c, rep = f.split("/")[-1][5:-5].split("-")
    for r in json.load(open(f))["rows"]: lg[(D, N, c, b)].append(r["tflops"])
for key in sorted({k[:3] for k in lg}):
    print("long D=%s N=%s causal=%s" % key, "  ".join("%s %s" % (b, " ".join("%.1f" % v for v in lg[key + (b,)])) for b in ("n", "n2", "o")))
PY
el done; ck
