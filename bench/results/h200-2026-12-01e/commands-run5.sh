#!/usr/bin/env bash
# the kept tree again beside the peers (a second sample of every dense row), and the mma.sync family in fp16
source .dev/device-env.sh
W=/tmp/w5; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r5.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
[ -x /tmp/bn/effgen ] || (cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j16 --target effgen_cli effgen 2>&1 | grep -E "error|warning:")
el built
export EFFGEN_DB=/nonexistent-dir/none.db
E=/tmp/bn/effgen
for dt in fp16 bf16; do
  timeout -s KILL 80 $E bench --dtype $dt --json $W/effgen-$dt.json > $W/effgen-$dt.txt 2>&1; echo "dense $dt rc $?"
  timeout -s KILL 120 $PY .dev/peers/peers.py --suite dense --dtype $dt --out $W/peers-$dt.json > $W/peers-$dt.log 2>&1; echo "peers $dt rc $?"
  $PY bench/ratios.py $W/effgen-$dt.json $W/peers-$dt.json > $W/ratios-$dt.txt 2>&1; $PY .dev/peers/compare.py $W/effgen-$dt.json $W/peers-$dt.json > $W/compare-$dt.txt 2>&1
  grep worst $W/ratios-$dt.txt $W/compare-$dt.txt
  el $dt; ck
done
timeout -s KILL 80 $E bench --arch sm_90 --dtype fp16 --json $W/effgen-mma-fp16.json > $W/effgen-mma-fp16.txt 2>&1; echo "mma rc $?"
$PY bench/ratios.py $W/effgen-mma-fp16.json $W/peers-fp16.json > $W/ratios-mma-fp16.txt 2>&1
$PY bench/families.py $W/effgen-fp16.json $W/effgen-mma-fp16.json > $W/families-fp16.txt 2>&1; tail -1 $W/families-fp16.txt
el done; ck
