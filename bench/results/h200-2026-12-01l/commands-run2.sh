#!/usr/bin/env bash
# mma pair layout: copies of the next tile spread over S = Q K^T; wg window: chained work tiles without ping-pong
source .dev/device-env.sh
W=/tmp/w18; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r18.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j8 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j4 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/srcx -B build-x -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-x -j4 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen; X=$PWD/build-x/effgen
timeout -s KILL 150 $N check --arch sm_90 --quick --d 192,256 --dtype bf16,fp16 --causal both > $W/check-pair.txt 2>&1; echo "check pair rc $? $(tail -1 $W/check-pair.txt)"
timeout -s KILL 100 $N check --arch sm_90 --quick --d 256 --dtype bf16 --causal 1 --scale 3 --kv-heads 2 > $W/check-pair-gqa.txt 2>&1; echo "check pair gqa rc $? $(tail -1 $W/check-pair-gqa.txt)"
timeout -s KILL 60 $X check --quick --d 128 --dtype bf16 --causal 1 --window 255,0 > $W/check-x-window.txt 2>&1; echo "check x window rc $? $(tail -1 $W/check-x-window.txt)"
el checks; ck
A="--d 128 --n 2048,8192 --causal 1 --window 255,0"
for r in 1 2 3; do
  timeout -s KILL 40 $O bench $A --json $W/wo-$r.json > /dev/null 2>&1; echo "o $r rc $?"
  timeout -s KILL 40 $X bench $A --json $W/wx-$r.json > /dev/null 2>&1; echo "x $r rc $?"
done
$PY .dev/ab.py $W wo- wx- | tee $W/ab-window.txt
el window; ck
for r in 1 2; do
  timeout -s KILL 70 $O bench --arch sm_90 --d 192,256 --json $W/mo-$r.json > $W/mo-$r.txt 2>&1; echo "mma o $r rc $?"
  timeout -s KILL 70 $N bench --arch sm_90 --d 192,256 --json $W/mn-$r.json > $W/mn-$r.txt 2>&1; echo "mma n $r rc $?"
done
$PY .dev/ab.py $W mo- mn- | tee $W/ab-mma.txt
el mma; ck
timeout -s KILL 150 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"
$PY bench/ratios.py $W/mn-1.json $W/peers-bf16.json > $W/ratios-mma-n-1.txt 2>&1; grep -E "^(none|causal) +bf16 +256|worst" $W/ratios-mma-n-1.txt
$PY bench/ratios.py $W/mn-2.json $W/peers-bf16.json > $W/ratios-mma-n-2.txt 2>&1; grep -E "^(none|causal) +bf16 +256|worst" $W/ratios-mma-n-2.txt
el done; ck
