#!/usr/bin/env bash
# the committed tree: the masks suite beside the peers (bf16), the mma.sync dense suite beside the peers (bf16, fp16)
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w54; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r54.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
git log --oneline -1 > $W/commit.txt 2>/dev/null
cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j16 --target effgen_cli 2>&1 | grep -E " error |warning:"
el built
N=$PWD/build-dev/effgen
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
timeout -s KILL 120 $PY .dev/peers/peers.py --suite masks --dtype bf16 --out $W/peers-masks.json > $W/peers-masks.log 2>&1; echo "peers masks rc $?"
$PY .dev/peers/compare.py $W/effgen-masks.json $W/peers-masks.json > $W/compare-masks.txt 2>&1
$PY bench/ratios.py $W/effgen-masks.json $W/peers-masks.json > $W/ratios-masks.txt 2>&1; cat $W/ratios-masks.txt
el masks; ck
for dt in bf16 fp16; do
  timeout -s KILL 60 $N bench --arch sm_90 --dtype $dt --json $W/effgen-mma-$dt.json > $W/effgen-mma-$dt.txt 2>&1; echo "mma $dt rc $?"
  timeout -s KILL 70 $PY .dev/peers/peers.py --suite dense --dtype $dt --out $W/peers-$dt.json > $W/peers-$dt.log 2>&1; echo "peers $dt rc $?"
  $PY .dev/peers/compare.py $W/effgen-mma-$dt.json $W/peers-$dt.json > $W/compare-mma-$dt.txt 2>&1
  $PY bench/ratios.py $W/effgen-mma-$dt.json $W/peers-$dt.json > $W/ratios-mma-$dt.txt 2>&1
  grep -E "worst|^(none|causal) +(bf16|fp16) +(256)" $W/ratios-mma-$dt.txt
  el $dt; ck
done
