#!/usr/bin/env bash
# committed build: copy bandwidth, window rows vs c1 at 2 CTAs/SM (x), masks suite beside peers, all GPU tests
source .dev/device-env.sh
W=/tmp/w54; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r54.tgz -C $W . ; }
(cmake -S . -B /tmp/b54 -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b54 -j10 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/srcx -B /tmp/b54x -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b54x -j6 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
E=/tmp/b54/effgen; X=/tmp/b54x/effgen
$E info > $W/info.txt
$PY - > $W/copy-bw.txt 2>&1 <<'PY'
import torch
for mb in (256, 1024, 4096):
    n = mb << 20
    a = torch.empty(n, dtype=torch.uint8, device="cuda"); b = torch.empty_like(a)
    for _ in range(3): b.copy_(a)
    ts = []
    for _ in range(20):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record(); b.copy_(a); e.record(); e.synchronize(); ts.append(s.elapsed_time(e))
    ts.sort(); ms = ts[len(ts)//2]
    print("copy %5d MB: median %.4f ms, %.2f TB/s (read + write)" % (mb, ms, 2 * n / ms / 1e9))
PY
cat $W/copy-bw.txt; el copy
for round in 1 2; do
  timeout -s KILL 40 $E bench --d 128 --n 2048,8192 --causal 1 --window 255,0 --json $W/win-new-$round.json > $W/win-new-$round.txt 2>&1; echo "win new rc $?"
  timeout -s KILL 40 $X bench --d 128 --n 2048,8192 --causal 1 --window 255,0 --config wg.bm64.bn64.c1.s2 --json $W/win-x-$round.json > $W/win-x-$round.txt 2>&1; echo "win x rc $?"
done; el window; ck
for v in "--causal 1 --window 255,0" "--causal 1 --alibi" "--bias b --causal 0" "--bsparse 10,128 --causal 0"; do
  timeout -s KILL 40 $E bench --d 128 --n 2048,8192 $v --json $W/m-$(echo $v | tr -dc a-z0-9).json 2>&1 | tail -n +2
done > $W/m-effgen.txt; cat $W/m-effgen.txt; el masks-effgen; ck
timeout -s KILL 90 $PY .dev/peers/peers.py --suite masks --dtype bf16 --out $W/peers-masks.json > $W/peers-masks.log 2>&1; echo "peers masks rc $?"
$PY - $W <<'PY'
import json, sys, glob
w = sys.argv[1]
rows = []
for f in sorted(glob.glob(w + "/m-*.json")):
    rows += json.load(open(f))["rows"]
json.dump({"rows": rows}, open(w + "/effgen-masks.json", "w"), indent=1)
PY
$PY .dev/peers/compare.py $W/effgen-masks.json $W/peers-masks.json > $W/compare-masks.txt 2>&1; cat $W/compare-masks.txt; el masks; ck
(cd /tmp/b54 && timeout -s KILL 330 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest rc $?"; tail -15 $W/ctest-gpu.txt)
el ctest; ck
