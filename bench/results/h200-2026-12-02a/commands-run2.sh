#!/usr/bin/env bash
# the pair layout's last tile peeled: no block barrier after it, a causal pair whose rows end before it skips it
# against HEAD (.dev/oldsrc); then, if it pays, the suites beside the peers (bf16, fp16) and the head dims
source .dev/device-env.sh
W=/tmp/w40; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r40.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j12 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b-old -j4 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=/tmp/b-old/effgen
timeout -s KILL 80 $N check --arch sm_90 --d 192,256 --dtype bf16,fp16 --causal both > $W/check-new.txt 2>&1; echo "check rc $?"; tail -1 $W/check-new.txt
el check; ck
for r in 1 2; do
  timeout -s KILL 50 $O bench --arch sm_90 --d 192,256 --dtype bf16,fp16 --causal both --json $W/lo-r$r.json > $W/lo-r$r.txt 2>&1; echo "lo r$r rc $?"
  timeout -s KILL 50 $N bench --arch sm_90 --d 192,256 --dtype bf16,fp16 --causal both --json $W/ln-r$r.json > $W/ln-r$r.txt 2>&1; echo "ln r$r rc $?"
  el "round $r"; ck
done
$PY .dev/ab.py $W lo ln | tee $W/ab-last.txt
g=$(tail -1 $W/ab-last.txt | awk '{print $2}')
if awk -v g="$g" 'BEGIN{exit !(g >= 1.0)}'; then
  timeout -s KILL 90 $N bench --arch sm_90 --dtype bf16 --json $W/effgen-mma-bf16.json > $W/effgen-mma-bf16.txt 2>&1; echo "mma bf16 rc $?"
  timeout -s KILL 90 $N bench --arch sm_90 --dtype fp16 --json $W/effgen-mma-fp16.json > $W/effgen-mma-fp16.txt 2>&1; echo "mma fp16 rc $?"
  el suites; ck
  for dt in bf16 fp16; do
    timeout -s KILL 110 $PY .dev/peers/peers.py --suite dense --dtype $dt --out $W/peers-$dt.json > $W/peers-$dt.log 2>&1; echo "peers $dt rc $?"
    $PY .dev/peers/compare.py $W/effgen-mma-$dt.json $W/peers-$dt.json > $W/compare-mma-$dt.txt 2>&1
    $PY bench/ratios.py $W/effgen-mma-$dt.json $W/peers-$dt.json > $W/ratios-mma-$dt.txt 2>&1; cat $W/ratios-mma-$dt.txt
    el "peers $dt"; ck
  done
  timeout -s KILL 60 $N bench --arch sm_90 --d 64,80,96,128,160,192,256 --n 4096 --dtype bf16,fp16 --json $W/effgen-dims.json > $W/effgen-dims.txt 2>&1; echo "dims rc $?"
fi
el done; ck
