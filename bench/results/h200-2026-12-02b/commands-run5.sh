#!/usr/bin/env bash
# the tree with the new launch groups: the mma suites beside the peers (bf16, fp16), head dims at 4k
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w48; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
ck() { tar czf $OUT/r48.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j16 --target effgen_cli 2>&1 | grep -E " error |warning:"
N=$PWD/build-dev/effgen
for dt in bf16 fp16; do timeout -s KILL 40 $N bench --arch sm_90 --dtype $dt --json $W/effgen-mma-$dt.json > $W/effgen-mma-$dt.txt 2>&1; echo "mma $dt rc $?"; done
timeout -s KILL 40 $N bench --arch sm_90 --dtype bf16 --causal both --d 64,80,96,128,160,192,256 --n 4096 --json $W/effgen-dims.json > $W/effgen-dims.txt 2>&1; echo "dims rc $?"
ck
for dt in bf16 fp16; do
  timeout -s KILL 60 $PY .dev/peers/peers.py --suite dense --dtype $dt --out $W/peers-$dt.json > $W/peers-$dt.log 2>&1; echo "peers $dt rc $?"
  $PY bench/ratios.py $W/effgen-mma-$dt.json $W/peers-$dt.json > $W/ratios-mma-$dt.txt 2>&1
  $PY .dev/peers/compare.py $W/effgen-mma-$dt.json $W/peers-$dt.json > $W/compare-mma-$dt.txt 2>&1
  grep -E "worst|^(none|causal) +(bf16|fp16) +(64|128|256)" $W/ratios-mma-$dt.txt
  ck
done
grep -v "^#" $W/effgen-dims.txt
