#!/usr/bin/env bash
# the committed tree: every GPU test
source .dev/device-env.sh
W=/tmp/w49; rm -rf $W; mkdir -p $W
ck() { tar czf $OUT/r49.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j16 2>&1 | grep -E " error |warning:"
(cd build-dev && timeout -s KILL 420 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest gpu rc $?"); grep -E "Test +#|tests passed|Total Test" $W/ctest-gpu.txt
ck
