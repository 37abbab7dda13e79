#!/usr/bin/env bash
# Q first up to D = 128 and Q in registers beside a window, ALiBi or a bias (n) beside the committed build (o):
# all GPU tests, checks, compute-sanitizer, mask rows and dense A/B in both orders
source .dev/device-env.sh
W=/tmp/w2; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r2.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
rm -rf /tmp/bn /tmp/bo
(cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j12 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/bo -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bo -j4 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=/tmp/bn/effgen
ch() { local n=$1; shift; timeout -s KILL 120 $N check --quick "$@" > $W/check-$n.txt 2>&1; echo "check $n rc $? $(tail -1 $W/check-$n.txt)"; }
CS=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
san() { local tool=$1 n=$2; shift 2; timeout -s KILL 200 $CS --tool $tool $N check --quick "$@" > $W/san-$tool-$n.txt 2>&1; echo "$tool $n rc $? $(grep -E 'passed' $W/san-$tool-$n.txt | tail -1) | $(grep -E 'SUMMARY' $W/san-$tool-$n.txt | tail -1)"; }
( (cd /tmp/bn && timeout -s KILL 340 ctest -L gpu -j6 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest gpu rc $?"); tail -4 $W/ctest-gpu.txt ) &
( san memcheck win --d 128 --causal 1 --window 100,0 --alibi ) &
( san racecheck win --d 80,128 --causal 1 --window 100,0 --alibi ) &
( san memcheck bias --d 128 --causal 0 --bias b ) &
( san racecheck bias --d 128 --causal 1 --bias bh ) &
( san synccheck win --d 128 --causal 1 --window 60,10 ) &
( ch window --d 80,128 --dtype bf16,fp16 --causal both --window 100,20 --alibi
  ch window2 --d 64,96,128 --causal 1 --window 255,0
  ch alibi --d 128 --dtype bf16,fp16 --causal both --alibi --kv-heads 4
  ch bias --d 80,128 --dtype bf16,fp16 --causal both --bias b
  ch biasq --d 128 --causal 0 --bias i --alibi
  ch wvarlen --d 128 --causal 1 --varlen 1,700 --window 100,0
  ch bsparse --d 128 --causal 1 --bsparse 20,128 --window 300,0
  ch mask --d 128 --causal 0 --mask 30
  ch dense --d 64,128,256 --dtype bf16,fp16 --causal both ) &
wait; el tests-checks-sanitizers; ck
ab() { local tag=$1; shift; for b in n o; do timeout -s KILL 60 /tmp/b$b/effgen bench "$@" --json $W/ab-$tag-$b.json > $W/ab-$tag-$b.txt 2>&1; echo "ab $tag $b rc $?"; done; }
for r in 1 2; do
ab win-$r --d 128 --n 2048,8192 --causal 1 --window 255,0
ab alibi-$r --d 128 --n 2048,8192 --causal 1 --alibi
ab bias-$r --d 128 --n 2048,8192 --causal 0 --bias b
ab bsp-$r --d 128 --n 8192 --causal 0 --bsparse 10,128
done
el masks; ck
ab bf16-1 --dtype bf16 --d 128,256
for b in o n; do timeout -s KILL 60 /tmp/b$b/effgen bench --dtype bf16 --d 128,256 --json $W/ab-bf16-2-$b.json > $W/ab-bf16-2-$b.txt 2>&1; echo "ab bf16-2 $b rc $?"; done
el dense; ck
$PY - "$W" <<'PY' > $W/ab-summary.txt
import json, sys, glob, math, collections
W = sys.argv[1]
groups = collections.defaultdict(list)
for f in glob.glob(f"{W}/ab-*-[no].json"):
    tag = f.split("/ab-")[1].rsplit("-", 1)[0].rsplit("-", 1)[0]
    groups[tag].append(f)
for tag in sorted(groups):
    def best(b):
        d = {}
        for f in glob.glob(f"{W}/ab-{tag}-*-{b}.json"):
            for r in json.load(open(f))["rows"]:
                k = (r["D"], r["N"], r["mask"]); d[k] = max(d.get(k, 0), r["tflops"])
        return d
    n, o = best("n"), best("o"); ls = []
    for k in sorted(n):
        if k in o:
            ls.append(math.log(n[k] / o[k])); print(f"{tag:6s} D={k[0]:3d} N={k[1]:5d} {k[2]:13s} committed {o[k]:6.1f} new {n[k]:6.1f} x{n[k]/o[k]:.3f}")
    if ls: print(f"{tag} geomean {math.exp(sum(ls)/len(ls)):.4f}\n")
PY
grep -v "^$" $W/ab-summary.txt | grep -v "N=16384"
el done; ck
