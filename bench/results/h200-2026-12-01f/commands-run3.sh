#!/usr/bin/env bash
# the final tree: warpgroup-uniform branch before the P V wait (n) beside the same tree without it (o);
# GPU tests, compute-sanitizer (synccheck included), then dense bf16/fp16, the mma family and the masks beside the peers
source .dev/device-env.sh
W=/tmp/w3; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r3.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
rm -rf /tmp/bn /tmp/bo
(cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j13 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/bo -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bo -j3 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=/tmp/bn/effgen
ch() { local n=$1; shift; timeout -s KILL 120 $N check --quick "$@" > $W/check-$n.txt 2>&1; echo "check $n rc $? $(tail -1 $W/check-$n.txt)"; }
CS=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
san() { local tool=$1 n=$2; shift 2; timeout -s KILL 200 $CS --tool $tool $N check --quick "$@" > $W/san-$tool-$n.txt 2>&1; echo "$tool $n rc $? $(grep -E 'passed' $W/san-$tool-$n.txt | tail -1) | $(grep -E 'SUMMARY' $W/san-$tool-$n.txt | tail -1)"; }
( (cd /tmp/bn && timeout -s KILL 300 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest gpu rc $?"); tail -4 $W/ctest-gpu.txt ) &
( san synccheck win --d 80,128 --causal 1 --window 60,10 --alibi ) &
( san synccheck dense --d 64,96,128,256 --dtype bf16 --causal both ) &
( san synccheck varlen --d 128 --causal both --varlen 1,300 --kv-heads 2 ) &
( san memcheck dense --d 64,128,256 --dtype fp16 --causal both ) &
( san racecheck dense --d 64,128 --dtype bf16 --causal both ) &
( san memcheck win --d 128 --causal 1 --window 100,0 --bias b ) &
( san racecheck win --d 128 --causal 1 --window 100,0 --alibi ) &
( ch window --d 80,128 --dtype bf16,fp16 --causal both --window 100,20 --alibi
  ch dense --d 64,96,128,256 --dtype bf16,fp16 --causal both
  ch bias --d 128 --causal both --bias bh ) &
wait; el tests-checks-sanitizers; ck
export EFFGEN_DB=/nonexistent-dir/none.db
timeout -s KILL 40 /tmp/bo/effgen bench --dtype bf16 --d 128 --json $W/ab-o-d128.json > $W/ab-o-d128.txt 2>&1; echo "ab o rc $?"
for dt in bf16 fp16; do
  timeout -s KILL 80 $N bench --dtype $dt --json $W/effgen-$dt.json > $W/effgen-$dt.txt 2>&1; echo "dense $dt rc $?"
  timeout -s KILL 120 $PY .dev/peers/peers.py --suite dense --dtype $dt --out $W/peers-$dt.json > $W/peers-$dt.log 2>&1; echo "peers $dt rc $?"
  $PY bench/ratios.py $W/effgen-$dt.json $W/peers-$dt.json > $W/ratios-$dt.txt 2>&1; $PY .dev/peers/compare.py $W/effgen-$dt.json $W/peers-$dt.json > $W/compare-$dt.txt 2>&1
  grep worst $W/ratios-$dt.txt
  el $dt; ck
done
timeout -s KILL 40 /tmp/bo/effgen bench --dtype bf16 --d 128 --json $W/ab-o2-d128.json > $W/ab-o2-d128.txt 2>&1; echo "ab o2 rc $?"
for dt in bf16 fp16; do
  timeout -s KILL 80 $N bench --arch sm_90 --dtype $dt --json $W/effgen-mma-$dt.json > $W/effgen-mma-$dt.txt 2>&1; echo "mma $dt rc $?"
  $PY bench/ratios.py $W/effgen-mma-$dt.json $W/peers-$dt.json > $W/ratios-mma-$dt.txt 2>&1
  $PY bench/families.py $W/effgen-$dt.json $W/effgen-mma-$dt.json > $W/families-$dt.txt 2>&1; tail -2 $W/families-$dt.txt
done
el mma; ck
for m in "window --causal 1 --window 255,0" "alibi --causal 1 --alibi" "bias --causal 0 --bias b" "bsparse --causal 0 --bsparse 10,128"; do
  set -- $m; n=$1; shift
  timeout -s KILL 40 $N bench --d 128 --n 2048,8192 "$@" --json $W/m-$n.json > $W/m-$n.txt 2>&1; echo "masks $n rc $?"
done
$PY - "$W" <<'PY'
import json, glob, sys
W = sys.argv[1]; rows = []
for f in sorted(glob.glob(f"{W}/m-*.json")): rows += json.load(open(f))["rows"]
json.dump({"rows": rows}, open(f"{W}/effgen-masks.json", "w"), indent=1)
PY
timeout -s KILL 100 $PY .dev/peers/peers.py --suite masks --dtype bf16 --out $W/peers-masks.json > $W/peers-masks.log 2>&1; echo "peers masks rc $?"
$PY .dev/peers/compare.py $W/effgen-masks.json $W/peers-masks.json > $W/compare-masks.txt 2>&1; cat $W/compare-masks.txt
timeout -s KILL 30 /tmp/bo/effgen bench --d 128 --n 2048,8192 --causal 1 --window 255,0 --json $W/ab-o-win.json > $W/ab-o-win.txt 2>&1; echo "ab o win rc $?"
el done; ck
