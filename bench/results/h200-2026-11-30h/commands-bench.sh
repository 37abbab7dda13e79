#!/usr/bin/env bash
# mask-expression tile walk (runs of tiles, first tile handed over), mma family tile skipping, / and % ranges: new vs HEAD; targeted tests; peers masks
source .dev/device-env.sh
W=/tmp/w45; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r45.tgz -C $W . ; }
(cmake -S . -B /tmp/b45new -DCMAKE_BUILD_TYPE=Release -DEFFGEN_PYTHON_GPU=$PY -Wno-dev >/dev/null && cmake --build /tmp/b45new -j10 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/b45old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b45old -j6 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=/tmp/b45new/effgen; O=/tmp/b45old/effgen
$N info > $W/info.txt; $O info > $W/info-old.txt
timeout -s KILL 120 /tmp/b45new/tests/test_gpu_wgmma expr refusals > $W/test-wgmma-expr.txt 2>&1; echo "test_gpu_wgmma expr rc $?"; grep -E "FAIL|passed" $W/test-wgmma-expr.txt | head -12
timeout -s KILL 60 /tmp/b45new/tests/test_expr_gpu > $W/test-expr-gpu.txt 2>&1; echo "test_expr_gpu rc $?"; grep -E "FAIL|tiles|checks" $W/test-expr-gpu.txt | cut -c1-60,100-160 | head -14; el tests; ck
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
  for x in WIN CHK; do
    declare -n A=$x
    timeout -s KILL 60 $E bench --arch sm_90 --d 128 --n 2048,8192 "${A[@]}" --json $W/mma-$x-$v.json > $W/mma-$x-$v.txt 2>&1; echo "mma $x $v rc $?"
  done
done
el bench-new-old; ck
for c in bm128.bn64.w4.s2 bm128.bn32.w4.s2 bm64.bn64.w4.s2 bm128.bn64.w8.s2; do
  for x in WIN CHK; do
    declare -n A=$x
    timeout -s KILL 40 $N bench --arch sm_90 --config $c --d 128 --n 2048,8192 "${A[@]}" --json $W/mmacfg-$x-$c.json > $W/mmacfg-$x-$c.txt 2>&1; echo "mma $x $c rc $?"
  done
done
timeout -s KILL 30 $N bench --d 128 --n 2048,8192 --causal 1 --window 255,0 --json $W/win-builtin.json > $W/win-builtin.txt 2>&1; echo "win builtin rc $?"
timeout -s KILL 30 $N bench --arch sm_90 --d 128 --n 2048,8192 --causal 1 --window 255,0 --json $W/win-builtin-mma.json > $W/win-builtin-mma.txt 2>&1; echo "win builtin mma rc $?"
for f in $W/wg-*.txt $W/mma-*.txt $W/mmacfg-*.txt $W/win-builtin*.txt; do echo "== $(basename $f)"; grep -E "^(mask|window)" $f | cut -c1-150; done; el bench; ck
timeout -s KILL 100 $PY .dev/peers/peers.py --suite masks --dtype bf16 --out $W/peers-masks.json > $W/peers-masks.log 2>&1; echo "peers masks rc $?"; el peers; ck
