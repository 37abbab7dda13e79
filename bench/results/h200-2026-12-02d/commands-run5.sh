#!/usr/bin/env bash
# half key tiles for the window (the tree) against HEAD (.dev/oldsrc): checks, window A/B; then the GPU tests and
# masks suite beside the peers on the tree
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w59; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r59.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build build-dev -j11 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build /tmp/b-old -j5 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
B=$PWD/build-dev/effgen; O=/tmp/b-old/effgen
c() { local n=$1; shift; timeout -s KILL 60 $B check "$@" > $W/check-$n.txt 2>&1; echo "check $n rc $? $(tail -1 $W/check-$n.txt)"; }
c win --d 64,128 --causal 1 --window 255,0 --quick
c win2 --d 128 --causal 0 --window 127,127 --quick
c winab --d 128 --causal 1 --window 100,0 --alibi --kv-heads 2 --scale 8 --quick
c winvl --d 128 --causal 1 --window 255,0 --varlen 100,2000 --quick
el checks; ck
run() { local n=$1 x=$2
  timeout -s KILL 40 $x bench --d 128 --n 2048,8192 --causal 1 --window 255,0 --json $W/$n-win.json > $W/$n-win.txt 2>&1 || echo "$n win failed"
  timeout -s KILL 40 $x bench --d 128 --n 2048,8192 --causal 0 --window 127,127 --json $W/$n-win2.json > $W/$n-win2.txt 2>&1 || echo "$n win2 failed"
  ck; }
for r in 1 2; do run o-r$r $O; run n-r$r $B; el "round $r"; done
mkdir -p $W/ab; cp $W/*.json $W/ab/; $PY .dev/ab.py $W/ab o n | tee $W/ab.txt; rm -rf $W/ab
el ab; ck
(cd build-dev && timeout -s KILL 330 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest gpu rc $?"); grep -E "tests passed|Total Test" $W/ctest-gpu.txt
el ctest; ck
