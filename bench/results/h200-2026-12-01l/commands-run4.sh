#!/usr/bin/env bash
# mma family: one-stage loop with spread copies (A/B), the pair layout in fp16 beside the peers, all GPU tests
source .dev/device-env.sh
W=/tmp/w20; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r20.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j12 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j4 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen
for c in bm64.bn64.w4.s1 bm128.bn64.w8.s1; do
  timeout -s KILL 90 $N check --arch sm_90 --quick --config $c --d 128,256 --dtype bf16,fp16 --causal both > $W/check-$c.txt 2>&1; echo "check $c rc $? $(tail -1 $W/check-$c.txt)"
done
timeout -s KILL 60 $N check --arch sm_90 --quick --config bm64.bn64.w4.s1 --d 72,104 --dtype bf16 --causal both > $W/check-s1-tail.txt 2>&1; echo "check s1 tail rc $? $(tail -1 $W/check-s1-tail.txt)"
el checks; ck
for r in 1 2; do
  timeout -s KILL 60 $O bench --arch sm_90 --d 256 --config bm64.bn64.w4.s1 --json $W/so-$r.json > $W/so-$r.txt 2>&1; echo "s1 o $r rc $?"
  timeout -s KILL 60 $N bench --arch sm_90 --d 256 --config bm64.bn64.w4.s1 --json $W/sn-$r.json > $W/sn-$r.txt 2>&1; echo "s1 n $r rc $?"
done
$PY .dev/ab.py $W so- sn- | tee $W/ab-s1.txt
el s1; ck
timeout -s KILL 60 $N bench --arch sm_90 --dtype fp16 --d 192,256 --json $W/fp16-n.json > $W/fp16-n.txt 2>&1; echo "fp16 rc $?"
timeout -s KILL 150 $PY .dev/peers/peers.py --suite dense --dtype fp16 --out $W/peers-fp16.json > $W/peers-fp16.log 2>&1; echo "peers fp16 rc $?"
$PY bench/ratios.py $W/fp16-n.json $W/peers-fp16.json > $W/ratios-fp16.txt 2>&1; grep -E "^(none|causal) +fp16 +256|worst" $W/ratios-fp16.txt
timeout -s KILL 150 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers bf16 rc $?"
for r in 1 2; do $PY bench/ratios.py $W/sn-$r.json $W/peers-bf16.json > $W/ratios-s1-n-$r.txt 2>&1; $PY bench/ratios.py $W/so-$r.json $W/peers-bf16.json > $W/ratios-s1-o-$r.txt 2>&1; done
grep -E "^(none|causal)" $W/ratios-s1-n-1.txt
el fp16; ck
(cd build-dev && timeout -s KILL $((575 - SECONDS + t0)) ctest -L gpu -j8 > $W/ctest-gpu.txt 2>&1; echo "ctest gpu rc $?"); tail -25 $W/ctest-gpu.txt
el done; ck
