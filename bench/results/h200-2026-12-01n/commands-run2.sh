#!/usr/bin/env bash
source .dev/device-env.sh
W=/tmp/w28; rm -rf $W; mkdir -p $W
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r28.tgz -C $W . ; }
cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j16 2>&1 | grep -E " error |warning:"
el built
export EFFGEN_DB=/nonexistent-dir/none.db
(cd build-dev && timeout -s KILL 280 ctest -R 'test_gpu_variants$' --output-on-failure > $W/ctest-variants.txt 2>&1; echo "variants rc $?"; tail -5 $W/ctest-variants.txt)
el variants; ck
N=$PWD/build-dev/effgen
for c in bm128.bn32.w4.s2 bm128.bn64.w4.s2 bm64.bn32.w4.s2 bm64.bn64.w4.s2 bm128.bn64.w8.s2 bm128.bn32.w8.s2 bm128.bn32.w4.s3; do
  timeout -s KILL 30 $N bench --arch sm_90 --d 160 --n 4096 --config $c --json $W/d160-$c.json > $W/d160-$c.txt 2>&1; echo "d160 $c rc $? $(grep -E '^(none|causal)' $W/d160-$c.txt | awk '{printf "%s %s  ", $1, $(NF-5)}')"
done
el d160; ck
for c in bm128.bn64.w8.s2.d2 bm64.bn32.w4.s2.d2 bm64.bn32.w4.s2 bm128.bn32.w8.s2.d2 bm128.bn32.w8.s3.d2; do
  timeout -s KILL 40 $N bench --arch sm_90 --d 256 --n 512,1024 --config $c --json $W/d256-$c.json > $W/d256-$c.txt 2>&1; echo "d256 $c rc $? $(grep -E '^(none|causal)' $W/d256-$c.txt | awk '{printf "%s %s %s  ", $1, $4, $(NF-5)}')"
done
el done; ck
