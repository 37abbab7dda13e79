#!/usr/bin/env bash
# pair layout: K_j+1's copies over S's k-steps, V_j+1's over P V's steps, each its own group and waited for where
# it is used (the tree), against HEAD (.dev/oldsrc); D = 192 / 256, bf16, none and causal; check
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w53; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r53.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j10 --target effgen_cli 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b-old -j6 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
B=$PWD/build-dev/effgen; O=/tmp/b-old/effgen
run() { timeout -s KILL 50 $2 bench --arch sm_90 --dtype bf16 --d 192,256 --causal both --json $W/$1.json > $W/$1.txt 2>&1 || echo "$1 failed"; ck; }
for r in 1 2 3; do run o-r$r $O; run n-r$r $B; el "round $r"; done
$PY .dev/ab.py $W o n | tee $W/ab.txt
el ab; ck
timeout -s KILL 70 $B check --arch sm_90 --d 192,256 --causal both > $W/check-n.txt 2>&1; echo "check rc $?"; tail -1 $W/check-n.txt
el done; ck
