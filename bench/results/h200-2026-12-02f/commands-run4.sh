#!/usr/bin/env bash
# the pair layout on a persistent grid (PERSIST, the tree) against HEAD (.dev/oldsrc): D = 192 / 256 A/B, the
# mma dense suite beside the peers (bf16), test_gpu_attention (with the persistent shapes)
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w69; rm -rf $W; mkdir -p $W/ab; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r69.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build build-dev -j12 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build /tmp/b-old -j4 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
B=$PWD/build-dev/effgen; O=/tmp/b-old/effgen
timeout -s KILL 60 $B check --arch sm_90 --d 192,256 --causal 0 --config bm128.bn64.w8.s2.d2 > $W/check-pair.txt 2>&1; echo "check rc $? $(tail -1 $W/check-pair.txt)"
for r in 1 2 3; do
  for v in o n; do x=$O; [ $v = n ] && x=$B
    timeout -s KILL 60 $x bench --arch sm_90 --d 192,256 --causal 0 --json $W/ab/$v-r$r.json > $W/ab/$v-r$r.txt 2>&1 || echo "$v bench failed"
  done; el "round $r"
done
$PY .dev/ab.py $W/ab o n | tee $W/ab.txt
el ab; ck
(cd build-dev && timeout -s KILL 200 ./tests/test_gpu_attention > $W/test_gpu_attention.txt 2>&1; echo "test_gpu_attention rc $?"); tail -1 $W/test_gpu_attention.txt; grep -E "persistent|FAIL" $W/test_gpu_attention.txt | head -12
el test; ck
timeout -s KILL 60 $B bench --arch sm_90 --d 64,128,256 --causal both --json $W/effgen-mma-bf16.json > $W/effgen-mma-bf16.txt 2>&1; echo "mma suite rc $?"
timeout -s KILL 90 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"
$PY .dev/peers/compare.py $W/effgen-mma-bf16.json $W/peers-bf16.json > $W/compare-mma-bf16.txt 2>&1
$PY bench/ratios.py $W/effgen-mma-bf16.json $W/peers-bf16.json > $W/ratios-mma-bf16.txt 2>&1; cat $W/ratios-mma-bf16.txt
el done; ck
