#!/usr/bin/env bash
# quarters experiment (D=192/256) vs HEAD, and D=160 config/N sweep (fixed cost vs per-tile) at bf16
source .dev/device-env.sh
W=/tmp/w33; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r33.tgz -C $W . ; }
git apply .dev/exp-quarters.diff || { echo "patch failed"; exit 1; }
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j10 --target effgen_cli test_gpu_attention 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B /tmp/build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/build-old -j6 --target effgen_cli 2>&1 | grep -E " error |warning:") &
wait
el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=/tmp/build-old/effgen
timeout -s KILL 40 $N check --arch sm_90 --d 192,256 --dtype bf16,fp16 --causal both > $W/check-new.txt 2>&1; echo "check rc $?"; tail -1 $W/check-new.txt
for r in 1 2; do
  timeout -s KILL 40 $O bench --arch sm_90 --d 192,256 --dtype bf16 --json $W/old-r$r.json > $W/old-r$r.txt 2>&1; echo "old r$r rc $?"
  timeout -s KILL 40 $N bench --arch sm_90 --d 192,256 --dtype bf16 --json $W/new-r$r.json > $W/new-r$r.txt 2>&1; echo "new r$r rc $?"
done
$PY .dev/ab.py $W old new | tee $W/ab.txt
el ab; ck
for c in bm128.bn32.w4.s2 bm64.bn64.w4.s2 bm64.bn32.w4.s2.d2 bm128.bn32.w8.s2.d2; do
  timeout -s KILL 40 $O bench --arch sm_90 --d 160 --n 1024,2048,4096,8192,16384 --config $c --json $W/d160-$c.json > $W/d160-$c.txt 2>&1; echo "d160 $c rc $?"
  grep -E '^(none|causal)' $W/d160-$c.txt | awk "{print \$1, \$4, \$11}" | paste - - - - - - - - - -
done
timeout -s KILL 40 $O bench --arch sm_90 --d 128 --n 1024,2048,4096,8192,16384 --json $W/d128.json > $W/d128.txt 2>&1; echo "d128 rc $?"
grep -E '^(none|causal)' $W/d128.txt | awk "{print \$1, \$4, \$11}" | paste - - - - - - - - - -
el sweep; ck
(cd build-dev && timeout -s KILL 200 ctest -R "test_gpu_attention" --output-on-failure > $W/ctest-attention.txt 2>&1; echo "ctest rc $?"; tail -3 $W/ctest-attention.txt)
el done; ck
git apply -R .dev/exp-quarters.diff
