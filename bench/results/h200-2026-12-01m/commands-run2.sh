#!/usr/bin/env bash
# pair layout with a persistent grid: the next work tile's Q and first K/V tile load during the current one's last
source .dev/device-env.sh
W=/tmp/w24; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r24.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j10 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j6 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen
EFFGEN_PAIR_PERSISTENT=3 timeout -s KILL 150 $N check --arch sm_90 --quick --d 192,256 --dtype bf16,fp16 --causal both > $W/check-p3.txt 2>&1; echo "check grid3 rc $? $(tail -1 $W/check-p3.txt)"
EFFGEN_PAIR_PERSISTENT=5 timeout -s KILL 60 $N check --arch sm_90 --quick --d 256 --dtype bf16 --causal both --scale 3 --kv-heads 2 > $W/check-p5-gqa.txt 2>&1; echo "check grid5 gqa rc $? $(tail -1 $W/check-p5-gqa.txt)"
timeout -s KILL 100 $N check --arch sm_90 --quick --d 192,256 --dtype bf16 --causal both > $W/check-p.txt 2>&1; echo "check default rc $? $(tail -1 $W/check-p.txt)"
el checks; ck
for r in 1 2; do
  timeout -s KILL 70 $O bench --arch sm_90 --d 192,256 --json $W/mo-$r.json > $W/mo-$r.txt 2>&1; echo "mma o $r rc $?"
  timeout -s KILL 70 $N bench --arch sm_90 --d 192,256 --json $W/mn-$r.json > $W/mn-$r.txt 2>&1; echo "mma n $r rc $?"
  EFFGEN_PAIR_PERSISTENT=0 timeout -s KILL 70 $N bench --arch sm_90 --d 192,256 --json $W/mz-$r.json > $W/mz-$r.txt 2>&1; echo "mma n grid=tiles $r rc $?"
  el round $r; ck
done
$PY .dev/ab.py $W mo- mn- | tee $W/ab-persistent.txt
$PY .dev/ab.py $W mo- mz- | tee $W/ab-tiles.txt
el ab; ck
timeout -s KILL 100 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"
for f in mo-1 mn-1 mn-2; do $PY bench/ratios.py $W/$f.json $W/peers-bf16.json > $W/ratios-$f.txt 2>&1; echo $f; grep -E "^(none|causal) +bf16 +256|worst" $W/ratios-$f.txt; done
el done; ck
