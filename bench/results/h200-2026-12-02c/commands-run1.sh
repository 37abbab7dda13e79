#!/usr/bin/env bash
# pair layout: copies in pairs per k-step + predicated O stores (varA), and V_0 spread over the first tile's
# first half of S (the tree, varB), against HEAD (.dev/oldsrc); D = 192 / 256, bf16, none and causal
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w50; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r50.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j6 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b-old -j5 --target effgen_cli 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/varA -B /tmp/b-a -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b-a -j5 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
B=$PWD/build-dev/effgen; O=/tmp/b-old/effgen; A=/tmp/b-a/effgen
run() { timeout -s KILL 50 $2 bench --arch sm_90 --dtype bf16 --d 192,256 --causal both --json $W/$1.json > $W/$1.txt 2>&1 || echo "$1 failed"; ck; }
for r in 1 2 3; do run o-r$r $O; run a-r$r $A; run b-r$r $B; el "round $r"; done
echo "== A vs old"; $PY .dev/ab.py $W o a | tee $W/ab-a.txt
echo "== B vs old"; $PY .dev/ab.py $W o b | tee $W/ab-b.txt
echo "== B vs A"; $PY .dev/ab.py $W a b > $W/ab-ba.txt; tail -1 $W/ab-ba.txt
el ab; ck
timeout -s KILL 60 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"
grep '"D": 256, "N": 512' $W/peers-bf16.json 2>/dev/null | head -3; grep -h "sdpa-flash" $W/peers-bf16.log | grep '"N": 512' | grep '"D": 256'
el peers; ck
timeout -s KILL 60 $B check --arch sm_90 --d 192,256 --causal both > $W/check-b.txt 2>&1; echo "check b rc $?"; tail -1 $W/check-b.txt
timeout -s KILL 60 $A check --arch sm_90 --d 192,256 --causal both > $W/check-a.txt 2>&1; echo "check a rc $?"; tail -1 $W/check-a.txt
el done; ck
