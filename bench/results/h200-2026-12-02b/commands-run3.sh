#!/usr/bin/env bash
# experiment (host only): launch-order group sizes for causal mma rows (.dev/exp-host-groups.diff):
# EFFGEN_EXP_GROUPS=div (a divisor of the heads, no short last group), EFFGEN_EXP_SPREAD=c (groups of at least
# c * slots / (m + 1) heads), against HEAD (.dev/oldsrc, refresh it first). Goal: D = 80 / 96 / 192 at 4k
# (+5 to +9% seen with equal groups in the kernel), no row of D = 64 / 128 / 256 slower.
source .dev/device-env.sh
W=/tmp/w44; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r44.tgz -C $W . ; }
git apply .dev/exp-host-groups.diff || { echo "patch failed"; exit 1; }
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j12 --target effgen_cli 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b-old -j4 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=/tmp/b-old/effgen
run() { # tag binary groups spread
  unset EFFGEN_EXP_GROUPS EFFGEN_EXP_SPREAD
  [ -n "$3" ] && export EFFGEN_EXP_GROUPS=$3; [ -n "$4" ] && export EFFGEN_EXP_SPREAD=$4
  timeout -s KILL 40 $2 bench --arch sm_90 --dtype bf16 --causal 1 --json $W/$1-suite.json > $W/$1-suite.txt 2>&1 || echo "$1 suite failed"
  timeout -s KILL 30 $2 bench --arch sm_90 --dtype bf16 --causal 1 --d 80,96,160,192 --n 4096 --json $W/$1-dims.json > $W/$1-dims.txt 2>&1 || echo "$1 dims failed"
  unset EFFGEN_EXP_GROUPS EFFGEN_EXP_SPREAD; ck
}
for r in 1 2; do run ho-r$r $O; run hd-r$r $N div; run hs-r$r $N "" 4; run hb-r$r $N div 4; el "round $r"; done
for v in hd hs hb; do echo "== $v"; $PY .dev/ab.py $W ho $v | tee $W/ab-$v.txt | tail -1; done
el done; ck
git apply -R .dev/exp-host-groups.diff
