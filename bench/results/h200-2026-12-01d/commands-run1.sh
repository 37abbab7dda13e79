#!/usr/bin/env bash
# short rows: batch scaling (effgen, cuDNN, flash), ncu of the wg kernel and cuDNN on D64 causal 512 and D128 none 512
source .dev/device-env.sh
W=/tmp/w1; mkdir -p $W; B=/tmp/b1; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r1.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv > $W/info.txt
(cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build $B -j16 --target effgen_cli effgen 2>&1 | grep -E "error|warning:")
el built
export EFFGEN_DB=/nonexistent-dir/none.db EFFGEN_LIBRARY=$B/libeffgen.so
timeout -s KILL 240 $PY python/bench_scaling.py --out $W/scaling.json > $W/scaling.txt 2>&1; echo "scaling rc $?"; tail -14 $W/scaling.txt
el scaling; ck
E=$B/effgen
prof() { # name, cmd...
  local n=$1; shift
  timeout -s KILL 100 ncu --clock-control none -k regex:"$K" --launch-skip 3 --launch-count 1 --set full -o $W/$n -f "$@" > $W/$n.log 2>&1; echo "$n rc $?"
  ncu -i $W/$n.ncu-rep --page details > $W/$n.txt 2>&1
  ncu -i $W/$n.ncu-rep --page source --print-source sass --csv > $W/$n-sass.csv 2>&1
  $PY bench/ncu_stalls.py $W/$n-sass.csv 50 > $W/$n-stalls.txt; rm -f $W/$n.ncu-rep; gzip -f $W/$n-sass.csv
  grep -E "Duration|Warp Cycles Per Issued|Executed Instructions  |Registers Per|SM Active Cycles|Elapsed Cycles" $W/$n.txt | head -8
  el $n; ck
}
K=effgen_attn_fwd
prof wg64c512 $E bench --d 64 --n 512 --causal 1 --reps 3
prof wg128n512 $E bench --d 128 --n 512 --causal 0 --reps 3
cat > $W/peer.py <<'PY'
import sys, torch
from torch.nn.attention import sdpa_kernel, SDPBackend
be = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}[sys.argv[1]]
n = int(sys.argv[2]); d = int(sys.argv[3]); c = sys.argv[4] == "1"; b = 16384 // n; h = 2048 // d
q, k, v = (torch.randn(b, h, n, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
with sdpa_kernel([be]):
    for _ in range(6): torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=c)
torch.cuda.synchronize()
PY
K="(?i)sdpa|fprop|fmha|flash|attn"
prof cudnn64c512 $PY $W/peer.py cudnn 512 64 1
prof cudnn128n512 $PY $W/peer.py cudnn 512 128 0
el done; ck
