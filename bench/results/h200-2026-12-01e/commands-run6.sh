#!/usr/bin/env bash
# Q in registers for S = Q K^T (n) beside the committed build (o): checks, dense bf16 and fp16 A/B in both orders, peers beside
source .dev/device-env.sh
W=/tmp/w6; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r6.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
rm -rf /tmp/bn /tmp/bo
(cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j16 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/bo -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bo -j8 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=/tmp/bn/effgen
ch() { local n=$1; shift; timeout -s KILL 60 $N check --quick "$@" > $W/check-$n.txt 2>&1; echo "check $n rc $? $(tail -1 $W/check-$n.txt)"; }
ch dense --d 64,96,128 --dtype bf16,fp16 --causal both --config wg.bm128.bn128.c2.s2
ch scale --d 72,128 --causal both --scale 4
ch varlen --d 64,128 --causal both --varlen 1,700 --kv-heads 2
ch window --d 80 --causal 1 --window 100,20 --alibi
ch small --d 8,40,56 --causal both --config wg.bm128.bn128.c2.s3
ch bias --d 64 --causal 1 --bias b --config wg.bm128.bn128.c2.s2
el checks; ck
for dt in bf16 fp16; do for b in n o; do
  timeout -s KILL 60 /tmp/b$b/effgen bench --dtype $dt --json $W/ab-$dt-$b-1.json > $W/ab-$dt-$b-1.txt 2>&1; echo "ab $dt $b rc $?"
  if [ $b = n ]; then timeout -s KILL 100 $PY .dev/peers/peers.py --suite dense --dtype $dt --out $W/peers-$dt.json > $W/peers-$dt.log 2>&1; echo "peers $dt rc $?"; fi
done; el $dt; ck; done
$PY - "$W" <<'PY'
import json, sys, glob, math
W = sys.argv[1]
for dt in ("bf16", "fp16"):
    def best(b):
        d = {}
        for f in glob.glob(f"{W}/ab-{dt}-{b}-*.json"):
            for r in json.load(open(f))["rows"]:
                k = (r["D"], r["N"], r["mask"]); d[k] = max(d.get(k, 0), r["tflops"])
        return d
    n, o = best("n"), best("o"); ls = []
    with open(f"{W}/ab-{dt}.txt", "w") as out:
        for k in sorted(n):
            ls.append(math.log(n[k] / o[k])); out.write(f"D={k[0]:3d} N={k[1]:5d} {k[2]:6s} committed {o[k]:6.1f} qreg {n[k]:6.1f} x{n[k]/o[k]:.3f}\n")
        out.write(f"geomean {math.exp(sum(ls)/len(ls)):.4f}\n")
    print(dt, "geomean", round(math.exp(sum(ls) / len(ls)), 4))
PY
for dt in bf16 fp16; do $PY .dev/peers/compare.py $W/ab-$dt-n-1.json $W/peers-$dt.json > $W/compare-$dt.txt 2>&1; $PY bench/ratios.py $W/ab-$dt-n-1.json $W/peers-$dt.json > $W/ratios-$dt.txt 2>&1; grep worst $W/ratios-$dt.txt | tail -1; done
el timing; ck
(cd /tmp/bn && timeout -s KILL 290 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest gpu rc $?"); tail -4 $W/ctest-gpu.txt
el done; ck
