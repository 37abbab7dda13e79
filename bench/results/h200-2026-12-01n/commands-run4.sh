#!/usr/bin/env bash
# pair layout: the first tile's Q/K_0 in two head-dim halves (new) against HEAD (old): D = 192, 256 bf16, then peers, then checks
source .dev/device-env.sh
W=/tmp/w30; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r30.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j10 --target effgen_cli test_gpu_attention 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/build-old -j6 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=/tmp/build-old/effgen
timeout -s KILL 40 $N check --arch sm_90 --d 192,256 --dtype bf16,fp16 --causal both > $W/check-new.txt 2>&1; echo "check rc $?"; tail -3 $W/check-new.txt
for r in 1 2; do
  timeout -s KILL 40 $O bench --arch sm_90 --d 192,256 --dtype bf16 --json $W/old-r$r.json > $W/old-r$r.txt 2>&1; echo "old r$r rc $?"
  timeout -s KILL 40 $N bench --arch sm_90 --d 192,256 --dtype bf16 --json $W/new-r$r.json > $W/new-r$r.txt 2>&1; echo "new r$r rc $?"
done
$PY .dev/ab.py $W old new | tee $W/ab.txt
el ab; ck
timeout -s KILL 80 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"
for r in 1 2; do $PY bench/ratios.py $W/new-r$r.json $W/peers-bf16.json > $W/ratios-new-r$r.txt 2>&1; done
grep -E "^(none|causal)" $W/ratios-new-r1.txt | grep " 256 \| 192 " | head -24
el peers; ck
(cd build-dev && timeout -s KILL 150 ctest -R "test_gpu_attention" --output-on-failure > $W/ctest-attention.txt 2>&1; echo "ctest rc $?"; tail -4 $W/ctest-attention.txt)
el done; ck
