#!/usr/bin/env bash
# the committed tree: every GPU test; the mma dense suites (bf16, fp16) and head dims at 4k beside the peers
source .dev/device-env.sh
W=/tmp/w31; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r31.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j16 2>&1 | grep -E " error |warning:"
el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen
timeout -s KILL 90 $N bench --arch sm_90 --dtype bf16 --json $W/effgen-mma-bf16.json > $W/effgen-mma-bf16.txt 2>&1; echo "mma bf16 rc $?"
timeout -s KILL 90 $N bench --arch sm_90 --dtype fp16 --json $W/effgen-mma-fp16.json > $W/effgen-mma-fp16.txt 2>&1; echo "mma fp16 rc $?"
timeout -s KILL 60 $N bench --arch sm_90 --d 64,80,96,128,160,192,256 --n 4096 --dtype bf16,fp16 --json $W/effgen-dims.json > $W/effgen-dims.txt 2>&1; echo "dims rc $?"
el effgen; ck
for dt in bf16 fp16; do
  timeout -s KILL 100 $PY .dev/peers/peers.py --suite dense --dtype $dt --out $W/peers-$dt.json > $W/peers-$dt.log 2>&1; echo "peers $dt rc $?"
  $PY .dev/peers/compare.py $W/effgen-mma-$dt.json $W/peers-$dt.json > $W/compare-mma-$dt.txt 2>&1
  $PY bench/ratios.py $W/effgen-mma-$dt.json $W/peers-$dt.json > $W/ratios-mma-$dt.txt 2>&1; cat $W/ratios-mma-$dt.txt
done
el peers; ck
cd build-dev && timeout -s KILL 330 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest gpu rc $?"; tail -25 $W/ctest-gpu.txt; cd ..
el done; ck
