#!/usr/bin/env bash
# the kept tree beside the peers: dense bf16 and fp16, the mma family (bf16), head dims at 4k, the masks suite
source .dev/device-env.sh
W=/tmp/w4; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r4.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
[ -x /tmp/bn/effgen ] || (cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j16 --target effgen_cli effgen 2>&1 | grep -E "error|warning:")
el built
export EFFGEN_DB=/nonexistent-dir/none.db
E=/tmp/bn/effgen
$E info > $W/effgen-info.txt 2>&1
for dt in bf16 fp16; do
  timeout -s KILL 80 $E bench --dtype $dt --json $W/effgen-$dt.json > $W/effgen-$dt.txt 2>&1; echo "dense $dt rc $?"
  timeout -s KILL 120 $PY .dev/peers/peers.py --suite dense --dtype $dt --out $W/peers-$dt.json > $W/peers-$dt.log 2>&1; echo "peers $dt rc $?"
  $PY bench/ratios.py $W/effgen-$dt.json $W/peers-$dt.json > $W/ratios-$dt.txt 2>&1; $PY .dev/peers/compare.py $W/effgen-$dt.json $W/peers-$dt.json > $W/compare-$dt.txt 2>&1
  grep worst $W/ratios-$dt.txt $W/compare-$dt.txt
  el $dt; ck
done
timeout -s KILL 80 $E bench --arch sm_90 --dtype bf16 --json $W/effgen-mma-bf16.json > $W/effgen-mma-bf16.txt 2>&1; echo "mma rc $?"
$PY bench/ratios.py $W/effgen-mma-bf16.json $W/peers-bf16.json > $W/ratios-mma-bf16.txt 2>&1
$PY bench/families.py $W/effgen-bf16.json $W/effgen-mma-bf16.json > $W/families-bf16.txt 2>&1
timeout -s KILL 60 $E bench --dtype bf16 --d 32,48,64,80,96,128,160,192,256 --n 4096 --json $W/effgen-dims-bf16.json > $W/effgen-dims-bf16.txt 2>&1; echo "dims rc $?"
el mma-dims; ck
for m in "--causal 1 --window 255,0" "--causal 1 --alibi" "--causal 0 --bias b" "--causal 0 --bsparse 10,128"; do
  n=$(echo $m | tr -d ' -,'); timeout -s KILL 40 $E bench --d 128 --n 2048,8192 $m --json $W/m-$n.json > $W/m-$n.txt 2>&1; echo "masks $n rc $?"
done
$PY - "$W" <<'PY'
import json, glob, sys
W = sys.argv[1]; rows = []
for f in sorted(glob.glob(f"{W}/m-*.json")): rows += json.load(open(f))["rows"]
json.dump({"rows": rows}, open(f"{W}/effgen-masks.json", "w"), indent=1)
PY
timeout -s KILL 150 $PY .dev/peers/peers.py --suite masks --dtype bf16 --out $W/peers-masks.json > $W/peers-masks.log 2>&1; echo "peers masks rc $?"
$PY .dev/peers/compare.py $W/effgen-masks.json $W/peers-masks.json > $W/compare-masks.txt 2>&1; cat $W/compare-masks.txt
el done; ck
