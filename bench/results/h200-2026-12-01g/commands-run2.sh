#!/usr/bin/env bash
# D = 64 on its previous producer order against the previous tree, then dense bf16/fp16, the mma family and the masks beside the peers
source .dev/device-env.sh
W=/tmp/wB; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/rB.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j13 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j3 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen
for r in 1 2; do
  timeout -s KILL 40 $O bench --dtype bf16 --d 64 --json $W/ab-o-d64-$r.json > $W/ab-o-d64-$r.txt 2>&1; echo "ab o $r rc $?"
  timeout -s KILL 40 $N bench --dtype bf16 --d 64 --json $W/ab-n-d64-$r.json > $W/ab-n-d64-$r.txt 2>&1; echo "ab n $r rc $?"
done
el ab; ck
for dt in bf16 fp16; do
  timeout -s KILL 80 $N bench --dtype $dt --json $W/effgen-$dt.json > $W/effgen-$dt.txt 2>&1; echo "dense $dt rc $?"
  timeout -s KILL 120 $PY .dev/peers/peers.py --suite dense --dtype $dt --out $W/peers-$dt.json > $W/peers-$dt.log 2>&1; echo "peers $dt rc $?"
  $PY bench/ratios.py $W/effgen-$dt.json $W/peers-$dt.json > $W/ratios-$dt.txt 2>&1; $PY .dev/peers/compare.py $W/effgen-$dt.json $W/peers-$dt.json > $W/compare-$dt.txt 2>&1
  grep worst $W/ratios-$dt.txt
  el $dt; ck
done
for dt in bf16 fp16; do
  timeout -s KILL 80 $N bench --arch sm_90 --dtype $dt --json $W/effgen-mma-$dt.json > $W/effgen-mma-$dt.txt 2>&1; echo "mma $dt rc $?"
  $PY bench/ratios.py $W/effgen-mma-$dt.json $W/peers-$dt.json > $W/ratios-mma-$dt.txt 2>&1; grep worst $W/ratios-mma-$dt.txt
  $PY bench/families.py $W/effgen-$dt.json $W/effgen-mma-$dt.json > $W/families-$dt.txt 2>&1; tail -2 $W/families-$dt.txt
done
el mma; ck
for m in "window --causal 1 --window 255,0" "alibi --causal 1 --alibi" "bias --causal 0 --bias b" "bsparse --causal 0 --bsparse 10,128"; do
  set -- $m; n=$1; shift
  timeout -s KILL 40 $N bench --d 128 --n 2048,8192 "$@" --json $W/m-$n.json > $W/m-$n.txt 2>&1; echo "masks $n rc $?"
done
$PY - "$W" <<'PY'
import json, glob, sys
W = sys.argv[1]; rows = []
for f in sorted(glob.glob(f"{W}/m-*.json")): rows += json.load(open(f))["rows"]
json.dump({"rows": rows}, open(f"{W}/effgen-masks.json", "w"), indent=1)
PY
timeout -s KILL 100 $PY .dev/peers/peers.py --suite masks --dtype bf16 --out $W/peers-masks.json > $W/peers-masks.log 2>&1; echo "peers masks rc $?"
$PY .dev/peers/compare.py $W/effgen-masks.json $W/peers-masks.json > $W/compare-masks.txt 2>&1; cat $W/compare-masks.txt
el done; ck
