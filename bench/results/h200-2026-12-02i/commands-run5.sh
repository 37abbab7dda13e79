#!/usr/bin/env bash
# diagnosis of the mma.sync window bit mask: every score where the mask and the old compares disagree printed
# by the kernel (printf), on the tile tests
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w94; rm -rf $W; mkdir -p $W
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build build-dev -j16 2>&1 | grep -E " error |warning:"
el built
timeout -s KILL 120 build-dev/tests/test_gpu_variants tiles > $W/tiles.txt 2>&1; echo "tiles rc $?"
grep -c MISMATCH $W/tiles.txt; grep -E "^FAIL|^ok|passed" $W/tiles.txt | cut -c1-120 | head -30
grep MISMATCH $W/tiles.txt | sort | uniq | head -60
grep MISMATCH $W/tiles.txt | gzip > $OUT/mismatch.txt.gz; cp $W/tiles.txt $OUT/ 2>/dev/null; head -c 4000000 $W/tiles.txt > $OUT/tiles-head.txt
el done
