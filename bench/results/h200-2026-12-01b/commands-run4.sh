#!/usr/bin/env bash
# fp16: the pair layout default (D 192, 256) against the plain config it replaced, beside the peers (fp16)
source .dev/device-env.sh
W=/tmp/w63; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r63.tgz -C $W . ; }
(cmake -S . -B /tmp/b63 -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b63 -j16 --target effgen_cli effgen 2>&1 | grep -E "error|warning:")
el built
export EFFGEN_DB=/nonexistent-dir/none.db
E=/tmp/b63/effgen
for round in 1 2; do
  timeout -s KILL 60 $E bench --arch sm_90 --d 192,256 --dtype fp16 --json $W/d2-fp16-$round.json > $W/d2-fp16-$round.txt 2>&1; echo "d2 rc $?"
  timeout -s KILL 60 $E bench --arch sm_90 --d 192,256 --dtype fp16 --config bm128.bn64.w8.s2 --json $W/plain-fp16-$round.json > $W/plain-fp16-$round.txt 2>&1; echo "plain rc $?"
  el round$round; ck
done
timeout -s KILL 150 $PY .dev/peers/peers.py --suite dense --dtype fp16 --out $W/peers-fp16.json > $W/peers-fp16.log 2>&1; echo "peers rc $?"; el peers
for f in $W/d2-fp16-1.json $W/plain-fp16-1.json; do b=$(basename $f .json); $PY bench/ratios.py $f $W/peers-fp16.json > $W/ratios-$b.txt 2>&1; done; ck
tail -14 $W/ratios-d2-fp16-1.txt; tail -14 $W/ratios-plain-fp16-1.txt; grep -h "^none\|^causal" $W/d2-fp16-2.txt $W/plain-fp16-2.txt | head -48
el done
