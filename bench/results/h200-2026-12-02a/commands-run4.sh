#!/usr/bin/env bash
# final tree: the GPU tests of the mma family, the runtime and the variants
source .dev/device-env.sh
W=/tmp/w43; rm -rf $W; mkdir -p $W
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r43.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j16 2>&1 | grep -E " error |warning:"
el built
export EFFGEN_DB=/nonexistent-dir/none.db
cd build-dev && timeout -s KILL 210 ctest -L gpu -E wgmma -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest gpu rc $?"; grep -E "tests passed|Failed|Total Test|FAIL" $W/ctest-gpu.txt | head; cd ..
el done; ck
