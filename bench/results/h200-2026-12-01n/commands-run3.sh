#!/usr/bin/env bash
# CSKIP A/B (old = HEAD in .dev/oldsrc): causal mma rows bf16 + dims at 4k, peers, then every GPU test on the new tree
source .dev/device-env.sh
W=/tmp/w29; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r29.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j10 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/build-old -j6 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=/tmp/build-old/effgen
for r in 1 2; do
  timeout -s KILL 60 $O bench --arch sm_90 --dtype bf16 --causal 1 --json $W/old-r$r.json > $W/old-r$r.txt 2>&1; echo "old r$r rc $?"
  timeout -s KILL 60 $N bench --arch sm_90 --dtype bf16 --causal 1 --json $W/new-r$r.json > $W/new-r$r.txt 2>&1; echo "new r$r rc $?"
done
timeout -s KILL 60 $O bench --arch sm_90 --d 64,80,96,128,160 --n 4096 --dtype bf16 --causal 1 --json $W/old-dims.json > $W/old-dims.txt 2>&1; echo "old dims rc $?"
timeout -s KILL 60 $N bench --arch sm_90 --d 64,80,96,128,160 --n 4096 --dtype bf16 --causal 1 --json $W/new-dims.json > $W/new-dims.txt 2>&1; echo "new dims rc $?"
$PY .dev/ab.py $W old new | tee $W/ab.txt
el ab; ck
timeout -s KILL 100 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"
timeout -s KILL 60 $N bench --arch sm_90 --dtype bf16 --json $W/effgen-mma-bf16.json > $W/effgen-mma-bf16.txt 2>&1; echo "suite rc $?"
$PY bench/ratios.py $W/effgen-mma-bf16.json $W/peers-bf16.json > $W/ratios-mma-bf16.txt 2>&1; grep causal $W/ratios-mma-bf16.txt
el peers; ck
cd build-dev && timeout -s KILL 290 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest gpu rc $?"; grep -E "tests passed|Failed|Passed" $W/ctest-gpu.txt | tail -30; cd ..
el done; ck
