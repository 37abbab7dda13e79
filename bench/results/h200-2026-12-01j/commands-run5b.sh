#!/usr/bin/env bash
# the walk section (a mask expression of documents that every row sees part of)
source .dev/device-env.sh
W=/tmp/w6; rm -rf $W; mkdir -p $W
cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j14 --target test_gpu_wgmma 2>&1 | grep -E " error |warning:"
export EFFGEN_DB=/nonexistent-dir/none.db
timeout -s KILL 250 build-dev/tests/test_gpu_wgmma walk > $W/walk.txt 2>&1; echo "walk rc $? $(tail -1 $W/walk.txt)"; grep FAIL $W/walk.txt | head
grep "doc\[b" $W/walk.txt | cut -c1-60,150-260
tar czf $OUT/r6.tgz -C $W .
