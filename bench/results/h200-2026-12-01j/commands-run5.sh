#!/usr/bin/env bash
# the walk section with a bit mask and expressions inside the window; Nsight Compute of the window, previous tree and this one
source .dev/device-env.sh
W=/tmp/w5; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r5.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j12 --target effgen_cli effgen test_gpu_wgmma 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j4 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
timeout -s KILL 300 build-dev/tests/test_gpu_wgmma walk > $W/walk.txt 2>&1; echo "walk rc $? $(tail -1 $W/walk.txt)"; grep FAIL $W/walk.txt | head; el walk; ck
prof() { # name, cmd...
  local n=$1; shift
  timeout -s KILL 100 ncu --clock-control none -k regex:effgen_attn_fwd --launch-skip 3 --launch-count 1 --set full -o $W/$n -f "$@" > $W/$n.log 2>&1; echo "$n rc $?"
  ncu -i $W/$n.ncu-rep --page details > $W/$n.txt 2>&1
  ncu -i $W/$n.ncu-rep --page source --print-source sass --csv > $W/$n-sass.csv 2>&1
  $PY bench/ncu_stalls.py $W/$n-sass.csv 50 > $W/$n-stalls.txt; rm -f $W/$n.ncu-rep; gzip -f $W/$n-sass.csv
  grep -E "Duration|DRAM Throughput|L2 Cache Throughput|Issue Slots Busy|highest-utilized" $W/$n.txt | head -8
  el $n; ck
}
prof win2k-old build-old/effgen bench --d 128 --n 2048 --causal 1 --window 255,0 --reps 3
prof win2k-new build-dev/effgen bench --d 128 --n 2048 --causal 1 --window 255,0 --reps 3
el done; ck
