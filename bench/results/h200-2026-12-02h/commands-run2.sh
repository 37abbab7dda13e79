#!/usr/bin/env bash
# the tree (the pair layout without the block barrier after each key tile and after the loop) against HEAD (.dev/oldsrc): checks, A/B D = 192 / 256 none and causal (bf16; fp16 D = 256 none at 512 / 1k), test_gpu_attention
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w81; rm -rf $W; mkdir -p $W/ab; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r81.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build build-dev -j10 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build /tmp/b-old -j5 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
B=$PWD/build-dev/effgen; O=/tmp/b-old/effgen
for d in 256 192; do for c in 0 1; do
timeout -s KILL 90 $B check --arch sm_90 --d $d --causal $c --config bm128.bn64.w8.s2.d2 > $W/check-d$d-c$c.txt 2>&1; echo "check d$d c$c rc $? $(tail -1 $W/check-d$d-c$c.txt)"
done; done
timeout -s KILL 60 $B check --arch sm_90 --d 256 --causal both --kv-heads 2 --dtype fp16 > $W/check-gqa.txt 2>&1; echo "check gqa rc $? $(tail -1 $W/check-gqa.txt)"
el checked; ck
for r in 1 2 3; do
  for v in o n; do x=$O; [ $v = n ] && x=$B
    timeout -s KILL 60 $x bench --arch sm_90 --d 192,256 --causal both --json $W/ab/$v-r$r.json > $W/ab/$v-r$r.txt 2>&1 || echo "$v bench failed"
    timeout -s KILL 60 $x bench --arch sm_90 --d 256 --n 512,1024 --dtype fp16 --causal 0 --json $W/ab/$v-h-r$r.json > $W/ab/$v-h-r$r.txt 2>&1 || echo "$v fp16 bench failed"
  done; el "round $r"
done
$PY .dev/ab.py $W/ab o n | tee $W/ab-n.txt
el ab; ck
timeout -s KILL 60 $B bench --arch sm_90 --d 64,128,256 --causal both --json $W/effgen-mma-bf16.json > $W/effgen-mma-bf16.txt 2>&1; echo "mma suite rc $?"
timeout -s KILL 90 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"
$PY .dev/peers/compare.py $W/effgen-mma-bf16.json $W/peers-bf16.json > $W/compare-mma-bf16.txt 2>&1
$PY bench/ratios.py $W/effgen-mma-bf16.json $W/peers-bf16.json > $W/ratios-mma-bf16.txt 2>&1; grep " 256 " $W/ratios-mma-bf16.txt; tail -2 $W/ratios-mma-bf16.txt
el peers; ck
(cd build-dev && timeout -s KILL 200 ./tests/test_gpu_attention > $W/test_gpu_attention.txt 2>&1; echo "test_gpu_attention rc $?"); tail -3 $W/test_gpu_attention.txt
el tests; ck
