#!/usr/bin/env bash
# wg family: work record in shared memory, O stored by TMA, 16-byte stores, producer waits asleep; checks, timing old/new, peers, test_gpu_wgmma
source .dev/device-env.sh
W=/tmp/w2; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r2.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv > $W/info.txt
(cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j16 --target effgen_cli effgen test_gpu_wgmma 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/bo -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bo -j16 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=/tmp/bn/effgen
ch() { local n=$1; shift; timeout -s KILL 120 $N check --quick "$@" > $W/check-$n.txt 2>&1; echo "check $n rc $? $(tail -1 $W/check-$n.txt)"; }
ch dense --d 64,96,128,160,192,256 --dtype bf16,fp16 --causal both
ch bias --d 64,128,256 --causal both --bias b
ch biasbh --d 128 --causal 1 --bias bh
ch varlen --d 64,128,256 --causal both --varlen 1,700 --kv-heads 2
ch varlen96 --d 96 --causal 1 --varlen 60,200
ch window --d 64,128 --causal both --window 255,0
ch window2 --d 128 --causal 0 --window 100,37
ch mix --d 128 --causal 1 --softcap 30 --alibi
ch maskmod --d 128 --causal 1 --mask-mod "k_idx <= q_idx + 3"
ch s4 --d 128 --causal 1 --config wg.bm128.bn64.c2.s4
ch c3 --d 64,96 --causal 1 --config wg.bm192.bn128.c3.s2
ch c1 --d 64,128 --causal 0 --config wg.bm64.bn128.c1.s2
ch d192s3 --d 192 --causal 0 --config wg.bm128.bn64.c2.s3
ch bsparse --d 128 --causal 1 --bsparse 20,128
el checks; ck
for round in 1 2; do
  for b in n o; do E=/tmp/b$b/effgen
    timeout -s KILL 80 $E bench --dtype bf16 --json $W/$b-dense-$round.json > $W/$b-dense-$round.txt 2>&1; echo "$b dense rc $?"
    timeout -s KILL 40 $E bench --d 128 --n 2048,8192 --causal 1 --window 255,0 --json $W/$b-win-$round.json > $W/$b-win-$round.txt 2>&1; echo "$b win rc $?"
  done
  el round$round; ck
done
timeout -s KILL 120 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"; el peers
for b in n o; do $PY bench/ratios.py $W/$b-dense-1.json $W/peers-bf16.json > $W/ratios-$b-dense-1.txt 2>&1; done; ck
$PY - "$W" <<'PY'
import json, sys
W = sys.argv[1]
def load(f):
    return {(r["D"], r["N"], r["mask"]): r["tflops"] for r in json.load(open(f))["rows"]}
for kind in ("dense", "win"):
    best = {}
    for b in "no":
        d = {}
        for rnd in (1, 2):
            for k, v in load(f"{W}/{b}-{kind}-{rnd}.json").items(): d[k] = max(d.get(k, 0), v)
        best[b] = d
    import math
    rs = []
    for k in sorted(best["o"]):
        r = best["n"][k] / best["o"][k]; rs.append(r)
        print(f"{kind:5s} D={k[0]:3d} N={k[1]:5d} {k[2]:16s} old {best['o'][k]:6.1f} new {best['n'][k]:6.1f} x{r:.3f}")
    print(kind, "geomean", round(math.exp(sum(map(math.log, rs)) / len(rs)), 4))
PY
el compare; ck
timeout -s KILL 200 /tmp/bn/tests/test_gpu_wgmma > $W/test_gpu_wgmma.txt 2>&1; echo "test_gpu_wgmma rc $?"; tail -2 $W/test_gpu_wgmma.txt
el done; ck
