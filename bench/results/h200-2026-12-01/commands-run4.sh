#!/usr/bin/env bash
# wg TRIM: each consumer visits only its own key tiles (causal / window, 64-key tiles); new vs committed
source .dev/device-env.sh
W=/tmp/w56; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r56.tgz -C $W . ; }
(cmake -S . -B /tmp/b56new -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b56new -j10 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/b56old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b56old -j6 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=/tmp/b56new/effgen
for c in wg.bm128.bn64.c2.s2 wg.bm192.bn64.c3.s2 wg.bm128.bn64.c2.s3; do
  timeout -s KILL 60 $N check --quick --d 64,128,256 --causal 1 --config $c > $W/check-causal-$c.txt 2>&1; echo "check causal $c rc $?"; tail -1 $W/check-causal-$c.txt
  timeout -s KILL 60 $N check --quick --d 64,128 --causal 1 --window 100,0 --config $c > $W/check-win-$c.txt 2>&1; echo "check win $c rc $?"; tail -1 $W/check-win-$c.txt
  timeout -s KILL 60 $N check --quick --d 128 --causal 0 --window 70,30 --config $c > $W/check-win2-$c.txt 2>&1; echo "check win2 $c rc $?"; tail -1 $W/check-win2-$c.txt
done
timeout -s KILL 60 $N check --quick --d 128 --causal 1 --window 255,0 --kv-heads 4 --softcap 30 --alibi --config wg.bm128.bn64.c2.s2 > $W/check-win-mix.txt 2>&1; echo "check mix rc $?"; tail -1 $W/check-win-mix.txt
el checks; ck
for round in 1 2; do
for v in old new; do
  E=/tmp/b56$v/effgen
  for c in wg.bm128.bn64.c2.s2 wg.bm128.bn64.c2.s3 wg.bm128.bn128.c2.s2; do
    timeout -s KILL 40 $E bench --d 128 --n 2048,8192 --causal 1 --window 255,0 --config $c --json $W/win-$v-$c-$round.json > $W/win-$v-$c-$round.txt 2>&1; echo "win $v $c rc $?"
  done
  timeout -s KILL 40 $E bench --d 64 --n 512,1024,2048 --causal 1 --config wg.bm128.bn64.c2.s2 --json $W/c64-$v-$round.json > $W/c64-$v-$round.txt 2>&1; echo "c64 $v rc $?"
  timeout -s KILL 40 $E bench --d 128 --n 512,4096 --causal 1 --config wg.bm128.bn64.c2.s2 --json $W/c128-$v-$round.json > $W/c128-$v-$round.txt 2>&1; echo "c128 $v rc $?"
done; el round$round; ck; done
timeout -s KILL 40 /tmp/b56new/effgen bench --d 64,128 --n 512,1024,4096 --causal 1 --json $W/defaults-new.json > $W/defaults-new.txt 2>&1; echo "defaults rc $?"; ck
(cd /tmp/b56new && timeout -s KILL 280 ctest -R "test_gpu_wgmma_(main|variants|persistent)" -j3 --output-on-failure > $W/ctest-wg.txt 2>&1; echo "ctest rc $?"; tail -8 $W/ctest-wg.txt)
el ctest; ck
