#!/usr/bin/env bash
# the mma.sync family's window bit mask again: A (the tree: low bits by a compare, not a funnel shift) and
# .dev/vB (A with the old compares kept as well); the tile tests on both; if A passes them, checks, the
# window A/B against HEAD (.dev/oldsrc) and ctest -L gpu on A
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w93; rm -rf $W; mkdir -p $W/win; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r93.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build build-dev -j8 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/vB -B /tmp/b-vb -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build /tmp/b-vb -j6 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build /tmp/b-old -j2 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
(cd build-dev && timeout -s KILL 60 ctest -R test_gpu_variants_tiles --output-on-failure > $W/tiles-A.txt 2>&1; echo "tiles A rc $?")
(cd /tmp/b-vb && timeout -s KILL 60 ctest -R test_gpu_variants_tiles --output-on-failure > $W/tiles-B.txt 2>&1; echo "tiles B rc $?")
grep -E "^FAIL|passed," $W/tiles-A.txt $W/tiles-B.txt | cut -c1-150
el tiles; ck
grep -q "^FAIL" $W/tiles-A.txt && { el "A fails: stop"; exit 0; }
B=$PWD/build-dev/effgen; O=/tmp/b-old/effgen
c() { local n=$1; shift; timeout -s KILL 90 $B check --arch sm_90 "$@" > $W/check-$n.txt 2>&1; echo "check $n rc $? $(tail -1 $W/check-$n.txt)"; }
c win --d 64,128 --causal 1 --window 255,0 --quick
c win2 --d 64,128 --causal 0 --window 127,127 --quick
c winab --d 64,128 --causal 1 --window 100,0 --alibi --kv-heads 2 --scale 8 --quick
c winvl --d 128 --causal both --window 255,0 --varlen 100,2000 --quick
el checks; ck
run() { local n=$1 x=$2
  timeout -s KILL 60 $x bench --arch sm_90 --d 64,128 --n 2048,8192 --causal 1 --window 255,0 --json $W/win/$n-win.json > $W/win/$n-win.txt 2>&1 || echo "$n win failed"
  timeout -s KILL 60 $x bench --arch sm_90 --d 64,128 --n 2048,8192 --causal 0 --window 127,127 --json $W/win/$n-win2.json > $W/win/$n-win2.txt 2>&1 || echo "$n win2 failed"
}
for r in 1 2 3; do run o-r$r $O; run n-r$r $B; el "round $r"; ck; done
echo "== mma window old vs A"; $PY .dev/ab.py $W/win o n | tee $W/ab-win.txt
el ab; ck
(cd build-dev && timeout -s KILL 300 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest rc $?"); tail -4 $W/ctest-gpu.txt
el done; ck
