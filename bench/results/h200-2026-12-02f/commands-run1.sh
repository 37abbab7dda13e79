#!/usr/bin/env bash
# A/B of HEAD (.dev/oldsrc), the tree (V's extra stage for strip kernels) and .dev/vG (the tree plus mask
# compares only in column groups a warp's bounds cross); checks; the mma family's D = 256 configs at short N
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w66; rm -rf $W; mkdir -p $W/win $W/dense $W/sweep; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r66.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build build-dev -j8 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build /tmp/b-old -j4 --target effgen_cli 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/vG -B /tmp/b-g -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build /tmp/b-g -j4 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
B=$PWD/build-dev/effgen; O=/tmp/b-old/effgen; G=/tmp/b-g/effgen
c() { local x=$1 n=$2; shift 2; timeout -s KILL 90 $x check "$@" > $W/check-$n.txt 2>&1; echo "check $n rc $? $(tail -1 $W/check-$n.txt)"; }
for v in B G; do x=${!v}
c $x $v-win --d 64,128 --causal 1 --window 255,0 --quick
c $x $v-win2 --d 128 --causal 0 --window 127,127 --quick
c $x $v-winab --d 128 --causal 1 --window 100,0 --alibi --kv-heads 2 --scale 8 --quick
c $x $v-winvl --d 128 --causal 1 --window 255,0 --varlen 100,2000 --quick
c $x $v-winab2 --d 80,128 --causal 0 --window 127,127 --alibi --quick
c $x $v-winsc --d 96,128 --causal 1 --window 30,5 --softcap 30 --quick
done
c $G G-dense --d 128,192 --causal both --quick
c $G G-dense16 --d 128 --dtype fp16 --causal both --quick
c $G G-vl --d 128 --causal both --varlen 1,3000 --quick
c $G G-sc --d 128 --causal 1 --softcap 30 --kv-heads 4 --quick
el checks; ck
run() { local n=$1 x=$2
  timeout -s KILL 40 $x bench --d 128 --n 2048,8192 --causal 1 --window 255,0 --json $W/win/$n-win.json > $W/win/$n-win.txt 2>&1 || echo "$n win failed"
  timeout -s KILL 40 $x bench --d 128 --n 2048,8192 --causal 0 --window 127,127 --json $W/win/$n-win2.json > $W/win/$n-win2.txt 2>&1 || echo "$n win2 failed"
}
for r in 1 2 3; do run o-r$r $O; run n-r$r $B; run g-r$r $G; el "round $r"; ck; done
echo "== old vs tree"; $PY .dev/ab.py $W/win o n | tee $W/ab-win-n.txt
echo "== old vs G"; $PY .dev/ab.py $W/win o g | tee $W/ab-win-g.txt
for r in 1 2; do
  timeout -s KILL 60 $O bench --d 128 --causal 1 --json $W/dense/o-r$r.json > $W/dense/o-r$r.txt 2>&1 || echo "old dense failed"
  timeout -s KILL 60 $G bench --d 128 --causal 1 --json $W/dense/g-r$r.json > $W/dense/g-r$r.txt 2>&1 || echo "G dense failed"
  el "dense round $r"; ck
done
echo "== dense causal D128 old vs G"; $PY .dev/ab.py $W/dense o g | tee $W/ab-dense-g.txt
el ab; ck
for cfg in bm128.bn64.w8.s2.d2 bm128.bn64.w8.s2 bm128.bn32.w8.s2.d2 bm128.bn32.w8.s3.d2 bm64.bn64.w4.s2 bm64.bn32.w4.s2 bm64.bn64.w4.s1 bm64.bn32.w4.s3 bm64.bn64.w4.s2.d2 bm128.bn32.w8.s2 bm64.bn128.w4.s1; do
  for r in 1 2; do timeout -s KILL 40 $B bench --arch sm_90 --d 256 --n 512,1024 --causal 0 --config $cfg --json $W/sweep/$cfg-r$r.json > $W/sweep/$cfg-r$r.txt 2>&1 || echo "$cfg failed"; done
done
$PY - $W/sweep <<'PY' | tee $W/sweep.txt
import json, glob, sys, os, collections
best = collections.defaultdict(dict)
for f in glob.glob(sys.argv[1] + "/*.json"):
    cfg = os.path.basename(f).rsplit("-r", 1)[0]
    for r in json.load(open(f))["rows"]:
        best[cfg][r["N"]] = max(best[cfg].get(r["N"], 0), r["tflops"])
for cfg, d in sorted(best.items(), key=lambda kv: -kv[1].get(512, 0)):
    print(f"{cfg:24s}", "  ".join(f"N{n} {v:6.1f}" for n, v in sorted(d.items())))
PY
el done; ck
