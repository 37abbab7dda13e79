#!/usr/bin/env bash
# all GPU tests on the tree (descriptor offsets, model stages, wg head dims 8 to 56)
source .dev/device-env.sh
W=/tmp/w3; rm -rf $W; mkdir -p $W
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r3.tgz -C $W . ; }
rm -rf /tmp/bn
(cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j16 2>&1 | grep -E "error|warning:")
el built
(cd /tmp/bn && timeout -s KILL 480 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest gpu rc $?"); tail -25 $W/ctest-gpu.txt
el ctest; ck
