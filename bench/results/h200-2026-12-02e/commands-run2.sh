#!/usr/bin/env bash
# the pair layout's O stores without a test each where the warp's 32 rows are inside (the tree) against HEAD
# (.dev/oldsrc): checks, D = 192 / 256 A/B; the mma.sync dense suites of both builds beside the peers (bf16, fp16)
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w61; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r61.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build build-dev -j11 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build /tmp/b-old -j5 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
B=$PWD/build-dev/effgen; O=/tmp/b-old/effgen
timeout -s KILL 90 $B check --arch sm_90 --d 192,256 --causal both > $W/check-pair.txt 2>&1; echo "check pair rc $? $(tail -1 $W/check-pair.txt)"
timeout -s KILL 90 $B check --arch sm_90 --d 256 --dtype fp16 --causal both --quick > $W/check-pair16.txt 2>&1; echo "check pair16 rc $? $(tail -1 $W/check-pair16.txt)"
el checks; ck
run() { local n=$1 x=$2
  timeout -s KILL 60 $x bench --arch sm_90 --dtype bf16 --d 192,256 --causal both --json $W/$n-pair.json > $W/$n-pair.txt 2>&1 || echo "$n pair failed"
  ck; }
for r in 1 2 3; do run o-r$r $O; run n-r$r $B; el "round $r"; done
mkdir -p $W/ab; cp $W/[on]-r*.json $W/ab/; $PY .dev/ab.py $W/ab o n | tee $W/ab.txt; rm -rf $W/ab
el ab; ck
for dt in bf16 fp16; do
  timeout -s KILL 60 $O bench --arch sm_90 --dtype $dt --json $W/old-mma-$dt.json > $W/old-mma-$dt.txt 2>&1; echo "old mma $dt rc $?"
  timeout -s KILL 60 $B bench --arch sm_90 --dtype $dt --json $W/effgen-mma-$dt.json > $W/effgen-mma-$dt.txt 2>&1; echo "mma $dt rc $?"
  timeout -s KILL 70 $PY .dev/peers/peers.py --suite dense --dtype $dt --out $W/peers-$dt.json > $W/peers-$dt.log 2>&1; echo "peers $dt rc $?"
  for v in old effgen; do
    $PY .dev/peers/compare.py $W/$v-mma-$dt.json $W/peers-$dt.json > $W/compare-$v-mma-$dt.txt 2>&1
    $PY bench/ratios.py $W/$v-mma-$dt.json $W/peers-$dt.json > $W/ratios-$v-mma-$dt.txt 2>&1
    echo "== $v $dt"; grep -E "worst|^(none|causal) +(bf16|fp16) +(256) +(512|1024) " $W/ratios-$v-mma-$dt.txt
  done
  el $dt; ck
done
