#!/usr/bin/env bash
# L2 prefetch of the work tile a round ahead: Q + 3 key tiles (new), Q only (q), committed (old)
source .dev/device-env.sh
W=/tmp/w55; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r55.tgz -C $W . ; }
(cmake -S . -B /tmp/b55new -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b55new -j6 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/srcq -B /tmp/b55q -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b55q -j5 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/b55old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b55old -j5 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
/tmp/b55new/effgen info > $W/info.txt
timeout -s KILL 60 /tmp/b55new/effgen check --quick --d 64,128,256 --dtype bf16 --causal both > $W/check-new.txt 2>&1; echo "check rc $?"; tail -1 $W/check-new.txt
timeout -s KILL 40 /tmp/b55new/effgen check --quick --d 128 --causal 1 --window 255,0 > $W/check-new-win.txt 2>&1; echo "check win rc $?"; tail -1 $W/check-new-win.txt
timeout -s KILL 40 /tmp/b55new/effgen check --quick --d 128 --causal 1 --varlen 1,700 --kv-heads 4 > $W/check-new-varlen.txt 2>&1; echo "check varlen rc $?"; tail -1 $W/check-new-varlen.txt
el checks; ck
for round in 1 2; do
for v in old q new; do
  E=/tmp/b55$v/effgen
  timeout -s KILL 40 $E bench --d 128 --n 2048,8192 --causal 1 --window 255,0 --json $W/win-$v-$round.json > $W/win-$v-$round.txt 2>&1; echo "win $v rc $?"
  timeout -s KILL 90 $E bench --dtype bf16 --json $W/dense-$v-$round.json > $W/dense-$v-$round.txt 2>&1; echo "dense $v rc $?"
done; el round$round; ck; done
timeout -s KILL 120 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"; el peers; ck
