#!/usr/bin/env bash
# full ctest -L gpu on branch expr-bias-lowering (= main + lowering); branch checks; xbias main vs branch; peers masks
# prepare here: rm -rf .dev/srcb; mkdir .dev/srcb; git archive expr-bias-lowering | tar -x -C .dev/srcb
source .dev/device-env.sh
W=/tmp/w60; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r60.tgz -C $W . ; }
(cmake -S .dev/srcb -B /tmp/b60b -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b60b -j12 2>&1 | grep -E "error|warning:") &
(cmake -S . -B /tmp/b60m -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b60m -j4 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv > $W/info.txt 2>&1
(cd /tmp/b60b && timeout -s KILL 360 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest-gpu rc $?" >> $W/ctest-gpu.txt) &
CT=$!
B=/tmp/b60b/effgen
SM='score + t[h, q, k]'
for a in sm_90a sm_90; do
  for ts in t:bf16:HxQxK t:bf16:BxHxQxK t:bf16:QxK t:f32:HxQxK; do
    sm="$SM"; [ $ts = t:bf16:BxHxQxK ] && sm='score + t[b, h, q, k]'; [ $ts = t:bf16:QxK ] && sm='t[q, k] + score'
    f=$W/check-$a-${ts//:/_}.txt
    timeout -s KILL 90 $B check --quick --arch $a --d 64,128 --causal both --score-mod "$sm" --expr-tensor $ts > $f 2>&1; echo "check $a $ts rc $?"; tail -1 $f
  done
done
timeout -s KILL 90 $B check --quick --d 128 --causal 1 --softcap 30 --alibi --score-mod "$SM" --expr-tensor t:bf16:HxQxK > $W/check-mix.txt 2>&1; echo "check mix rc $?"; tail -1 $W/check-mix.txt
timeout -s KILL 90 $B check --quick --d 128,256 --causal both --bias b > $W/check-bias.txt 2>&1; echo "check bias rc $?"; tail -1 $W/check-bias.txt
el checks; ck
wait $CT; tail -25 $W/ctest-gpu.txt; el ctest; ck
for round in 1 2; do
for v in m b; do
  E=/tmp/b60$v/effgen
  timeout -s KILL 60 $E bench --d 128 --n 2048,8192 --causal 0 --score-mod "$SM" --expr-tensor t:bf16:HxQxK --json $W/xbias-$v-$round.json > $W/xbias-$v-$round.txt 2>&1; echo "xbias $v rc $?"
  timeout -s KILL 60 $E bench --d 128 --n 2048,8192 --causal 1 --score-mod "$SM" --expr-tensor t:bf16:HxQxK --json $W/xbiasc-$v-$round.json > $W/xbiasc-$v-$round.txt 2>&1; echo "xbiasc $v rc $?"
done; el round$round; ck; done
timeout -s KILL 60 $B bench --d 128 --n 2048,8192 --causal 0 --bias b --json $W/bias-b.json > $W/bias-b.txt 2>&1; echo "bias rc $?"
timeout -s KILL 100 $PY .dev/peers/peers.py --suite masks --dtype bf16 --out $W/peers-masks.json > $W/peers-masks.log 2>&1; echo "peers rc $?"; el peers; ck
grep -h "tflops\|TFLOP" -m2 $W/xbias-m-1.txt | head -3
for f in $W/xbias*.txt $W/bias-b.txt; do echo "== $f"; tail -3 $f; done
el done
