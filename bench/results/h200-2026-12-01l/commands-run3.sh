#!/usr/bin/env bash
# mma family: copies of the next tile spread over S = Q K^T in the plain loop too; A/B on sm_90, checks, peers
source .dev/device-env.sh
W=/tmp/w19; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r19.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j12 --target effgen_cli effgen test_gpu_attention 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j4 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen
timeout -s KILL 150 $N check --arch sm_90 --quick --d 64,80,96,128,160 --dtype bf16,fp16 --causal both > $W/check-plain.txt 2>&1; echo "check plain rc $? $(tail -1 $W/check-plain.txt)"
timeout -s KILL 60 $N check --arch sm_90 --quick --d 72,104 --dtype bf16 --causal both > $W/check-tail.txt 2>&1; echo "check tail rc $? $(tail -1 $W/check-tail.txt)"
timeout -s KILL 60 $N check --arch sm_90 --quick --d 128 --dtype bf16 --causal 1 --window 255,0 --kv-heads 2 > $W/check-win.txt 2>&1; echo "check window rc $? $(tail -1 $W/check-win.txt)"
el checks; ck
for r in 1 2; do
  timeout -s KILL 90 $O bench --arch sm_90 --dtype bf16 --json $W/mo-$r.json > $W/mo-$r.txt 2>&1; echo "mma o $r rc $?"
  timeout -s KILL 90 $N bench --arch sm_90 --dtype bf16 --json $W/mn-$r.json > $W/mn-$r.txt 2>&1; echo "mma n $r rc $?"
done
$PY .dev/ab.py $W mo- mn- | tee $W/ab-mma.txt
el mma; ck
timeout -s KILL 150 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"
for r in 1 2; do $PY bench/ratios.py $W/mn-$r.json $W/peers-bf16.json > $W/ratios-mma-n-$r.txt 2>&1; $PY bench/ratios.py $W/mo-$r.json $W/peers-bf16.json > $W/ratios-mma-o-$r.txt 2>&1; done
cat $W/ratios-mma-n-1.txt
el peers; ck
(cd build-dev && timeout -s KILL 200 tests/test_gpu_attention > $W/test_gpu_attention.txt 2>&1; echo "test_gpu_attention rc $?"); tail -3 $W/test_gpu_attention.txt
el done; ck
