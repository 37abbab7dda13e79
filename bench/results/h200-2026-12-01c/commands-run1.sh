#!/usr/bin/env bash
# test_gpu_attention on the committed pair kernel; ncu stall samples: mma D256 8k (d2 default, bm64.bn64.w4.s1) and FA2 D256 8k
source .dev/device-env.sh
W=/tmp/w67; mkdir -p $W; B=/tmp/b67; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r67.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv > $W/info.txt
(cmake -S . -B $B -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build $B -j16 --target test_gpu_attention effgen_cli effgen 2>&1 | grep -E "error|warning:")
el built
export EFFGEN_DB=/nonexistent-dir/none.db
timeout -s KILL 150 $B/tests/test_gpu_attention > $W/test_gpu_attention.txt 2>&1; echo "test_gpu_attention rc $?"; tail -1 $W/test_gpu_attention.txt; grep -c "d2" $W/test_gpu_attention.txt
el tga; ck
E=$B/effgen
prof() { # name, cmd...
  local n=$1; shift
  timeout -s KILL 120 ncu --clock-control none -k regex:"$K" --launch-skip 3 --launch-count 1 --set full -o $W/$n -f "$@" > $W/$n.log 2>&1; echo "$n rc $?"
  ncu -i $W/$n.ncu-rep --page details > $W/$n.txt 2>&1
  ncu -i $W/$n.ncu-rep --page source --print-source sass --csv > $W/$n-sass.csv 2>&1
  $PY bench/ncu_stalls.py $W/$n-sass.csv 60 > $W/$n-stalls.txt; rm -f $W/$n.ncu-rep; gzip -f $W/$n-sass.csv
  grep -E "Duration|Warp Cycles Per Issued|Executed Instructions  |Registers Per" $W/$n.txt | head -5
  el $n; ck
}
K=effgen_attn_fwd
prof mma256d2 $E bench --d 256 --n 8192 --causal 0 --reps 3 --arch sm_90
prof mma256w4 $E bench --d 256 --n 8192 --causal 0 --reps 3 --arch sm_90 --config bm64.bn64.w4.s1
prof mma128 $E bench --d 128 --n 8192 --causal 0 --reps 3 --arch sm_90
cat > $W/peer.py <<'PY'
import sys, torch
from torch.nn.attention import sdpa_kernel, SDPBackend
be = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}[sys.argv[1]]
n = int(sys.argv[2]); d = int(sys.argv[3]); b = 16384 // n; h = 2048 // d
q, k, v = (torch.randn(b, h, n, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
with sdpa_kernel([be]):
    for _ in range(6): torch.nn.functional.scaled_dot_product_attention(q, k, v)
torch.cuda.synchronize()
PY
K="flash_fwd"
prof fa2-256 $PY $W/peer.py flash 8192 256
prof fa2-128 $PY $W/peer.py flash 8192 128
el done; ck
