#!/usr/bin/env bash
# wg family at head dims 8 to 56 (checks, timing beside the mma family), descriptor offsets and model stages; sanitizers
source .dev/device-env.sh
W=/tmp/w2; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r2.tgz -C $W . ; }
rm -rf /tmp/bn
(cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j16 --target effgen_cli effgen 2>&1 | grep -E "error|warning:")
el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=/tmp/bn/effgen
for r in 1 2; do
timeout -s KILL 90 $N bench --d 8,16,32,48,56 --dtype bf16 --json $W/small-wg-$r.json > $W/small-wg-$r.txt 2>&1; echo "small wg rc $?"
timeout -s KILL 90 $N bench --arch sm_90 --d 8,16,32,48,56 --dtype bf16 --json $W/small-mma-$r.json > $W/small-mma-$r.txt 2>&1; echo "small mma rc $?"
done
el bench; ck
CS=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
san() { local tool=$1 n=$2; shift 2; timeout -s KILL 150 $CS --tool $tool $N check --quick "$@" > $W/san-$tool-$n.txt 2>&1; echo "$tool $n rc $? $(grep -E 'passed' $W/san-$tool-$n.txt | tail -1) | $(grep -E 'SUMMARY' $W/san-$tool-$n.txt | tail -1)"; }
( san memcheck dense --d 32,64,128,256 --dtype bf16 --causal both ) &
( san racecheck dense --d 32,128 --dtype bf16 --causal both ) &
( san synccheck dense --d 64,256 --dtype bf16 --causal both ) &
( san memcheck varlen --d 64 --causal 1 --varlen 1,300 --kv-heads 2 ) &
( san racecheck varlen --d 64 --causal 1 --varlen 1,300 --kv-heads 2 ) &
ch() { local n=$1; shift; timeout -s KILL 100 $N check --quick "$@" > $W/check-$n.txt 2>&1; echo "check $n rc $? $(tail -1 $W/check-$n.txt)"; }
ch small --d 8,16,24,32,40,48,56 --dtype bf16,fp16 --causal both
ch small-scale --d 8,32,56 --causal both --scale 4
ch small-varlen --d 16,32,48 --causal both --varlen 1,700 --kv-heads 2
ch small-window --d 32,48 --causal both --window 100,20
ch small-bias --d 32 --causal both --bias b
ch small-bsparse --d 32 --causal 1 --bsparse 20,128
ch small-alibi --d 16,40 --causal 1 --alibi --softcap 30
ch small-mask --d 24 --causal 0 --mask 30
ch small-expr --d 32 --causal 1 --mask-mod "k <= q + 3"
ch small-c1 --d 32 --causal both --config wg.bm64.bn64.c1.s2
ch small-c3 --d 48 --causal both --config wg.bm192.bn64.c3.s4
ch dense --d 64,96,128,256 --dtype bf16,fp16 --causal both
ch varlen --d 64,128 --causal 1 --varlen 1,700 --kv-heads 2
el checks; ck
wait; el done; ck
