#!/usr/bin/env bash
# three consumers on their own key tiles, without ping-pong (build-dev) and with it (build-x), beside the committed tree
source .dev/device-env.sh
W=/tmp/w16; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r16.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j6 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j4 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/srcx -B build-x -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-x -j6 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen; X=$PWD/build-x/effgen
C3=wg.bm192.bn64.c3.s3
timeout -s KILL 40 $N check --quick --d 128 --dtype bf16 --config $C3 --window 255,0 --causal 1 > $W/check-n.txt 2>&1; echo "check n rc $? $(tail -1 $W/check-n.txt)"
timeout -s KILL 40 $N check --quick --d 128 --dtype bf16 --config $C3 --window 30,0 --causal 1 > $W/check-n30.txt 2>&1; echo "check n 30 rc $? $(tail -1 $W/check-n30.txt)"
el checks; ck
A="--d 128 --n 2048,8192 --causal 1 --window 255,0"
for r in 1 2; do
  timeout -s KILL 40 $O bench $A --json $W/o-model-$r.json > /dev/null 2>&1; echo "o model $r rc $?"
  timeout -s KILL 40 $O bench $A --config $C3 --json $W/o-c3-$r.json > /dev/null 2>&1; echo "o c3 $r rc $?"
  timeout -s KILL 40 $X bench $A --config $C3 --json $W/x-c3-trim-pingpong-$r.json > /dev/null 2>&1; echo "x c3 $r rc $?"
  timeout -s KILL 40 $N bench $A --config $C3 --json $W/n-c3-trim-nopingpong-$r.json > /dev/null 2>&1; echo "n c3 $r rc $?"
done
for f in $W/*-[12].json; do $PY - "$f" <<'PY'
import json,sys
try: rows=json.load(open(sys.argv[1]))["rows"]
except Exception: print(sys.argv[1].split('/')[-1], "no rows"); sys.exit()
print(sys.argv[1].split('/')[-1], " ".join(f"N{r['N']}:{r['tflops']:.1f}" for r in rows), rows[0].get('config'))
PY
done | sort > $W/summary.txt; cat $W/summary.txt
el done; ck
