#!/usr/bin/env bash
# bias launch order (batch innermost) new vs old; c1 configs at 2 CTAs/SM (x) on the short dense rows
source .dev/device-env.sh
W=/tmp/w53; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r53.tgz -C $W . ; }
(cmake -S . -B /tmp/b53new -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b53new -j6 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/srcx -B /tmp/b53x -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b53x -j5 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/b53old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b53old -j5 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
/tmp/b53new/effgen info > $W/info.txt
for round in 1 2; do
for v in old new; do
  E=/tmp/b53$v/effgen
  timeout -s KILL 60 $E bench --d 128 --n 2048,8192 --bias b --dtype bf16 --json $W/bias-$v-$round.json > $W/bias-$v-$round.txt 2>&1; echo "bias $v rc $?"
  timeout -s KILL 60 $E bench --d 128 --n 2048,8192 --bias b --causal 1 --dtype bf16 --json $W/biasc-$v-$round.json > $W/biasc-$v-$round.txt 2>&1; echo "biasc $v rc $?"
  timeout -s KILL 60 $E bench --arch sm_90 --d 128 --n 2048,8192 --bias b --dtype bf16 --json $W/biasmma-$v-$round.json > $W/biasmma-$v-$round.txt 2>&1; echo "biasmma $v rc $?"
done
# short rows: defaults (new) vs c1 at 2 CTAs per SM (x)
E=/tmp/b53new/effgen; X=/tmp/b53x/effgen
timeout -s KILL 60 $E bench --d 64,128 --n 512,1024 --causal both --dtype bf16 --json $W/short-new-$round.json > $W/short-new-$round.txt 2>&1; echo "short new rc $?"
for c in wg.bm64.bn128.c1.s2 wg.bm64.bn64.c1.s2; do
  timeout -s KILL 60 $X bench --d 64 --n 512,1024,2048 --causal both --config $c --dtype bf16 --json $W/short-x-$c-$round.json > $W/short-x-$c-$round.txt 2>&1; echo "x $c rc $?"
done
timeout -s KILL 60 $X bench --d 128 --n 512,1024,2048 --causal both --config wg.bm64.bn64.c1.s2 --dtype bf16 --json $W/short-x128-$round.json > $W/short-x128-$round.txt 2>&1; echo "x128 rc $?"
el round$round; ck; done
timeout -s KILL 150 $PY .dev/peers/peers.py --suite masks --dtype bf16 --out $W/peers-masks.json > $W/peers-masks.log 2>&1; echo "peers masks rc $?"; el peersm; ck
timeout -s KILL 150 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers dense rc $?"; el peersd; ck
(cd /tmp/b53new && timeout -s KILL 150 ctest -R "test_gpu_wgmma_bias|test_gpu_wgmma_mask|test_gpu_variants" -j3 --output-on-failure > $W/ctest-sub.txt 2>&1; echo "ctest rc $?"; tail -4 $W/ctest-sub.txt)
el ctest; ck
