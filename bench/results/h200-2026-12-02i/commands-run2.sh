#!/usr/bin/env bash
# the tree (the wg mask as one bit mask per row, window kernels only): checks, A/B against HEAD (.dev/oldsrc) on
# the windows, the masks suite beside the peers, ctest -L gpu
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w91; rm -rf $W; mkdir -p $W/win; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r91.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build build-dev -j12 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build /tmp/b-old -j4 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
B=$PWD/build-dev/effgen; O=/tmp/b-old/effgen
c() { local n=$1; shift; timeout -s KILL 90 $B check "$@" > $W/check-$n.txt 2>&1; echo "check $n rc $? $(tail -1 $W/check-$n.txt)"; }
c win --d 64,96,128 --causal 1 --window 255,0 --quick
c win2 --d 64,128 --causal 0 --window 127,127 --quick
c win16 --d 80,128 --dtype fp16 --causal both --window 200,17 --quick
c winab --d 64,128 --causal 1 --window 100,0 --alibi --kv-heads 2 --scale 8 --quick
c winvl --d 128 --causal both --window 255,0 --varlen 100,2000 --quick
c winsc --d 96,128 --causal 1 --window 30,5 --softcap 30 --quick
c winwide --d 128 --causal 0 --window 1000,3 --quick
el checks; ck
run() { local n=$1 x=$2
  timeout -s KILL 40 $x bench --d 128 --n 2048,8192 --causal 1 --window 255,0 --json $W/win/$n-win.json > $W/win/$n-win.txt 2>&1 || echo "$n win failed"
  timeout -s KILL 40 $x bench --d 128 --n 2048,8192 --causal 0 --window 127,127 --json $W/win/$n-win2.json > $W/win/$n-win2.txt 2>&1 || echo "$n win2 failed"
}
for r in 1 2 3; do run o-r$r $O; run n-r$r $B; el "round $r"; ck; done
echo "== window old vs tree"; $PY .dev/ab.py $W/win o n | tee $W/ab-win.txt
el ab; ck
for m in "window --causal 1 --window 255,0" "window2 --causal 0 --window 127,127" "alibi --causal 1 --alibi" "bias --causal 0 --bias b" "bsparse --causal 0 --bsparse 10,128"; do
  set -- $m; n=$1; shift
  timeout -s KILL 40 $B bench --d 128 --n 2048,8192 "$@" --json $W/m-$n.json > $W/m-$n.txt 2>&1; echo "masks $n rc $?"
done
$PY - "$W" <<'PY'
import json, glob, sys
W = sys.argv[1]; rows = []
for f in sorted(glob.glob(f"{W}/m-*.json")): rows += json.load(open(f))["rows"]
json.dump({"rows": rows}, open(f"{W}/effgen-masks.json", "w"), indent=1)
PY
timeout -s KILL 150 $PY .dev/peers/peers.py --suite masks --dtype bf16 --out $W/peers-masks.json > $W/peers-masks.log 2>&1; echo "peers masks rc $?"
$PY .dev/peers/compare.py $W/effgen-masks.json $W/peers-masks.json > $W/compare-masks.txt 2>&1
$PY bench/ratios.py $W/effgen-masks.json $W/peers-masks.json > $W/ratios-masks.txt 2>&1; cat $W/compare-masks.txt
el masks; ck
(cd build-dev && timeout -s KILL 330 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest rc $?"); tail -4 $W/ctest-gpu.txt
el done; ck
