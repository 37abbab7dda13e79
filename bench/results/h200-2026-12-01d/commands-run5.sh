#!/usr/bin/env bash
# kept build: wg tile shapes at D = 64 causal 512 / 1024 beside cuDNN; the masks suite beside the peers
source .dev/device-env.sh
W=/tmp/w5; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r5.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv > $W/info.txt
(cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j16 --target effgen_cli effgen 2>&1 | grep -E "error|warning:")
el built
export EFFGEN_DB=/nonexistent-dir/none.db
E=/tmp/bn/effgen
for c in wg.bm128.bn128.c2.s2 wg.bm192.bn128.c3.s2 wg.bm128.bn64.c2.s2 wg.bm192.bn64.c3.s2 wg.bm64.bn128.c1.s2 wg.bm128.bn128.c2.s3; do
  timeout -s KILL 30 $E bench --d 64 --n 512,1024 --causal 1 --config $c --json $W/d64-$c.json > $W/d64-$c.txt 2>&1; echo "$c rc $? $(awk 'NR>1{printf "%s ", $9}' $W/d64-$c.txt)"
done
el configs; ck
for m in "--causal 1 --window 255,0" "--causal 1 --alibi" "--causal 0 --bias b" "--causal 0 --bsparse 10,128"; do
  n=$(echo $m | tr -d ' -,'); timeout -s KILL 40 $E bench --d 128 --n 2048,8192 $m --json $W/m-$n.json > $W/m-$n.txt 2>&1; echo "masks $n rc $?"
done
$PY - "$W" <<'PY'
import json, glob, sys
W = sys.argv[1]; rows = []
for f in sorted(glob.glob(f"{W}/m-*.json")): rows += json.load(open(f))["rows"]
json.dump({"rows": rows}, open(f"{W}/effgen-masks.json", "w"), indent=1)
PY
el masks; ck
timeout -s KILL 80 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-dense.json > $W/peers-dense.log 2>&1; echo "peers dense rc $?"
grep '"D": 64' $W/peers-dense.json | grep causal | grep cudnn | head -2
el peers-dense; ck
timeout -s KILL 150 $PY .dev/peers/peers.py --suite masks --dtype bf16 --out $W/peers-masks.json > $W/peers-masks.log 2>&1; echo "peers masks rc $?"
$PY .dev/peers/compare.py $W/effgen-masks.json $W/peers-masks.json > $W/compare-masks.txt 2>&1; cat $W/compare-masks.txt
el peers-masks; ck
el done; ck
