#!/usr/bin/env bash
# causal launch order: EFFGEN_HEAD_GROUP sweep (heads interleaved heaviest-first) on the committed tree
source .dev/device-env.sh
W=/tmp/w34; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r34.tgz -C $W . ; }
cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j16 --target effgen_cli 2>&1 | grep -E " error |warning:"
el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen
sw() {  # D NLIST groups...
  local d=$1 n=$2; shift 2
  for r in $(seq 1 $R); do for g in def "$@"; do
    if [ $g = def ]; then unset EFFGEN_HEAD_GROUP; else export EFFGEN_HEAD_GROUP=$g; fi
    timeout -s KILL 30 $N bench --arch sm_90 --d $d --n $n --causal 1 --json $W/d$d-g$g-r$r.json > $W/d$d-g$g-r$r.txt 2>&1 || echo "fail d$d g$g"
    echo "d$d g$g r$r $(grep -E '^causal' $W/d$d-g$g-r$r.txt | awk '{printf "%s:%s ", $4, $11}')"
  done; done
  unset EFFGEN_HEAD_GROUP
}
R=2 sw 256 512,1024 8 16 64 128 256
el d256; ck
R=2 sw 160 4096,16384 1 2 3 4 8 12 24 48
el d160; ck
R=1 sw 128 4096,16384 4 16 64
R=1 sw 192 4096 4 16 40
R=1 sw 96 4096 8 32 84
el done; ck
