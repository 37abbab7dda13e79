#!/usr/bin/env bash
# wg family: columns beyond a warp's last visible key skipped in quarters (mask, maxima, exponentials);
# checks, test_gpu_wgmma, then dense bf16 (both builds, two rounds), the window and causal D64 configs, beside the peers
source .dev/device-env.sh
W=/tmp/w69; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r69.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv > $W/info.txt
(cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j16 --target effgen_cli effgen test_gpu_wgmma 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/bo -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bo -j16 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=/tmp/bn/effgen; O=/tmp/bo/effgen
ch() { local n=$1; shift; timeout -s KILL 90 $N check --quick "$@" > $W/check-$n.txt 2>&1; echo "check $n rc $? $(tail -1 $W/check-$n.txt)"; }
ch dense --d 64,96,128,192,256 --dtype bf16,fp16 --causal both
ch scale3 --d 64,128,256 --causal 1 --scale 3
ch c2 --d 64,128 --causal 1 --config wg.bm128.bn128.c2.s2
ch c3 --d 64 --causal 1 --config wg.bm192.bn128.c3.s2
ch bn64 --d 64,256 --causal 1 --config wg.bm128.bn64.c2.s2
ch window --d 64,128 --causal both --window 255,0
ch window2 --d 128 --causal 0 --window 100,37
ch varlen --d 64,128 --causal 1 --varlen 1,700 --kv-heads 2
ch mix --d 128 --causal 1 --softcap 30 --alibi
ch maskmod --d 128 --causal 1 --mask-mod "k_idx <= q_idx + 3"
el checks; ck
timeout -s KILL 150 /tmp/bn/tests/test_gpu_wgmma > $W/test_gpu_wgmma.txt 2>&1; echo "test_gpu_wgmma rc $?"; tail -1 $W/test_gpu_wgmma.txt
el tgw; ck
for round in 1 2; do
  for b in n o; do E=/tmp/b$b/effgen
    timeout -s KILL 80 $E bench --dtype bf16 --json $W/$b-dense-$round.json > $W/$b-dense-$round.txt 2>&1; echo "$b dense rc $?"
    timeout -s KILL 40 $E bench --d 128 --n 2048,8192 --causal 1 --window 255,0 --json $W/$b-win-$round.json > $W/$b-win-$round.txt 2>&1; echo "$b win rc $?"
    timeout -s KILL 40 $E bench --d 64 --n 512,1024,2048,4096 --causal 1 --config wg.bm192.bn128.c3.s2 --json $W/$b-c3-$round.json > $W/$b-c3-$round.txt 2>&1; echo "$b c3 rc $?"
  done
  el round$round; ck
done
timeout -s KILL 120 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"; el peers
for f in $W/n-dense-1.json $W/o-dense-1.json; do b=$(basename $f .json); $PY bench/ratios.py $f $W/peers-bf16.json > $W/ratios-$b.txt 2>&1; done; ck
$PY - "$W" <<'PY'
import json, sys, glob
W = sys.argv[1]
def load(pat):
    best = {}
    for f in glob.glob(f"{W}/{pat}-*.json"):
        for r in json.load(open(f))["rows"]:
            k = (r["D"], r["N"], r["mask"])
            best[k] = max(best.get(k, 0), r["tflops"])
    return best
pc = {}
for r in json.load(open(f"{W}/peers-bf16.json"))["rows"]:
    if "cudnn" in r["impl"]:
        pc[(r["D"], r["N"], r["mask"])] = r["tflops"]
for kind in ("dense", "win", "c3"):
    n, o = load("n-" + kind), load("o-" + kind)
    print(kind, "D N mask  old new new/old  old/cudnn new/cudnn")
    for k in sorted(n):
        c = pc.get(k)
        cs = f"{o.get(k,0)/c:.3f} {n[k]/c:.3f}" if c else ""
        print(" ", *k, f"{o.get(k,0):7.1f} {n[k]:7.1f} {n[k]/max(o.get(k,1),1e-9):.3f}", cs)
PY
el done
