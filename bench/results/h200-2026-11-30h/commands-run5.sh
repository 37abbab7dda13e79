#!/usr/bin/env bash
# wg family: key tiles handed over by the producer (consumers do not walk); new vs HEAD; targeted tests; flex masks
source .dev/device-env.sh
W=/tmp/w48; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r48.tgz -C $W . ; }
(cmake -S . -B /tmp/b48new -DCMAKE_BUILD_TYPE=Release -DEFFGEN_PYTHON_GPU=$PY -Wno-dev >/dev/null && cmake --build /tmp/b48new -j10 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/b48old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b48old -j6 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=/tmp/b48new/effgen; O=/tmp/b48old/effgen
$N info > $W/info.txt; $O info > $W/info-old.txt
timeout -s KILL 120 /tmp/b48new/tests/test_gpu_wgmma expr refusals > $W/test-wgmma-expr.txt 2>&1; echo "test_gpu_wgmma expr rc $?"; grep -E "FAIL|passed" $W/test-wgmma-expr.txt | head -12
timeout -s KILL 60 /tmp/b48new/tests/test_expr_gpu > $W/test-expr-gpu.txt 2>&1; echo "test_expr_gpu rc $?"; grep -E "FAIL|tiles|checks" $W/test-expr-gpu.txt | cut -c1-60,100-160 | head -14; el tests; ck
WIN=(--causal 0 --mask-mod 'q >= k && q - k < 256')
PRE=(--causal 0 --mask-mod 'k < 64 || k <= q')
CHK=(--causal 1 --mask-mod 'q / 1024 == k / 1024')
ILV=(--causal 1 --mask-mod '(k / 128) % 8 == 0 || q - k < 512')
for v in new old; do
  E=$N; [ $v = old ] && E=$O
  for x in WIN PRE CHK ILV; do
    declare -n A=$x
    timeout -s KILL 40 $E bench --d 128 --n 2048,8192 "${A[@]}" --json $W/wg-$x-$v.json > $W/wg-$x-$v.txt 2>&1; echo "wg $x $v rc $?"
  done
  for x in WIN; do
    declare -n A=$x
    timeout -s KILL 60 $E bench --arch sm_90 --d 128 --n 2048,8192 "${A[@]}" --json $W/mma-$x-$v.json > $W/mma-$x-$v.txt 2>&1; echo "mma $x $v rc $?"
  done
done
el bench-new-old; ck
for f in $W/wg-*.txt $W/mma-*.txt; do echo "== $(basename $f)"; grep -E "^(mask|window)" $f | cut -c1-110; done
timeout -s KILL 150 $PY python/bench_flex_masks.py --effgen $N --out $W/flex-masks-wg.json > $W/flex-masks-wg.txt 2>&1; echo "flex rc $?"; tail -10 $W/flex-masks-wg.txt; el flex; ck
