#!/usr/bin/env bash
# expressions that read tensors but not b: batch-innermost launch order (new) vs committed (old)
source .dev/device-env.sh
W=/tmp/w57; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r57.tgz -C $W . ; }
(cmake -S . -B /tmp/b57new -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b57new -j10 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/b57old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b57old -j6 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=/tmp/b57new/effgen
SM='score + t[h, q, k]'; TS='t:bf16:HxQxK'
MM='keep[h, q] || q >= k'; TM='keep:bool:HxQ'
for a in sm_90a sm_90; do
  timeout -s KILL 60 $N check --quick --arch $a --d 64,128 --score-mod "$SM" --expr-tensor $TS > $W/check-score-$a.txt 2>&1; echo "check score $a rc $?"; tail -1 $W/check-score-$a.txt
  timeout -s KILL 60 $N check --quick --arch $a --d 64,128 --causal 1 --mask-mod "$MM" --expr-tensor $TM > $W/check-mask-$a.txt 2>&1; echo "check mask $a rc $?"; tail -1 $W/check-mask-$a.txt
done
el checks; ck
for round in 1 2; do
for v in old new; do
  E=/tmp/b57$v/effgen
  timeout -s KILL 60 $E bench --d 128 --n 2048,8192 --score-mod "$SM" --expr-tensor $TS --json $W/xbias-$v-$round.json > $W/xbias-$v-$round.txt 2>&1; echo "xbias $v rc $?"
  timeout -s KILL 90 $E bench --arch sm_90 --d 128 --n 2048,8192 --score-mod "$SM" --expr-tensor $TS --json $W/xbiasmma-$v-$round.json > $W/xbiasmma-$v-$round.txt 2>&1; echo "xbiasmma $v rc $?"
done; el round$round; ck; done
timeout -s KILL 90 $PY .dev/peers/peers.py --suite masks --dtype bf16 --out $W/peers-masks.json > $W/peers-masks.log 2>&1; echo "peers rc $?"; el peers; ck
(cd /tmp/b57new && timeout -s KILL 120 ctest -R "test_gpu_wgmma_expr|test_expr_gpu" -j2 --output-on-failure > $W/ctest-expr.txt 2>&1; echo "ctest rc $?"; tail -6 $W/ctest-expr.txt)
el ctest; ck
