#!/usr/bin/env bash
# mma.sync pair layout (.d2): correctness (effgen check) then D 160/192/256 timing vs the defaults, beside FA2 (peers dense)
source .dev/device-env.sh
W=/tmp/w61; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r61.tgz -C $W . ; }
(cmake -S . -B /tmp/b61 -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b61 -j16 --target effgen_cli effgen 2>&1 | grep -E "error|warning:")
el built
export EFFGEN_DB=/nonexistent-dir/none.db
E=/tmp/b61/effgen
for cfg in bm128.bn64.w8.s2.d2 bm128.bn32.w8.s2.d2 bm64.bn64.w4.s2.d2; do
  timeout -s KILL 90 $E check --arch sm_90 --quick --d 128,160,192,256 --dtype bf16,fp16 --causal both --config $cfg > $W/check-$cfg.txt 2>&1; echo "check $cfg rc $?"; tail -1 $W/check-$cfg.txt
done
timeout -s KILL 60 $E check --arch sm_90 --quick --d 256 --causal both --kv-heads 2 --config bm128.bn64.w8.s2.d2 > $W/check-gqa.txt 2>&1; echo "check gqa rc $?"; tail -1 $W/check-gqa.txt
el checks; ck
if grep -q "FAIL\|failed: [1-9]" $W/check-bm128.bn64.w8.s2.d2.txt; then grep -m5 "FAIL" $W/check-bm128.bn64.w8.s2.d2.txt; fi
for round in 1 2; do
  timeout -s KILL 60 $E bench --arch sm_90 --d 160,192,256 --dtype bf16 --json $W/def-$round.json > $W/def-$round.txt 2>&1; echo "def rc $?"
  for cfg in bm128.bn64.w8.s2.d2 bm128.bn32.w8.s2.d2; do
    timeout -s KILL 60 $E bench --arch sm_90 --d 160,192,256 --dtype bf16 --config $cfg --json $W/x-$cfg-$round.json > $W/x-$cfg-$round.txt 2>&1; echo "x $cfg rc $?"
  done
  el round$round; ck
done
timeout -s KILL 40 $E bench --arch sm_90 --d 192 --dtype bf16 --config bm128.bn64.w8.s3.d2 --json $W/x-s3-1.json > $W/x-s3-1.txt 2>&1; echo "s3 rc $?"
timeout -s KILL 40 $E bench --arch sm_90 --d 256 --dtype bf16 --config bm64.bn64.w4.s1 --json $W/x-s1-1.json > $W/x-s1-1.txt 2>&1; echo "s1 rc $?"
timeout -s KILL 120 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"; el peers
for f in $W/def-*.json $W/x-*.json; do b=$(basename $f .json); $PY bench/ratios.py $f $W/peers-bf16.json > $W/ratios-$b.txt 2>&1; done; ck
cat $W/ratios-def-1.txt; cat $W/ratios-x-bm128.bn64.w8.s2.d2-1.txt; cat $W/ratios-x-bm128.bn64.w8.s2.d2-2.txt | tail -14; cat $W/ratios-x-bm128.bn32.w8.s2.d2-1.txt | tail -14
el done
