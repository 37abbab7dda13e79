#!/usr/bin/env bash
# the mma family's D = 256 configs not swept before, beside SDPA flash at 512 / 1024; SM clock and power
# while the window, dense causal D = 128 and D = 256 at 512 run
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w68; rm -rf $W; mkdir -p $W/sweep $W/clock; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r68.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build build-dev -j16 2>&1 | grep -E " error |warning:"
el built
B=$PWD/build-dev/effgen
for r in 1 2; do
  for cfg in bm128.bn64.w8.s2.d2 bm128.bn128.w8.s1 bm128.bn32.w8.s4.d2 bm128.bn64.w8.s1; do
    timeout -s KILL 40 $B bench --arch sm_90 --d 256 --n 512,1024 --causal 0 --config $cfg --json $W/sweep/$cfg-r$r.json > $W/sweep/$cfg-r$r.txt 2>&1 || echo "$cfg failed"
  done
  for n in 512 1024; do timeout -s KILL 60 $PY .dev/fa2one.py 256 $n >> $W/sweep/fa2.txt 2>&1; done
done
cat $W/sweep/fa2.txt
$PY - $W/sweep <<'PY' | tee $W/sweep.txt
import json, glob, sys, os, collections
best = collections.defaultdict(dict)
for f in glob.glob(sys.argv[1] + "/*.json"):
    cfg = os.path.basename(f).rsplit("-r", 1)[0]
    for r in json.load(open(f))["rows"]:
        best[cfg][r["N"]] = max(best[cfg].get(r["N"], 0), r["tflops"])
for cfg, d in sorted(best.items(), key=lambda kv: -kv[1].get(512, 0)):
    print(f"{cfg:24s}", "  ".join(f"N{n} {v:6.1f}" for n, v in sorted(d.items())))
PY
el sweep; ck
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu,clocks_throttle_reasons.active --format=csv,noheader -lms 20 > $W/clock/samples.csv 2>&1 &
SMI=$!
sleep 1
ph() { local n=$1; shift; echo "$n start $(date +%H:%M:%S.%N)" >> $W/clock/phases.txt; "$@" > $W/clock/$n.txt 2>&1; echo "$n end $(date +%H:%M:%S.%N)" >> $W/clock/phases.txt; sleep 1; }
ph win8k timeout -s KILL 60 $B bench --d 128 --n 8192 --causal 1 --window 255,0 --reps 25000
ph win2k timeout -s KILL 60 $B bench --d 128 --n 2048 --causal 1 --window 255,0 --reps 25000
ph causal8k timeout -s KILL 60 $B bench --d 128 --n 8192 --causal 1 --reps 10000
ph none8k timeout -s KILL 60 $B bench --d 128 --n 8192 --causal 0 --reps 5000
ph mma256n512 timeout -s KILL 60 $B bench --arch sm_90 --d 256 --n 512 --causal 0 --reps 15000
kill $SMI
$PY - $W/clock <<'PY' | tee $W/clock.txt
import sys, datetime
d = sys.argv[1]
def t(s): return datetime.datetime.strptime(s.strip()[-15:], "%H:%M:%S.%f") if "." in s else None
ph = {}
for l in open(d + "/phases.txt"):
    n, k, ts = l.split(); ph.setdefault(n, {})[k] = datetime.datetime.strptime(ts[:15], "%H:%M:%S.%f")
rows = []
for l in open(d + "/samples.csv"):
    f = [x.strip() for x in l.split(",")]
    try: ts = datetime.datetime.strptime(f[0].split()[-1][:15], "%H:%M:%S.%f")
    except Exception: continue
    rows.append((ts, f))
for n, p in ph.items():
    sel = [f for ts, f in rows if p["start"] <= ts <= p["end"]]
    def num(i): 
        v = []
        for f in sel:
            try: v.append(float(f[i].split()[0]))
            except Exception: pass
        return v
    sel = [f for f in sel if len(f) > 3 and f[3].split()[0].replace('.', '', 1).isdigit() and float(f[3].split()[0]) > 250]
    sm, pw = num(1), num(3)
    if not sm: print(n, "no samples"); continue
    sm.sort(); pw.sort()
    reasons = {}
    for f in sel: reasons[f[5]] = reasons.get(f[5], 0) + 1
    print(f"{n:12s} samples {len(sm):4d}  sm MHz median {sm[len(sm)//2]:.0f} min {sm[0]:.0f} max {sm[-1]:.0f}  power W median {pw[len(pw)//2]:.0f} max {pw[-1]:.0f}  throttle {reasons}")
PY
el done; ck
