#!/usr/bin/env bash
# pipelined mma loop (16-row warps, s2): checks, then bm128.bn64.w8.s2 old (plain) vs new (pipe), defaults, beside FA2
source .dev/device-env.sh
W=/tmp/w68; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r68.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv > $W/info.txt
(cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j16 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/bo -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bo -j16 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=/tmp/bn/effgen; O=/tmp/bo/effgen
C=bm128.bn64.w8.s2
timeout -s KILL 100 $N check --arch sm_90 --quick --d 64,128,192,256 --dtype bf16,fp16 --causal both --config $C > $W/check-pipe.txt 2>&1; echo "check rc $?"; tail -1 $W/check-pipe.txt
timeout -s KILL 60 $N check --arch sm_90 --quick --d 128,256 --causal both --kv-heads 2 --scale 3 --config $C > $W/check-pipe-gqa-scale3.txt 2>&1; echo "check gqa rc $?"; tail -1 $W/check-pipe-gqa-scale3.txt
timeout -s KILL 60 $N check --arch sm_90 --quick --d 64,128 --causal both --config bm64.bn32.w4.s2 > $W/check-pipe-small.txt 2>&1; echo "check small rc $?"; tail -1 $W/check-pipe-small.txt
grep -m5 -i "fail" $W/check-pipe*.txt
el checks; ck
for round in 1 2; do
  for b in n o; do E=/tmp/b$b/effgen
    timeout -s KILL 80 $E bench --arch sm_90 --d 64,128,256 --dtype bf16 --config $C --json $W/$b-pipe-$round.json > $W/$b-pipe-$round.txt 2>&1; echo "$b pipe rc $?"
  done
  timeout -s KILL 80 $O bench --arch sm_90 --d 64,128,256 --dtype bf16 --json $W/o-def-$round.json > $W/o-def-$round.txt 2>&1; echo "o def rc $?"
  el round$round; ck
done
timeout -s KILL 120 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"; el peers
for f in $W/*-1.json $W/*-2.json; do b=$(basename $f .json); $PY bench/ratios.py $f $W/peers-bf16.json > $W/ratios-$b.txt 2>&1; done; ck
$PY - "$W" <<'PY'
import json, sys, glob
W = sys.argv[1]
def load(n):
    best = {}
    for f in glob.glob(f"{W}/{n}-*.json"):
        d = json.load(open(f)); rows = d if isinstance(d, list) else d.get("rows", d)
        for r in rows:
            k = (r["D"], r["N"], r["mask"])
            best[k] = max(best.get(k, 0), r["tflops"])
    return best
n, o, d = load("n-pipe"), load("o-pipe"), load("o-def")
print("D N causal  plain(old)  pipe(new)  default(old)  pipe/plain  pipe/default")
for k in sorted(n):
    print(*k, f"{o.get(k,0):8.1f} {n[k]:8.1f} {d.get(k,0):8.1f}  {n[k]/max(o.get(k,1),1e-9):.3f}  {n[k]/max(d.get(k,1),1e-9):.3f}")
PY
el done
