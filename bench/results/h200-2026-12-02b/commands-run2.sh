#!/usr/bin/env bash
# experiment: wg family, softmax of half key tiles hidden from a warp's rows skipped (HALVES; .dev/exp-halves.diff,
# in the tree) against HEAD (.dev/oldsrc). Expected: the window +3 to +6%, causal D = 128 / 256 short rows +1 to +3%.
source .dev/device-env.sh
W=/tmp/w46; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r46.tgz -C $W . ; }
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j10 --target effgen_cli 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b-old -j6 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=/tmp/b-old/effgen
run() { # tag binary
  timeout -s KILL 40 $2 bench --dtype bf16 --d 128 --n 2048,8192 --causal 1 --window 255,0 --json $W/$1-win.json > $W/$1-win.txt 2>&1 || echo "$1 win failed"
  timeout -s KILL 40 $2 bench --dtype bf16 --d 128 --n 2048,8192 --causal 0 --window 128,128 --json $W/$1-win2.json > $W/$1-win2.txt 2>&1 || echo "$1 win2 failed"
  timeout -s KILL 40 $2 bench --dtype bf16 --d 128 --n 2048,8192 --causal 1 --alibi --json $W/$1-alibi.json > $W/$1-alibi.txt 2>&1 || echo "$1 alibi failed"
  timeout -s KILL 60 $2 bench --dtype bf16 --d 128,256 --causal 1 --json $W/$1-causal.json > $W/$1-causal.txt 2>&1 || echo "$1 causal failed"
  timeout -s KILL 40 $2 bench --dtype bf16 --d 96,192 --n 1024,4096 --causal 1 --json $W/$1-dims.json > $W/$1-dims.txt 2>&1 || echo "$1 dims failed"
  ck
}
for r in 1 2 3; do run o-r$r $O; run n-r$r $N; el "round $r"; done
$PY .dev/ab.py $W o n | tee $W/ab.txt
el ab; ck
timeout -s KILL 120 $N check --d 64,128,256 --causal both --window 255,0 > $W/check-win.txt 2>&1; echo "check win rc $?"
timeout -s KILL 120 $N check --d 96,128,192 --causal both --window 100,37 --alibi > $W/check-win2.txt 2>&1; echo "check win2 rc $?"
timeout -s KILL 120 $N check --d 128,256 --causal 1 --scale 8 > $W/check-causal.txt 2>&1; echo "check causal rc $?"
timeout -s KILL 120 $N check --d 128 --causal 1 --varlen 1,700 --kv-heads 2 > $W/check-varlen.txt 2>&1; echo "check varlen rc $?"
tail -2 $W/check-*.txt
el done; ck
