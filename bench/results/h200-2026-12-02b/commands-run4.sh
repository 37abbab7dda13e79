#!/usr/bin/env bash
# launch groups of the mma family's causal launches: spread + equal sizes (the tree) against HEAD (.dev/oldsrc);
# then test_gpu_attention and test_dispatch on the tree
source .dev/device-env.sh
W=/tmp/w47; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r47.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j12 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b-old -j4 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=/tmp/b-old/effgen
run() { # tag binary
  timeout -s KILL 60 $2 bench --arch sm_90 --dtype bf16 --causal 1 --json $W/$1-suite.json > $W/$1-suite.txt 2>&1 || echo "$1 suite failed"
  timeout -s KILL 60 $2 bench --arch sm_90 --dtype bf16 --causal 1 --d 80,96,160,192 --n 1024,4096,16384 --json $W/$1-dims.json > $W/$1-dims.txt 2>&1 || echo "$1 dims failed"
  ck
}
for r in 1 2 3; do run o-r$r $O; run n-r$r $N; el "round $r"; done
$PY .dev/ab.py $W o n | tee $W/ab.txt
el ab; ck
(cd build-dev && timeout -s KILL 280 ctest -R "test_gpu_attention|test_dispatch" --output-on-failure > $W/ctest.txt 2>&1; echo "ctest rc $?"); tail -5 $W/ctest.txt
el done; ck
