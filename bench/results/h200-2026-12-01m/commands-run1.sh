#!/usr/bin/env bash
# mma pair layout in one stage (bm64.bn64.w4.s1.d2, two CTAs per SM) at D = 192 / 256; D = 192's copies spread evenly
source .dev/device-env.sh
W=/tmp/w23; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r23.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j10 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j6 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen
C1=bm64.bn64.w4.s1.d2
timeout -s KILL 150 $N check --arch sm_90 --quick --d 192,256 --dtype bf16,fp16 --causal both --config $C1 > $W/check-s1.txt 2>&1; echo "check s1 rc $? $(tail -1 $W/check-s1.txt)"
timeout -s KILL 60 $N check --arch sm_90 --quick --d 256 --dtype bf16 --causal 1 --scale 3 --kv-heads 2 --config $C1 > $W/check-s1-gqa.txt 2>&1; echo "check s1 gqa rc $? $(tail -1 $W/check-s1-gqa.txt)"
timeout -s KILL 60 $N check --arch sm_90 --quick --d 192 --dtype bf16 --causal both > $W/check-192.txt 2>&1; echo "check 192 rc $? $(tail -1 $W/check-192.txt)"
el checks; ck
for r in 1 2; do
  timeout -s KILL 70 $O bench --arch sm_90 --d 192,256 --json $W/mo-$r.json > $W/mo-$r.txt 2>&1; echo "mma o $r rc $?"
  timeout -s KILL 70 $N bench --arch sm_90 --d 192,256 --json $W/mn-$r.json > $W/mn-$r.txt 2>&1; echo "mma n $r rc $?"
  timeout -s KILL 70 $N bench --arch sm_90 --d 192,256 --config $C1 --json $W/ms-$r.json > $W/ms-$r.txt 2>&1; echo "mma s1 $r rc $?"
  el round $r; ck
done
$PY .dev/ab.py $W mo- mn- | tee $W/ab-mma-n.txt
$PY .dev/ab.py $W mo- ms- | tee $W/ab-mma-s1.txt
timeout -s KILL 60 $N bench --arch sm_90 --d 192,256 --dtype fp16 --config $C1 --json $W/fs-1.json > $W/fs-1.txt 2>&1; echo "fp16 s1 rc $?"
timeout -s KILL 60 $O bench --arch sm_90 --d 256 --dtype fp16 --json $W/fo-1.json > $W/fo-1.txt 2>&1; echo "fp16 o rc $?"
$PY .dev/ab.py $W fo- fs- | tee $W/ab-fp16-s1.txt
el ab; ck
timeout -s KILL 100 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"
for f in mo-1 mn-1 ms-1 ms-2; do $PY bench/ratios.py $W/$f.json $W/peers-bf16.json > $W/ratios-$f.txt 2>&1; echo $f; grep -E "^(none|causal) +bf16 +256|worst" $W/ratios-$f.txt; done
el done; ck
