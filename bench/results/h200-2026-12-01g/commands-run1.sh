#!/usr/bin/env bash
# D = 64 back on its previous producer order: build (new and previous tree), all GPU tests, compute-sanitizer, checks
source .dev/device-env.sh
W=/tmp/wA; rm -rf $W; mkdir -p $W
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/rA.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j13 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j3 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen
ch() { local n=$1; shift; timeout -s KILL 150 $N check --quick "$@" > $W/check-$n.txt 2>&1; echo "check $n rc $? $(tail -1 $W/check-$n.txt)"; }
CS=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
san() { local tool=$1 n=$2; shift 2; timeout -s KILL 240 $CS --tool $tool $N check --quick "$@" > $W/san-$tool-$n.txt 2>&1; echo "$tool $n rc $? $(grep -E 'passed' $W/san-$tool-$n.txt | tail -1) | $(grep -E 'SUMMARY' $W/san-$tool-$n.txt | tail -1)"; }
( (cd build-dev && timeout -s KILL 480 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest gpu rc $?"); tail -4 $W/ctest-gpu.txt; el ctest ) &
( san synccheck dense --d 64,96,128,256 --dtype bf16 --causal both ) &
( san synccheck win --d 64,80,128 --causal 1 --window 60,10 --alibi ) &
( san synccheck varlen --d 64,128 --causal both --varlen 1,300 --kv-heads 2 ) &
( san memcheck dense --d 64,128,256 --dtype fp16 --causal both ) &
( san racecheck dense --d 64,128 --dtype bf16 --causal both ) &
( san memcheck win --d 64,128 --causal 1 --window 100,0 --bias b ) &
( san racecheck win --d 64,128 --causal 1 --window 100,0 --alibi ) &
( ch window --d 64,80,128 --dtype bf16,fp16 --causal both --window 100,20 --alibi
  ch dense --d 64,72,96,128,256 --dtype bf16,fp16 --causal both
  ch bias --d 64,128 --causal both --bias bh ) &
wait; el done; ck
