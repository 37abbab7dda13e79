#!/usr/bin/env bash
# profile: D = 256 without a mask at N = 512 (and 4k for contrast), effgen's mma.sync kernel against FA2
source .dev/device-env.sh
W=/tmp/w45; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r45.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j16 --target effgen_cli 2>&1 | grep -E " error |warning:"
el built
export EFFGEN_DB=/nonexistent-dir/none.db
E=$PWD/build-dev/effgen
for r in 1 2; do
  timeout -s KILL 40 $E bench --arch sm_90 --dtype bf16 --d 256 --n 512,1024,4096 --causal 0 > $W/eff-$r.txt 2>&1
  for n in 512 1024 4096; do timeout -s KILL 60 $PY .dev/fa2one.py 256 $n >> $W/fa2-$r.txt 2>&1; done
done
cat $W/eff-1.txt $W/fa2-1.txt $W/eff-2.txt $W/fa2-2.txt | grep -v "^#" | head -40
el bench; ck
prof() { # name regex cmd...
  local n=$1 rx=$2; shift 2
  timeout -s KILL 120 ncu --clock-control none -k regex:$rx --launch-skip 3 --launch-count 1 --set full -o $W/$n -f "$@" > $W/$n.log 2>&1; echo "$n rc $?"
  ncu -i $W/$n.ncu-rep --page details > $W/$n.txt 2>&1
  ncu -i $W/$n.ncu-rep --page source --print-source sass --csv > $W/$n-sass.csv 2>&1
  $PY bench/ncu_stalls.py $W/$n-sass.csv 60 > $W/$n-stalls.txt; rm -f $W/$n.ncu-rep; gzip -f $W/$n-sass.csv
  grep -E "Duration|Warp Cycles Per Issued|Executed Instructions  |SM Active Cycles|Elapsed Cycles|Registers|Achieved Occ" $W/$n.txt | head -10
  head -30 $W/$n-stalls.txt
  el $n; ck
}
prof eff512 effgen_attn_fwd $E bench --arch sm_90 --dtype bf16 --d 256 --n 512 --causal 0 --reps 3
prof fa512 flash_fwd $PY .dev/fa2one.py 256 512
prof eff4k effgen_attn_fwd $E bench --arch sm_90 --dtype bf16 --d 256 --n 4096 --causal 0 --reps 3
prof fa4k flash_fwd $PY .dev/fa2one.py 256 4096
el done; ck
