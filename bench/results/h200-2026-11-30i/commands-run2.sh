#!/usr/bin/env bash
# mma.sync copies: HEAD vs grouped chunks (8 threads a row) vs thread-fixed pointers alone (working tree); D128/D256 beside FA2
source .dev/device-env.sh
W=/tmp/w52; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r52.tgz -C $W . ; }
(cmake -S . -B /tmp/b52ng -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b52ng -j6 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/srcg -B /tmp/b52g -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b52g -j5 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/b52old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b52old -j5 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
/tmp/b52ng/effgen info > $W/info.txt
timeout -s KILL 60 /tmp/b52ng/effgen check --arch sm_90 --quick --d 64,128,160,256 --dtype bf16 --causal both > $W/check-ng.txt 2>&1; echo "check ng rc $?"; tail -1 $W/check-ng.txt
for round in 1 2; do
for v in old g ng; do
  E=/tmp/b52$v/effgen
  timeout -s KILL 40 $E bench --arch sm_90 --d 128,256 --dtype bf16 --json $W/mma-$v-$round.json > $W/mma-$v-$round.txt 2>&1; echo "mma $v rc $?"
  timeout -s KILL 30 $E bench --arch sm_90 --d 256 --config bm64.bn64.w4.s1 --dtype bf16 --json $W/s1-$v-$round.json > $W/s1-$v-$round.txt 2>&1; echo "s1 $v rc $?"
done; el round$round; ck; done
timeout -s KILL 100 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"; el peers
for f in $W/mma-*.json $W/s1-*.json; do b=$(basename $f .json); $PY bench/ratios.py $f $W/peers-bf16.json > $W/ratios-$b.txt 2>&1; done; ck
$PY - <<'PY'
import json,glob,collections
W='/tmp/w52'
rows=collections.defaultdict(dict)
for f in sorted(glob.glob(W+'/mma-*.json')+glob.glob(W+'/s1-*.json')):
    b=f.split('/')[-1][:-5]; kind,v,rnd=b.split('-')
    d=json.load(open(f)); rr=d['rows'] if isinstance(d,dict) else d
    for r in rr:
        if 'tflops' not in r: continue
        k=(kind,r['D'],r.get('mask',''),r['N']); rows[k].setdefault(v,[]).append(r['tflops'])
print("kind D mask N  old  g  ng  g/old ng/old")
for k in sorted(rows):
    x=rows[k]; m={v:max(x[v]) for v in x}
    if all(v in m for v in ('old','g','ng')): print(*k, "%.1f %.1f %.1f  %.3f %.3f"%(m['old'],m['g'],m['ng'],m['g']/m['old'],m['ng']/m['old']))
PY
el done
