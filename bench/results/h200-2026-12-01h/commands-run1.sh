#!/usr/bin/env bash
# mma.sync family: ptxas -O3 (default) against -O1 (EGX), the load_tile row-test form B; D = 256 configs; peers dense bf16
source .dev/device-env.sh
W=/tmp/wC; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/rC.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j10 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/srcB -B build-b -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-b -j6 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; B=$PWD/build-b/effgen
b() { local tag=$1 bin=$2; shift 2; timeout -s KILL 60 $bin bench --arch sm_90 "$@" --json $W/$tag.json > $W/$tag.txt 2>&1; echo "$tag rc $?"; }
for r in 1 2; do
  b o3-$r $N --dtype bf16
  EGX=--ptxas-options=-O1 b o1-$r $N --dtype bf16
  b fb-$r $B --dtype bf16
  el round $r; ck
done
b dims-o3 $N --dtype bf16 --d 80,96,160,192 --n 4096
EGX=--ptxas-options=-O1 b dims-o1 $N --dtype bf16 --d 80,96,160,192 --n 4096
for c in bm64.bn64.w4.s1 bm128.bn64.w8.s2.d2 bm128.bn64.w8.s1 bm64.bn64.w4.s2; do
  b d256-$c-o3 $N --dtype bf16 --d 256 --n 1024,4096,16384 --config $c
  EGX=--ptxas-options=-O1 b d256-$c-o1 $N --dtype bf16 --d 256 --n 1024,4096,16384 --config $c
done
el d256; ck
timeout -s KILL 120 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"
for f in o3-1 o1-1 fb-1; do $PY bench/ratios.py $W/$f.json $W/peers-bf16.json > $W/ratios-$f.txt 2>&1; echo "$f $(grep worst $W/ratios-$f.txt | head -1)"; done
el done; ck
