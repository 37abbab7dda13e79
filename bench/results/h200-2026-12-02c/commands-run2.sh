#!/usr/bin/env bash
# pair layout: V_0 spread over the first half of the first tile's S k-steps, tile 1's copies over its second
# half (the tree, mode 1) or over every k-step (varV2, mode 2), against HEAD (.dev/oldsrc); D = 192 / 256, bf16
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w51; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r51.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j8 --target effgen_cli 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b-old -j4 --target effgen_cli 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/varV2 -B /tmp/b-v2 -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b-v2 -j4 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
B=$PWD/build-dev/effgen; O=/tmp/b-old/effgen; V=/tmp/b-v2/effgen
run() { timeout -s KILL 50 $2 bench --arch sm_90 --dtype bf16 --d 192,256 --causal both --json $W/$1.json > $W/$1.txt 2>&1 || echo "$1 failed"; ck; }
for r in 1 2 3; do run o-r$r $O; run b-r$r $B; run v-r$r $V; el "round $r"; done
echo "== mode 1 vs old"; $PY .dev/ab.py $W o b | tee $W/ab-b.txt
echo "== mode 2 vs old"; $PY .dev/ab.py $W o v | tee $W/ab-v.txt
el ab; ck
timeout -s KILL 60 $B check --arch sm_90 --d 192,256 --causal both > $W/check-b.txt 2>&1; echo "check b rc $?"; tail -1 $W/check-b.txt
timeout -s KILL 60 $V check --arch sm_90 --d 192,256 --causal both > $W/check-v.txt 2>&1; echo "check v rc $?"; tail -1 $W/check-v.txt
timeout -s KILL 60 $O check --arch sm_90 --d 192,256 --causal both > $W/check-o.txt 2>&1; echo "check o rc $?"; tail -1 $W/check-o.txt
el done; ck
