#!/usr/bin/env bash
# kept build (work record, O by TMA): dense bf16/fp16 beside the peers, window, all GPU tests; then the descriptor-offset variant d: checks and timing beside it
source .dev/device-env.sh
W=/tmp/w4; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r4.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv > $W/info.txt
(cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j10 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/srcD -B /tmp/bd -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bd -j6 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
for dt in bf16 fp16; do
  timeout -s KILL 80 /tmp/bn/effgen bench --dtype $dt --json $W/effgen-$dt.json > $W/effgen-$dt.txt 2>&1; echo "dense $dt rc $?"
  timeout -s KILL 120 $PY .dev/peers/peers.py --suite dense --dtype $dt --out $W/peers-$dt.json > $W/peers-$dt.log 2>&1; echo "peers $dt rc $?"
  $PY bench/ratios.py $W/effgen-$dt.json $W/peers-$dt.json > $W/ratios-$dt.txt 2>&1; $PY .dev/peers/compare.py $W/effgen-$dt.json $W/peers-$dt.json > $W/compare-$dt.txt 2>&1
  grep worst $W/ratios-$dt.txt
done
timeout -s KILL 40 /tmp/bn/effgen bench --d 128 --n 2048,8192 --causal 1 --window 255,0 --json $W/effgen-window.json > $W/effgen-window.txt 2>&1; echo "window rc $?"
el timing; ck
(cd /tmp/bn && timeout -s KILL 330 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest gpu rc $?"); tail -4 $W/ctest-gpu.txt
el ctest; ck
D=/tmp/bd/effgen
ch() { local n=$1; shift; timeout -s KILL 60 $D check --quick "$@" > $W/d-check-$n.txt 2>&1; echo "d check $n rc $? $(tail -1 $W/d-check-$n.txt)"; }
ch dense --d 64,96,128,256 --dtype bf16 --causal both
ch varlen --d 64,128 --causal 1 --varlen 1,700 --kv-heads 2
ch bias --d 128 --causal both --bias b
el dchecks; ck
for r in 1 2; do for b in d n; do timeout -s KILL 60 /tmp/b$b/effgen bench --dtype bf16 --json $W/ab-$b-$r.json > $W/ab-$b-$r.txt 2>&1; echo "$b ab rc $?"; done; done
$PY - "$W" <<'PY'
import json, sys, glob, math
W = sys.argv[1]
def best(b):
    d = {}
    for f in glob.glob(f"{W}/ab-{b}-*.json"):
        for r in json.load(open(f))["rows"]:
            k = (r["D"], r["N"], r["mask"]); d[k] = max(d.get(k, 0), r["tflops"])
    return d
n, d = best("n"), best("d")
ls = []
for k in sorted(n):
    ls.append(math.log(d[k] / n[k])); print(f"D={k[0]:3d} N={k[1]:5d} {k[2]:6s} kept {n[k]:6.1f} desc {d[k]:6.1f} x{d[k]/n[k]:.3f}")
print("geomean", round(math.exp(sum(ls) / len(ls)), 4))
PY
el done; ck
