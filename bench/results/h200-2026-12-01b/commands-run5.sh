#!/usr/bin/env bash
# compute-sanitizer (memcheck, racecheck, synccheck) on the pair layout (.d2) through effgen check --quick
source .dev/device-env.sh
W=/tmp/w64; mkdir -p $W
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r64.tgz -C $W . ; }
(cmake -S . -B /tmp/b64 -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b64 -j16 --target effgen_cli effgen 2>&1 | grep -E "error|warning:")
el built
export EFFGEN_DB=/nonexistent-dir/none.db
E=/tmp/b64/effgen
CS=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
echo "sanitizer: $CS"; $CS --version 2>&1 | tail -1
# warm the kernel cache outside the sanitizer so that the sanitized runs time only kernels
$E check --arch sm_90 --quick --d 64,192,256 --dtype bf16 --causal both --config bm128.bn64.w8.s2.d2 > /dev/null 2>&1
for tool in memcheck racecheck synccheck; do
  timeout -s KILL 150 $CS --tool $tool $E check --arch sm_90 --quick --d 64,192,256 --dtype bf16 --causal both --config bm128.bn64.w8.s2.d2 > $W/san-$tool-d2.txt 2>&1; echo "$tool rc $?"; grep -E "passed|SUMMARY" $W/san-$tool-d2.txt | tail -2
  el $tool; ck
done
timeout -s KILL 90 $CS --tool racecheck $E check --arch sm_90 --quick --d 64 --dtype fp16 --causal both --kv-heads 1 --config bm32.bn64.w2.s2.d2 > $W/san-racecheck-d2-w2-gqa.txt 2>&1; echo "racecheck w2 rc $?"; grep -E "passed|SUMMARY" $W/san-racecheck-d2-w2-gqa.txt | tail -2
el done; ck
