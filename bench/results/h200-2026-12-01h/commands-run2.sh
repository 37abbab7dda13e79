#!/usr/bin/env bash
# half key tiles in the wg family: P V only (dev) and S and P V (s) beside the committed tree (old): checks, causal and window A/B
source .dev/device-env.sh
W=/tmp/wD; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/rD.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j6 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/srcS -B build-s -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-s -j5 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j5 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
declare -A BIN=([old]=$PWD/build-old/effgen [dev]=$PWD/build-dev/effgen [s]=$PWD/build-s/effgen)
ch() { local b=$1 n=$2; shift 2; timeout -s KILL 200 ${BIN[$b]} check --quick "$@" > $W/check-$b-$n.txt 2>&1; echo "check $b $n rc $? $(tail -1 $W/check-$b-$n.txt)"; }
for b in dev s; do
  ( ch $b window --d 64,80,128 --dtype bf16,fp16 --causal both --window 100,20 --alibi
    ch $b win-nc --d 64,128 --causal 0 --window 60,30 --softcap 30
    ch $b dense --d 64,96,128,192,256 --dtype bf16,fp16 --causal both
    ch $b scale --d 64,128 --causal 1 --scale 3
    ch $b cfg --d 64,96 --causal 1 --config wg.bm128.bn128.c2.s3 --window 100,0
    ch $b varlen --d 64,128 --causal both --varlen 1,300 --kv-heads 2 --window 200,0 ) &
done
wait; el checks; ck
for r in 1 2; do
  for b in old dev s; do
    timeout -s KILL 60 ${BIN[$b]} bench --dtype bf16 --causal 1 --json $W/c-$b-$r.json > $W/c-$b-$r.txt 2>&1; echo "causal $b $r rc $?"
    timeout -s KILL 40 ${BIN[$b]} bench --d 128 --n 2048,8192 --causal 1 --window 255,0 --json $W/w-$b-$r.json > $W/w-$b-$r.txt 2>&1; echo "win $b $r rc $?"
  done
  el round $r; ck
done
$PY - "$W" <<'PY' | tee $W/ab-summary.txt
import json, sys
W = sys.argv[1]
def load(f): return {(r['mask'], r['D'], r['N']): r['tflops'] for r in json.load(open(f))['rows']}
best = {}
for b in ('old', 'dev', 's'):
    rows = {}
    for r in (1, 2):
        for k in ('c', 'w'):
            for key, v in load(f"{W}/{k}-{b}-{r}.json").items(): rows[key] = max(rows.get(key, 0), v)
    best[b] = rows
print(f"{'mask':10}{'D':>4}{'N':>6}{'old':>8}{'dev':>8}{'dev/old':>9}{'s':>8}{'s/old':>8}")
for k in best['old']:
    if k not in best["dev"] or k not in best["s"]: continue
    o, d, s = best["old"][k], best["dev"][k], best["s"][k]
    print(f"{k[0]:10}{k[1]:4}{k[2]:6}{o:8.1f}{d:8.1f}{(d/o-1)*100:+8.1f}%{s:8.1f}{(s/o-1)*100:+7.1f}%")
PY
el done; ck
