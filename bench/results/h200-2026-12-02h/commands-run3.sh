#!/usr/bin/env bash
# the committed tree (ONE_BARRIER at D = 256): the mma dense suite beside the peers in bf16 and fp16, then ctest -L gpu
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w82; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r82.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build build-dev -j16 2>&1 | grep -E " error |warning:"
el built
B=$PWD/build-dev/effgen
for dt in bf16 fp16; do
  timeout -s KILL 60 $B bench --arch sm_90 --d 64,128,256 --causal both --dtype $dt --json $W/effgen-mma-$dt.json > $W/effgen-mma-$dt.txt 2>&1; echo "mma suite $dt rc $?"
  timeout -s KILL 90 $PY .dev/peers/peers.py --suite dense --dtype $dt --out $W/peers-$dt.json > $W/peers-$dt.log 2>&1; echo "peers $dt rc $?"
  $PY .dev/peers/compare.py $W/effgen-mma-$dt.json $W/peers-$dt.json > $W/compare-mma-$dt.txt 2>&1
  $PY bench/ratios.py $W/effgen-mma-$dt.json $W/peers-$dt.json > $W/ratios-mma-$dt.txt 2>&1; grep " 256 " $W/ratios-mma-$dt.txt | head -4; tail -2 $W/ratios-mma-$dt.txt
  el "suite $dt"; ck
done
(cd build-dev && timeout -s KILL 330 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest rc $?"); tail -4 $W/ctest-gpu.txt
el ctest; ck
