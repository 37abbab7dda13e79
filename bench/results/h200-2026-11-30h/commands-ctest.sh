#!/usr/bin/env bash
# full GPU tests on the working tree
source .dev/device-env.sh
W=/tmp/w46; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r46.tgz -C $W . ; }
if [ ! -x /tmp/b45new/effgen ]; then (cmake -S . -B /tmp/b45new -DCMAKE_BUILD_TYPE=Release -DEFFGEN_PYTHON_GPU=$PY -Wno-dev >/dev/null && cmake --build /tmp/b45new -j16 2>&1 | grep -E "error|warning:"); fi
el built
export EFFGEN_DB=/nonexistent-dir/none.db
(cd /tmp/b45new && timeout -s KILL $((580 - (SECONDS - t0))) ctest -L gpu -j8 > $W/ctest-gpu.txt 2>&1; echo "ctest rc $?"; cp Testing/Temporary/LastTest.log $W/ctest-gpu-full.log); tail -22 $W/ctest-gpu.txt; el ctest; ck
