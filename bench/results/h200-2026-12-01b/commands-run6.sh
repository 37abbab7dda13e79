#!/usr/bin/env bash
# pair layout with one exchange per key tile past the first (speculative P): checks (incl. large score scales), sanitizers,
# test_gpu_attention, timing against the committed build (.dev/oldsrc) beside FA2
source .dev/device-env.sh
W=/tmp/w65; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r65.tgz -C $W . ; }
(cmake -S . -B /tmp/b65n -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b65n -j12 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/b65o -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b65o -j4 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
E=/tmp/b65n/effgen
(timeout -s KILL 200 /tmp/b65n/tests/test_gpu_attention > $W/test_gpu_attention.txt 2>&1; echo "test_gpu_attention rc $?" >> $W/test_gpu_attention.txt) &
TG=$!
timeout -s KILL 90 $E check --arch sm_90 --quick --d 64,160,192,256 --dtype bf16,fp16 --causal both --config bm128.bn64.w8.s2.d2 > $W/check-d2.txt 2>&1; echo "check d2 rc $?"; tail -1 $W/check-d2.txt
timeout -s KILL 90 $E check --arch sm_90 --quick --d 64,160,192,256 --dtype bf16,fp16 --causal both --config bm128.bn64.w8.s2.d2 --scale 4 > $W/check-d2-scale4.txt 2>&1; echo "check d2 scale4 rc $?"; tail -1 $W/check-d2-scale4.txt
timeout -s KILL 60 $E check --arch sm_90 --quick --d 64,256 --causal both --kv-heads 1 --scale 4 --config bm32.bn64.w2.s2.d2 > $W/check-d2-w2.txt 2>&1; echo "check w2 rc $?"; tail -1 $W/check-d2-w2.txt
timeout -s KILL 60 $E check --arch sm_90 --quick --d 192,256 --causal both > $W/check-defaults.txt 2>&1; echo "check defaults rc $?"; tail -1 $W/check-defaults.txt
CS=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
for tool in racecheck synccheck memcheck; do
  timeout -s KILL 90 $CS --tool $tool $E check --arch sm_90 --quick --d 64,256 --dtype bf16 --causal both --scale 4 --config bm128.bn64.w8.s2.d2 > $W/san-$tool.txt 2>&1; echo "$tool rc $?"; grep -E "passed|SUMMARY" $W/san-$tool.txt | tail -2
done
el checks; ck
wait $TG; tail -3 $W/test_gpu_attention.txt; grep -c "^ok" $W/test_gpu_attention.txt; el tga; ck
for round in 1 2; do
for v in o n; do
  timeout -s KILL 60 /tmp/b65$v/effgen bench --arch sm_90 --d 192,256 --dtype bf16 --json $W/mma-$v-$round.json > $W/mma-$v-$round.txt 2>&1; echo "mma $v rc $?"
done; el round$round; ck; done
timeout -s KILL 100 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"; el peers
for f in $W/mma-*.json; do b=$(basename $f .json); $PY bench/ratios.py $f $W/peers-bf16.json > $W/ratios-$b.txt 2>&1; done; ck
$PY - <<'PY'
import json,glob,collections
W='/tmp/w65'; rows=collections.defaultdict(dict)
for f in sorted(glob.glob(W+'/mma-*.json')):
    _,v,rnd=f.split('/')[-1][:-5].split('-'); d=json.load(open(f)); rr=d['rows'] if isinstance(d,dict) else d
    for r in rr:
        if 'tflops' in r: k=(r['D'],r['mask'],r['N']); rows[k][v]=max(rows[k].get(v,0),r['tflops'])
fa={}
for r in (lambda d: d['rows'] if isinstance(d,dict) else d)(json.load(open(W+'/peers-bf16.json'))):
    if r.get('impl')=='sdpa-flash' and r.get('tflops'): fa[(r['D'],r['mask'],r['N'])]=r['tflops']
out=open(W+'/new-vs-old.txt','w')
for k in sorted(rows):
    x=rows[k]; f=fa.get(k); line="%d %-6s %6d old %6.1f new %6.1f new/old %.3f %s"%(k[0],k[1],k[2],x['o'],x['n'],x['n']/x['o'],('FA2 %.1f new/FA2 %.2f'%(f,x['n']/f)) if f else '')
    print(line); out.write(line+'\n')
PY
ck; el done
