#!/usr/bin/env bash
# the committed tree (build-dev of run 4, same machine): the mma suites beside the peers, bf16 and fp16
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db; W=$OUT; N=$PWD/build-dev/effgen; PY=$(command -v python3)
for dt in bf16 fp16; do timeout -s KILL 20 $N bench --arch sm_90 --dtype $dt --json $W/effgen-mma-$dt.json > $W/effgen-mma-$dt.txt 2>&1; echo "mma $dt rc $?"; done
for dt in bf16 fp16; do
  timeout -s KILL 40 $PY .dev/peers/peers.py --suite dense --dtype $dt --out $W/peers-$dt.json > $W/peers-$dt.log 2>&1; echo "peers $dt rc $?"
  $PY bench/ratios.py $W/effgen-mma-$dt.json $W/peers-$dt.json > $W/ratios-mma-$dt.txt 2>&1
  $PY .dev/peers/compare.py $W/effgen-mma-$dt.json $W/peers-$dt.json > $W/compare-mma-$dt.txt 2>&1
  grep -E "worst|^(none|causal) +(bf16|fp16) +256" $W/ratios-mma-$dt.txt
done
