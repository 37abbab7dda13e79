#!/usr/bin/env bash
# D = 64 with three consumers on the Q-first order (q) beside the committed tree (dev); ncu of the window and
# dense causal kernels; then all GPU tests on q
source .dev/device-env.sh
W=/tmp/wE; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/rE.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j6 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/srcQ -B build-q -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-q -j10 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
declare -A BIN=([dev]=$PWD/build-dev/effgen [q]=$PWD/build-q/effgen)
for r in 1 2 3; do
  for b in dev q; do
    timeout -s KILL 40 ${BIN[$b]} bench --dtype bf16 --d 64 --json $W/ab-$b-$r.json > $W/ab-$b-$r.txt 2>&1; echo "ab $b $r rc $?"
  done
done
$PY - "$W" <<'PY' | tee $W/ab-summary.txt
import json, sys
W = sys.argv[1]
def load(f): return {(r['mask'], r['N']): (r['tflops'], r['config']) for r in json.load(open(f))['rows']}
d = [load(f"{W}/ab-dev-{i}.json") for i in (1, 2, 3)]; q = [load(f"{W}/ab-q-{i}.json") for i in (1, 2, 3)]
print("D = 64 bf16, committed (dev) against three consumers on the Q-first order (q), best of three rounds")
print(f"{'mask':7}{'N':>6} {'config':22}{'dev':>8}{'q':>8}{'q/dev':>8}")
for k in d[0]:
    a = max(x[k][0] for x in d); b = max(x[k][0] for x in q)
    print(f"{k[0]:7}{k[1]:6} {d[0][k][1]:22}{a:8.1f}{b:8.1f}{(b/a-1)*100:+7.1f}%")
PY
el ab; ck
prof() { # name, cmd...
  local n=$1; shift
  timeout -s KILL 100 ncu --clock-control none -k regex:effgen_attn_fwd --launch-skip 3 --launch-count 1 --set full -o $W/$n -f "$@" > $W/$n.log 2>&1; echo "$n rc $?"
  ncu -i $W/$n.ncu-rep --page details > $W/$n.txt 2>&1
  ncu -i $W/$n.ncu-rep --page source --print-source sass --csv > $W/$n-sass.csv 2>&1
  $PY bench/ncu_stalls.py $W/$n-sass.csv 50 > $W/$n-stalls.txt; rm -f $W/$n.ncu-rep; gzip -f $W/$n-sass.csv
  grep -E "Duration|Warp Cycles Per Issued|Executed Instructions  |SM Active Cycles|Elapsed Cycles|Tensor" $W/$n.txt | head -10
  el $n; ck
}
prof win2k ${BIN[dev]} bench --d 128 --n 2048 --causal 1 --window 255,0 --reps 3
prof causal2k ${BIN[dev]} bench --d 128 --n 2048 --causal 1 --reps 3
(cd build-q && timeout -s KILL 420 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest gpu rc $?"); tail -4 $W/ctest-gpu.txt
el done; ck
