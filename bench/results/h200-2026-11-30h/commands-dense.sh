#!/usr/bin/env bash
# the committed kernels: dense bf16 suite of both families beside the peers, in one run (bench/run.sh's steps, no tests)
source .dev/device-env.sh
W=/tmp/w50; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r50.tgz -C $W . ; }
export EFFGEN_DB=/nonexistent-dir/none.db
cmake -S . -B /tmp/b50 -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b50 -j16 --target effgen_cli effgen 2>&1 | grep -E "error|warning:"
E=/tmp/b50/effgen; $E info > $W/info.txt; el built
timeout -s KILL 80 $E bench --dtype bf16 --json $W/effgen-bf16.json > $W/effgen-bf16.txt 2>&1; echo "effgen rc $?"; el effgen; ck
timeout -s KILL 120 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"; el peers; ck
$PY .dev/peers/compare.py $W/effgen-bf16.json $W/peers-bf16.json > $W/compare-bf16.txt 2>&1
$PY bench/ratios.py $W/effgen-bf16.json $W/peers-bf16.json > $W/ratios-bf16.txt 2>&1; ck
timeout -s KILL 60 $E bench --arch sm_90 --dtype bf16 --json $W/effgen-mma-bf16.json > $W/effgen-mma-bf16.txt 2>&1; echo "mma rc $?"
$PY bench/ratios.py $W/effgen-mma-bf16.json $W/peers-bf16.json > $W/ratios-mma-bf16.txt 2>&1; el mma; ck
cat $W/ratios-bf16.txt | tail -40; tail -40 $W/ratios-mma-bf16.txt
