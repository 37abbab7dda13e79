#!/usr/bin/env bash
# pair layout: the first wave's CTAs start staggered (CTA i of the first 132 spins i * S cycles first),
# S = 40 / 80 / 160 (.dev/s40, s80, s160), against HEAD (.dev/oldsrc); D = 192 / 256, bf16; peers dense bf16
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w52; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r52.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b-old -j4 --target effgen_cli 2>&1 | grep -E " error |warning:") &
for s in 40 80 160; do (cmake -S .dev/s$s -B /tmp/b-s$s -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b-s$s -j4 --target effgen_cli 2>&1 | grep -E " error |warning:") & done
wait
el built
run() { timeout -s KILL 50 $2 bench --arch sm_90 --dtype bf16 --d 192,256 --causal both --json $W/$1.json > $W/$1.txt 2>&1 || echo "$1 failed"; ck; }
for r in 1 2 3; do run o-r$r /tmp/b-old/effgen; for s in 40 80 160; do run s$s-r$r /tmp/b-s$s/effgen; done; el "round $r"; done
for s in 40 80 160; do echo "== stagger $s vs old"; $PY .dev/ab.py $W o s$s | tee $W/ab-s$s.txt; done
el ab; ck
timeout -s KILL 60 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"
grep -h "sdpa-flash" $W/peers-bf16.log | grep -E '"D": (256|192)' | grep -E '"N": (512|1024),' | cut -c1-150
el done; ck
