#!/usr/bin/env bash
# mask expressions beside FlexAttention's mask_mod (python/bench_flex_masks.py), both families
source .dev/device-env.sh
W=/tmp/w47; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r47.tgz -C $W . ; }
(cmake -S . -B /tmp/b47 -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b47 -j16 --target effgen_cli effgen 2>&1 | grep -E "error|warning:")
el built
export EFFGEN_DB=/nonexistent-dir/none.db
/tmp/b47/effgen info > $W/info.txt
timeout -s KILL 200 $PY python/bench_flex_masks.py --effgen /tmp/b47/effgen --out $W/flex-masks-wg.json > $W/flex-masks-wg.txt 2>&1; echo "wg rc $?"; tail -10 $W/flex-masks-wg.txt; el wg; ck
timeout -s KILL 200 $PY python/bench_flex_masks.py --effgen /tmp/b47/effgen --arch sm_90 --out $W/flex-masks-mma.json > $W/flex-masks-mma.txt 2>&1; echo "mma rc $?"; tail -10 $W/flex-masks-mma.txt; el mma; ck
