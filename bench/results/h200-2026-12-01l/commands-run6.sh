#!/usr/bin/env bash
# mma pair layout: V_0 in a copy group of its own (the first S starts on Q and K_0); A/B and beside the peers
source .dev/device-env.sh
W=/tmp/w22; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r22.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j10 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j6 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen
timeout -s KILL 60 $N check --arch sm_90 --quick --d 192,256 --dtype bf16,fp16 --causal both > $W/check-pair.txt 2>&1; echo "check pair rc $? $(tail -1 $W/check-pair.txt)"
timeout -s KILL 40 $N check --arch sm_90 --quick --config bm64.bn32.w4.s3.d2 --d 256 --dtype bf16 --causal both --kv-heads 2 > $W/check-pair-s3.txt 2>&1; echo "check pair s3 rc $? $(tail -1 $W/check-pair-s3.txt)"
el checks; ck
for r in 1 2; do
  timeout -s KILL 40 $O bench --arch sm_90 --d 192,256 --json $W/mo-$r.json > $W/mo-$r.txt 2>&1; echo "mma o $r rc $?"
  timeout -s KILL 40 $N bench --arch sm_90 --d 192,256 --json $W/mn-$r.json > $W/mn-$r.txt 2>&1; echo "mma n $r rc $?"
done
$PY .dev/ab.py $W mo- mn- | tee $W/ab-mma.txt
el mma; ck
timeout -s KILL 80 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"
for r in 1 2; do $PY bench/ratios.py $W/mn-$r.json $W/peers-bf16.json > $W/ratios-mma-n-$r.txt 2>&1; $PY bench/ratios.py $W/mo-$r.json $W/peers-bf16.json > $W/ratios-mma-o-$r.txt 2>&1; done
grep -E "^(none|causal) +bf16 +256" $W/ratios-mma-n-1.txt $W/ratios-mma-o-1.txt
el done; ck
