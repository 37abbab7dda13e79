#!/usr/bin/env bash
# chained work tiles in the wg family: A/B against the committed tree, then the wgmma GPU tests
source .dev/device-env.sh
W=/tmp/w17; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r17.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j12 --target effgen_cli effgen test_gpu_wgmma 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j4 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen
timeout -s KILL 60 $N check --quick --d 128 --dtype bf16 --causal 1 --window 255,0 > $W/check-window.txt 2>&1; echo "check window rc $? $(tail -1 $W/check-window.txt)"
timeout -s KILL 90 $N check --quick --dtype bf16 > $W/check-dense.txt 2>&1; echo "check dense rc $? $(tail -1 $W/check-dense.txt)"
el checks; ck
A="--d 128 --n 2048,8192 --causal 1 --window 255,0"
for r in 1 2 3; do
  timeout -s KILL 40 $O bench $A --json $W/wo-$r.json > /dev/null 2>&1; echo "o $r rc $?"
  timeout -s KILL 40 $N bench $A --json $W/wn-$r.json > /dev/null 2>&1; echo "n $r rc $?"
done
$PY .dev/ab.py $W wo- wn- | tee $W/ab-window.txt
el window; ck
for r in 1 2; do
  timeout -s KILL 90 $O bench --dtype bf16 --json $W/do-$r.json > $W/do-$r.txt 2>&1; echo "dense o $r rc $?"
  timeout -s KILL 90 $N bench --dtype bf16 --json $W/dn-$r.json > $W/dn-$r.txt 2>&1; echo "dense n $r rc $?"
done
$PY .dev/ab.py $W do- dn- | tee $W/ab-dense.txt
el dense; ck
for m in "alibi --causal 1 --alibi" "bias --causal 0 --bias b" "bsparse --causal 0 --bsparse 10,128"; do
  set -- $m; n=$1; shift
  timeout -s KILL 40 $O bench --d 128 --n 2048,8192 "$@" --json $W/mo-$n.json > /dev/null 2>&1
  timeout -s KILL 40 $N bench --d 128 --n 2048,8192 "$@" --json $W/mn-$n.json > /dev/null 2>&1; echo "masks $n rc $?"
done
$PY .dev/ab.py $W mo- mn- | tee $W/ab-masks.txt
el masks; ck
(cd build-dev && timeout -s KILL 240 ctest -R test_gpu_wgmma -j8 --output-on-failure > $W/ctest-wgmma.txt 2>&1; echo "ctest wgmma rc $?"); tail -15 $W/ctest-wgmma.txt
el done; ck
