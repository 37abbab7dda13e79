#!/usr/bin/env bash
# Q published ahead of K/V with O's own buffer, Q released once in registers (n) beside the committed build (o):
# checks, compute-sanitizer on the new kernels, dense A/B both orders, window configs
source .dev/device-env.sh
W=/tmp/w1; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r1.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
rm -rf /tmp/bn /tmp/bo
(cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j10 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/bo -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bo -j6 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=/tmp/bn/effgen
ch() { local n=$1; shift; timeout -s KILL 90 $N check --quick "$@" > $W/check-$n.txt 2>&1; echo "check $n rc $? $(tail -1 $W/check-$n.txt)"; }
CS=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1)
san() { local tool=$1 n=$2; shift 2; timeout -s KILL 170 $CS --tool $tool $N check --quick "$@" > $W/san-$tool-$n.txt 2>&1; echo "$tool $n rc $? $(grep -E 'passed' $W/san-$tool-$n.txt | tail -1) | $(grep -E 'SUMMARY' $W/san-$tool-$n.txt | tail -1)"; }
( san memcheck qreg --d 32,64,128 --dtype bf16 --causal both --config wg.bm128.bn128.c2.s2 ) &
( san racecheck qreg --d 32,64,128 --dtype bf16 --causal both --config wg.bm128.bn128.c2.s2 ) &
( san synccheck qreg --d 64,128 --dtype bf16 --causal both --config wg.bm128.bn128.c2.s2 ) &
( san memcheck dflt --d 64,128,256 --dtype fp16 --causal both ) &
( san racecheck dflt --d 64,256 --dtype fp16 --causal both ) &
( san memcheck varlen --d 128 --causal both --varlen 1,300 --kv-heads 2 ) &
( san racecheck varlen --d 128 --causal both --varlen 1,300 --kv-heads 2 ) &
( san racecheck window --d 128 --causal 1 --window 100,0 ) &
( ch dense --d 32,64,96,128 --dtype bf16,fp16 --causal both --config wg.bm128.bn128.c2.s2
  ch dflt --d 8,64,80,128,192,256 --dtype bf16,fp16 --causal both
  ch scale --d 72,128 --causal both --scale 4
  ch varlen --d 64,128 --causal both --varlen 1,700 --kv-heads 2
  ch window --d 80,128 --causal 1 --window 100,20 --alibi
  ch bias --d 64,128 --causal 1 --bias b
  ch bsparse --d 128 --causal 0 --bsparse 20,128
  ch maskmod --d 128 --causal 0 --mask-mod 'q - k < 300' ) &
wait; el checks-sanitizers; ck
ab() { local tag=$1; shift; for b in n o; do timeout -s KILL 60 /tmp/b$b/effgen bench "$@" --json $W/ab-$tag-$b.json > $W/ab-$tag-$b.txt 2>&1; echo "ab $tag $b rc $?"; done; }
ab bf16-1 --dtype bf16
ab fp16-1 --dtype fp16
for b in o n; do timeout -s KILL 60 /tmp/b$b/effgen bench --dtype bf16 --json $W/ab-bf16-2-$b.json > $W/ab-bf16-2-$b.txt 2>&1; echo "ab bf16-2 $b rc $?"; done
el dense; ck
for r in 1 2; do
ab win-$r --d 128 --n 2048,8192 --causal 1 --window 255,0
ab alibi-$r --d 128 --n 2048,8192 --causal 1 --alibi
ab bias-$r --d 128 --n 2048,8192 --causal 0 --bias b
done
for c in wg.bm128.bn128.c2.s3 wg.bm128.bn64.c2.s4 wg.bm128.bn64.c2.s3; do
  timeout -s KILL 60 $N bench --d 128 --n 2048,8192 --causal 1 --window 255,0 --config $c > $W/win-$c.txt 2>&1; echo "win $c rc $?"
done
el masks; ck
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
            ls.append(math.log(n[k] / o[k])); print(f"{tag:6s} D={k[0]:3d} N={k[1]:5d} {k[2]:10s} committed {o[k]:6.1f} new {n[k]:6.1f} x{n[k]/o[k]:.3f}")
    if ls: print(f"{tag} geomean {math.exp(sum(ls)/len(ls)):.4f}\n")
PY
grep geomean $W/ab-summary.txt; grep -E "window|D=128 N=  512|D= 64 N=  512" $W/ab-summary.txt
el done; ck
