#!/usr/bin/env bash
# final tree: pair layout's last causal tile apart (LAST_APART), no block barrier after the last tile.
# A/B of the no-mask kernels against HEAD (.dev/oldsrc); suites beside the peers; all GPU tests; head dims
source .dev/device-env.sh
W=/tmp/w41; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r41.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j14 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b-old -j2 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=/tmp/b-old/effgen
for r in 1 2; do
  timeout -s KILL 40 $O bench --arch sm_90 --d 192,256 --dtype bf16,fp16 --causal 0 --json $W/no-r$r.json > $W/no-r$r.txt 2>&1; echo "no r$r rc $?"
  timeout -s KILL 40 $N bench --arch sm_90 --d 192,256 --dtype bf16,fp16 --causal 0 --json $W/nn-r$r.json > $W/nn-r$r.txt 2>&1; echo "nn r$r rc $?"
  el "round $r"; ck
done
$PY .dev/ab.py $W no nn | tee $W/ab-none.txt
timeout -s KILL 60 $N bench --arch sm_90 --dtype bf16 --json $W/effgen-mma-bf16.json > $W/effgen-mma-bf16.txt 2>&1; echo "mma bf16 rc $?"
timeout -s KILL 60 $N bench --arch sm_90 --dtype fp16 --json $W/effgen-mma-fp16.json > $W/effgen-mma-fp16.txt 2>&1; echo "mma fp16 rc $?"
el suites; ck
for dt in bf16 fp16; do
  timeout -s KILL 90 $PY .dev/peers/peers.py --suite dense --dtype $dt --out $W/peers-$dt.json > $W/peers-$dt.log 2>&1; echo "peers $dt rc $?"
  $PY .dev/peers/compare.py $W/effgen-mma-$dt.json $W/peers-$dt.json > $W/compare-mma-$dt.txt 2>&1
  $PY bench/ratios.py $W/effgen-mma-$dt.json $W/peers-$dt.json > $W/ratios-mma-$dt.txt 2>&1; grep -E "worst|^(none|causal) +(bf16|fp16) +256" $W/ratios-mma-$dt.txt
  el "peers $dt"; ck
done
cd build-dev && timeout -s KILL 290 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest gpu rc $?"; grep -E "tests passed|Failed|Total Test" $W/ctest-gpu.txt; cd ..
el ctest; ck
timeout -s KILL 40 $N bench --arch sm_90 --d 64,80,96,128,160,192,256 --n 4096 --dtype bf16 --json $W/effgen-dims.json > $W/effgen-dims.txt 2>&1; echo "dims rc $?"
el done; ck
