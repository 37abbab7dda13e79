#!/usr/bin/env bash
# CHAIN with O staged in Q's rows at three stages (QO) and with the output buffer at two, against HEAD
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w56; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r56.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j10 --target effgen_cli 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b-old -j6 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
B=$PWD/build-dev/effgen; O=/tmp/b-old/effgen; C3=wg.bm128.bn128.c2.s3
c() { local n=$1; shift; timeout -s KILL 60 $B check "$@" > $W/check-$n.txt 2>&1; echo "check $n rc $? $(tail -1 $W/check-$n.txt)"; }
c win3 --d 128 --causal 1 --window 255,0 --config $C3
c win2s3 --d 128 --causal 0 --window 127,127 --quick --config $C3
c dense3 --d 128 --causal both --config $C3
c alibi3 --d 128 --causal 1 --alibi --window 255,0 --scale 8 --quick --config $C3
c gqa3 --d 128 --causal both --kv-heads 2 --quick --config $C3
c win --d 128 --causal 1 --window 255,0 --quick
el checks; ck
run() { local n=$1 x=$2; shift 2
  timeout -s KILL 40 $x bench --d 128 --n 2048,8192 --causal 1 --window 255,0 "$@" --json $W/$n-win.json > $W/$n-win.txt 2>&1 || echo "$n win failed"
  timeout -s KILL 40 $x bench --d 128 --n 2048,8192 --causal 0 --window 127,127 "$@" --json $W/$n-win2.json > $W/$n-win2.txt 2>&1 || echo "$n win2 failed"
  timeout -s KILL 60 $x bench --d 128 --causal both "$@" --json $W/$n-dense.json > $W/$n-dense.txt 2>&1 || echo "$n dense failed"
  ck; }
for r in 1 2 3; do run a-r$r $O; run b-r$r $B; run c-r$r $B --config $C3; run d-r$r $O --config $C3; el "round $r"; done
for k in win win2 dense; do mkdir -p $W/ab-$k; cp $W/*-$k.json $W/ab-$k/; done
for v in b c d; do for k in win win2 dense; do echo "== $k: a (HEAD s2) vs $v"; $PY .dev/ab.py $W/ab-$k a $v; done; done | tee $W/ab.txt
el done; ck
