#!/usr/bin/env bash
# causal launch-order groups spanning twice the heaviest block (runtime/launch.c) against HEAD (.dev/oldsrc):
# A/B on the causal rows, the bf16 suite beside the peers, head dims, every GPU test
source .dev/device-env.sh
W=/tmp/w35; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r35.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j12 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j4 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen
timeout -s KILL 40 $O bench --arch sm_90 --dtype bf16 --causal 1 --json $W/old-suite-r1.json > $W/old-suite-r1.txt 2>&1 || echo "old suite failed"
timeout -s KILL 30 $O bench --arch sm_90 --dtype bf16 --causal 1 --d 80,96,160,192 --n 4096 --json $W/old-dims-r1.json > $W/old-dims-r1.txt 2>&1 || echo "old dims failed"
timeout -s KILL 60 $N bench --arch sm_90 --dtype bf16 --json $W/new-suite-r1.json > $W/new-suite-r1.txt 2>&1; echo "suite rc $?"
timeout -s KILL 40 $N bench --arch sm_90 --dtype bf16 --d 64,80,96,128,160,192,256 --n 4096 --json $W/new-dims-r1.json > $W/new-dims-r1.txt 2>&1; echo "dims rc $?"
grep -E "^(none|causal)" $W/new-dims-r1.txt | awk '{print $1, $3, $11}' | paste - -
$PY .dev/ab.py $W old new | tee $W/ab.txt
el ab; ck
timeout -s KILL 60 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"
$PY .dev/peers/compare.py $W/new-suite-r1.json $W/peers-bf16.json > $W/compare-mma-bf16.txt 2>&1
$PY bench/ratios.py $W/new-suite-r1.json $W/peers-bf16.json > $W/ratios-mma-bf16.txt 2>&1; cat $W/ratios-mma-bf16.txt
el peers; ck
cd build-dev && timeout -s KILL $((445 - (SECONDS - t0))) ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest gpu rc $?"; tail -30 $W/ctest-gpu.txt | grep -E "Passed|Failed|tests passed|Total"; cd ..
el done; ck
