#!/usr/bin/env bash
# the GPU test that run 3's 300 s limit stopped (test_gpu_variants), alone on the final tree
source .dev/device-env.sh; mkdir -p /tmp/w4
(cmake -S . -B /tmp/bt -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bt -j16 2>&1 | grep -E "error|warning:")
cd /tmp/bt && timeout -s KILL 330 ctest -L gpu -R test_gpu_variants --output-on-failure > /tmp/w4/ctest-gpu-variants.txt 2>&1; echo "rc $?"
tail -5 /tmp/w4/ctest-gpu-variants.txt; cp /tmp/w4/* $OUT/
