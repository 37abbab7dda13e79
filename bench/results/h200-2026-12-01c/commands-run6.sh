#!/usr/bin/env bash
# mma.sync: two code forms that remove some default spills without re-reading %tid.x (AB: epilogue indexes
# re-drawn + unsigned column offset; ABC: AB + one register for the row test), against the committed build
source .dev/device-env.sh
W=/tmp/w72; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r72.tgz -C $W . ; }
for v in o:.dev/oldsrc ab:.dev/srcAB abc:.dev/srcABC; do n=${v%%:*}; s=${v#*:}
  (cmake -S $s -B /tmp/b$n -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b$n -j5 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
done; wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
for round in 1 2; do
  for b in o abc ab; do E=/tmp/b$b/effgen
    [ $round = 2 ] && [ $b = ab ] && continue
    timeout -s KILL 60 $E bench --arch sm_90 --dtype bf16 --json $W/$b-dense-$round.json > $W/$b-dense-$round.txt 2>&1 || echo "$b dense failed"
    timeout -s KILL 40 $E bench --arch sm_90 --dtype bf16 --d 80,96,160,192 --n 4096 --json $W/$b-odd-$round.json > $W/$b-odd-$round.txt 2>&1 || echo "$b odd failed"
    el "$b $round"
  done
  ck
done
$PY - "$W" > $W/forms-vs-old.txt <<'PY'
import json, sys, glob, math
W = sys.argv[1]
def load(b):
    best, meta = {}, {}
    for f in glob.glob(f"{W}/{b}-*.json"):
        for r in json.load(open(f))["rows"]:
            k = (r["D"], r["N"], r["mask"])
            if r["tflops"] > best.get(k, 0):
                best[k] = r["tflops"]; meta[k] = r.get("spill_bytes")
    return best, meta
o, om = load("o"); forms = {b: load(b) for b in ("ab", "abc")}
print("D N mask  old(spill)  ab(spill) ab/old  abc(spill) abc/old")
g = {"ab": [], "abc": []}
for k in sorted(o):
    line = f"{k[0]} {k[1]} {k[2]}  {o[k]:7.1f}({om[k]})"
    for b in ("ab", "abc"):
        n, nm = forms[b]
        if k in n:
            g[b].append(n[k] / o[k]); line += f"  {n[k]:7.1f}({nm[k]}) {n[k]/o[k]:.3f}"
    print(line)
for b in g:
    if g[b]: print(b, "geomean", round(math.exp(sum(map(math.log, g[b])) / len(g[b])), 4), len(g[b]), "rows")
PY
cat $W/forms-vs-old.txt; ck
el done
