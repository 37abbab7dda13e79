#!/usr/bin/env bash
# plain loop without spills (unsigned copy offsets and LSE row), pair layout's even spread: A/B on the mma dense suite,
# head dims at 4k, beside the peers
source .dev/device-env.sh
W=/tmp/w25; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r25.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j10 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j6 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen
timeout -s KILL 150 $N check --arch sm_90 --quick --d 64,80,128,160 --dtype bf16,fp16 --causal both > $W/check-plain.txt 2>&1; echo "check plain rc $? $(tail -1 $W/check-plain.txt)"
el checks; ck
for r in 1 2; do
  timeout -s KILL 90 $O bench --arch sm_90 --json $W/mo-$r.json > $W/mo-$r.txt 2>&1; echo "mma o $r rc $?"
  timeout -s KILL 90 $N bench --arch sm_90 --json $W/mn-$r.json > $W/mn-$r.txt 2>&1; echo "mma n $r rc $?"
  el round $r; ck
done
$PY .dev/ab.py $W mo- mn- | tee $W/ab-mma.txt
for r in 1 2; do
  timeout -s KILL 60 $O bench --arch sm_90 --d 64,80,96,128,160,192,256 --n 4096 --json $W/do-$r.json > $W/do-$r.txt 2>&1; echo "dims o $r rc $?"
  timeout -s KILL 60 $N bench --arch sm_90 --d 64,80,96,128,160,192,256 --n 4096 --json $W/dn-$r.json > $W/dn-$r.txt 2>&1; echo "dims n $r rc $?"
done
$PY .dev/ab.py $W do- dn- | tee $W/ab-dims.txt
el ab; ck
timeout -s KILL 100 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"
for f in mo-1 mn-1 mn-2; do $PY bench/ratios.py $W/$f.json $W/peers-bf16.json > $W/ratios-$f.txt 2>&1; echo $f; grep -E "worst" $W/ratios-$f.txt; done
cat $W/ratios-mn-1.txt
el done; ck
