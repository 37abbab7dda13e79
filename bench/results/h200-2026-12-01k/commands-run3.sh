#!/usr/bin/env bash
# where the strip's early hand-over hangs; the pair layout's causal skip (split loop) against the committed tree
source .dev/device-env.sh
W=/tmp/w9; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r9.tgz -C $W . ; }
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j6 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j5 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
(cmake -S .dev/srcx -B build-x -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-x -j5 --target effgen_cli effgen 2>&1 | grep -E " error |warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen; X=$PWD/build-x/effgen
A="--d 128 --n 2048 --causal 1 --window 255,0 --reps 5"
for s in 16 2; do
  EFFGEN_WG_STRIP=$s timeout -s KILL 20 $X bench $A > $W/x-s$s.txt 2>&1; echo "x strip $s rc $? $(grep -c window $W/x-s$s.txt)"
  EFFGEN_WG_STRIP=$s timeout -s KILL 20 $N bench $A > $W/n-s$s.txt 2>&1; echo "n strip $s rc $? $(grep -c window $W/n-s$s.txt)"
done
EFFGEN_WG_STRIP=2 EFFGEN_WG_PERSISTENT=0 timeout -s KILL 20 $N bench $A > $W/n-s2-np.txt 2>&1; echo "n strip 2 one CTA per strip rc $?"
EFFGEN_WG_STRIP=2 timeout -s KILL 30 $N check --quick --d 128 --dtype bf16 --causal 1 --window 255,0 > $W/n-check-s2.txt 2>&1; echo "n check s2 rc $? $(tail -1 $W/n-check-s2.txt)"
el hang; ck
for r in 1 2; do
  timeout -s KILL 60 $O bench --arch sm_90 --d 256 --json $W/mma-o-$r.json > $W/mma-o-$r.txt 2>&1; echo "mma o $r rc $?"
  timeout -s KILL 60 $N bench --arch sm_90 --d 256 --json $W/mma-n-$r.json > $W/mma-n-$r.txt 2>&1; echo "mma n $r rc $?"
done
$PY - $W <<'PY'
import json,sys
W=sys.argv[1]
def best(x):
    b={}
    for r in (1,2):
        for row in json.load(open(f"{W}/mma-{x}-{r}.json"))["rows"]:
            k=(row["D"],row["mask"],row["N"]); b[k]=max(b.get(k,0),row["tflops"])
    return b
o,n=best("o"),best("n")
for k in sorted(o): print(*k, f"{o[k]:.1f} {n[k]:.1f} {n[k]/o[k]:.3f}")
PY
timeout -s KILL 100 $N check --arch sm_90 --quick --d 192,256 --dtype bf16,fp16 --causal 1 > $W/check-pair.txt 2>&1; echo "check pair rc $? $(tail -1 $W/check-pair.txt)"
el done; ck
