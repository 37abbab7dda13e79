#!/usr/bin/env bash
# CHAIN variants: S_0 first (tree) vs P V first (.dev/vc), two and three stages, against HEAD (.dev/oldsrc)
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w57; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r57.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build build-dev -j6 --target effgen_cli 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build /tmp/b-old -j5 --target effgen_cli 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/vc -B /tmp/b-vc -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build /tmp/b-vc -j5 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
B=$PWD/build-dev/effgen; O=/tmp/b-old/effgen; V=/tmp/b-vc/effgen; C3=wg.bm128.bn128.c2.s3; C2=wg.bm128.bn128.c2.s2
c() { local n=$1 x=$2; shift 2; timeout -s KILL 60 $x check "$@" > $W/check-$n.txt 2>&1; echo "check $n rc $? $(tail -1 $W/check-$n.txt)"; }
c b-win3 $B --d 128 --causal 1 --window 255,0 --quick --config $C3
c b-win2 $B --d 128 --causal 1 --window 255,0 --quick --config $C2
c v-win3 $V --d 128 --causal 1 --window 255,0 --quick --config $C3
c v-win2 $V --d 128 --causal 1 --window 255,0 --quick --config $C2
c v-dense3 $V --d 128 --causal both --quick --config $C3
c v-alibi2 $V --d 128 --causal 1 --alibi --window 127,0 --scale 8 --quick --config $C2
el checks; ck
run() { local n=$1 x=$2; shift 2
  timeout -s KILL 40 $x bench --d 128 --n 2048,8192 --causal 1 --window 255,0 "$@" --json $W/$n-win.json > $W/$n-win.txt 2>&1 || echo "$n win failed"
  timeout -s KILL 60 $x bench --d 128 --n 512,1024,2048,8192 --causal both "$@" --json $W/$n-dense.json > $W/$n-dense.txt 2>&1 || echo "$n dense failed"
  ck; }
for r in 1 2 3; do run a-r$r $O; run b-r$r $B --config $C2; run c-r$r $B --config $C3; run d-r$r $V --config $C2; run e-r$r $V --config $C3; el "round $r"; done
for k in win dense; do mkdir -p $W/ab-$k; cp $W/*-$k.json $W/ab-$k/; done
for v in b c d e; do for k in win dense; do echo "== $k: a (HEAD s2) vs $v"; $PY .dev/ab.py $W/ab-$k a $v; done; done | tee $W/ab.txt
el done; ck
