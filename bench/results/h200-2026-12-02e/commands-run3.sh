#!/usr/bin/env bash
# where the window kernel's softmax time goes: HEAD (.dev/oldsrc) beside three diagnostic builds that are not
# correct by design (vX: exponentials replaced by their FMA argument, vM: no mask, vXM: both) and one candidate
# (vP: a quarter of the exponentials by a cubic on the FMA pipe): checks of vP, window A/B, dense A/B of vP
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w62; rm -rf $W; mkdir -p $W/win $W/dense; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r62.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
for v in oldsrc vX vM vXM vP; do
  (cmake -S .dev/$v -B /tmp/b-$v -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build /tmp/b-$v -j3 --target effgen_cli 2>&1 | grep -E " error |warning:") &
done
wait
el built
c() { local n=$1; shift; timeout -s KILL 60 /tmp/b-vP/effgen check "$@" > $W/check-$n.txt 2>&1; echo "check $n rc $? $(tail -1 $W/check-$n.txt)"; }
c win --d 72,128 --causal 1 --window 255,0 --quick
c win2 --d 128 --dtype fp16 --causal 0 --window 127,127 --quick
c winvl --d 128 --causal 1 --window 255,0 --varlen 100,2000 --quick
c dense --d 64,128,256 --causal both --quick
c empty --d 128 --causal 1 --window 0,0 --quick
el checks; ck
run() { local n=$1 v=$2 x=/tmp/b-$2/effgen
  timeout -s KILL 40 $x bench --d 128 --n 2048,8192 --causal 1 --window 255,0 --json $W/win/$n-win.json > $W/win/$n-win.txt 2>&1 || echo "$n win failed"
  timeout -s KILL 40 $x bench --d 128 --n 2048,8192 --causal 0 --window 127,127 --json $W/win/$n-win2.json > $W/win/$n-win2.txt 2>&1 || echo "$n win2 failed"
}
for r in 1 2 3; do run o-r$r oldsrc; run x-r$r vX; run k-r$r vM; run b-r$r vXM; run p-r$r vP; el "round $r"; ck; done
for v in x k b p; do echo "== o vs $v"; $PY .dev/ab.py $W/win o $v | tee $W/ab-$v.txt; done
el ab; ck
for r in 1 2; do
  for v in o p; do x=/tmp/b-oldsrc/effgen; [ $v = p ] && x=/tmp/b-vP/effgen
    timeout -s KILL 60 $x bench --d 64,128 --causal both --json $W/dense/$v-r$r.json > $W/dense/$v-r$r.txt 2>&1 || echo "$v dense failed"
  done; el "dense round $r"; ck
done
echo "== dense o vs p"; $PY .dev/ab.py $W/dense o p | tee $W/ab-dense.txt
el done; ck
