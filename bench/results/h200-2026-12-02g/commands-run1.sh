#!/usr/bin/env bash
# the tree: HEAD plus run1-l2-ahead-in-loop.diff
# L2_AHEAD (the tree) against HEAD (.dev/oldsrc) and a Q-only form: D = 192 / 256 A/B; test_gpu_attention;
# the mma dense suite beside the peers (bf16)
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w70; rm -rf $W; mkdir -p $W/ab; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r70.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
rm -rf /tmp/srcq && mkdir /tmp/srcq && tar --exclude=./.dev --exclude=./build-dev --exclude=./build --exclude=./bench/results -cf - . | tar xf - -C /tmp/srcq
sed -i 's/const int total = (q_rows + 2 \* k_rows) \* LPR;/const int total = q_rows * LPR; (void)k_rows;/' /tmp/srcq/templates/eg_attn_fwd_pair.cuh
grep -c "q_rows \* LPR; (void)" /tmp/srcq/templates/eg_attn_fwd_pair.cuh
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build build-dev -j10 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/b-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build /tmp/b-old -j3 --target effgen_cli 2>&1 | grep -E " error |warning:") &
(cmake -S /tmp/srcq -B /tmp/b-q -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build /tmp/b-q -j3 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
B=$PWD/build-dev/effgen; O=/tmp/b-old/effgen
timeout -s KILL 60 $B check --arch sm_90 --d 192,256 --causal 0 --config bm128.bn64.w8.s2.d2 > $W/check-pair.txt 2>&1; echo "check rc $? $(tail -1 $W/check-pair.txt)"
timeout -s KILL 60 $B check --arch sm_90 --d 192,256 --causal 0 --kv-heads 2 > $W/check-gqa.txt 2>&1; echo "check gqa rc $? $(tail -1 $W/check-gqa.txt)"
for r in 1 2 3; do
  for v in o n q; do x=$O; [ $v = n ] && x=$B; [ $v = q ] && x=$Q
    timeout -s KILL 60 $x bench --arch sm_90 --d 192,256 --causal 0 --json $W/ab/$v-r$r.json > $W/ab/$v-r$r.txt 2>&1 || echo "$v bench failed"
  done; el "round $r"
done
$PY .dev/ab.py $W/ab o n | tee $W/ab-n.txt
$PY .dev/ab.py $W/ab o q | tee $W/ab-q.txt
el ab; ck
(cd build-dev && timeout -s KILL 200 ./tests/test_gpu_attention > $W/test_gpu_attention.txt 2>&1; echo "test_gpu_attention rc $?"); tail -1 $W/test_gpu_attention.txt; grep -E "FAIL" $W/test_gpu_attention.txt | head -12
el test; ck
timeout -s KILL 60 $B bench --arch sm_90 --d 64,128,256 --causal both --json $W/effgen-mma-bf16.json > $W/effgen-mma-bf16.txt 2>&1; echo "mma suite rc $?"
timeout -s KILL 90 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"
$PY .dev/peers/compare.py $W/effgen-mma-bf16.json $W/peers-bf16.json > $W/compare-mma-bf16.txt 2>&1
$PY bench/ratios.py $W/effgen-mma-bf16.json $W/peers-bf16.json > $W/ratios-mma-bf16.txt 2>&1; cat $W/ratios-mma-bf16.txt
el done; ck
