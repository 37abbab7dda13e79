#!/usr/bin/env bash
# compute-sanitizer (memcheck, racecheck, synccheck) on window kernels walking strips of 3 blocks, through effgen check --quick
source .dev/device-env.sh
W=/tmp/w4; rm -rf $W; mkdir -p $W
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r4.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j14 --target effgen_cli effgen 2>&1 | grep -E " error |warning:")
el built
export EFFGEN_DB=/nonexistent-dir/none.db EFFGEN_WG_STRIP=3
N=$PWD/build-dev/effgen
CS=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
san() { local tool=$1 n=$2; shift 2; timeout -s KILL 280 $CS --tool $tool $N check --quick "$@" > $W/san-$tool-$n.txt 2>&1; echo "$tool $n rc $? $(grep -E 'passed' $W/san-$tool-$n.txt | tail -1) | $(grep -E 'SUMMARY' $W/san-$tool-$n.txt | tail -1)"; }
( san memcheck w256 --d 128 --causal 1 --window 255,0 ) &
( san racecheck w256 --d 128 --causal 1 --window 255,0 ) &
( san synccheck w256 --d 128 --causal 1 --window 255,0 ) &
( san racecheck w2 --d 96 --causal 0 --window 100,60 --alibi --kv-heads 2 ) &
( san synccheck w2 --d 96 --causal 0 --window 100,60 --alibi --kv-heads 2 ) &
( san memcheck varlen --d 128 --causal 1 --window 255,0 --varlen 1,600 --kv-heads 2 ) &
( san synccheck varlen --d 128 --causal 1 --window 255,0 --varlen 1,600 --kv-heads 2 ) &
wait
el done; ck
