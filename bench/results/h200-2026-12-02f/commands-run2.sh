#!/usr/bin/env bash
# the tree (V's extra stage for strip kernels): GPU tests, then the masks suite beside the peers
source .dev/device-env.sh; export EFFGEN_DB=/nonexistent-dir/none.db
W=/tmp/w67; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r67.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null 2>&1 && cmake --build build-dev -j16 2>&1 | grep -E " error |warning:"
el built
B=$PWD/build-dev/effgen
(cd build-dev && timeout -s KILL 300 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest gpu rc $?"); grep -E "tests passed|Total Test|Failed|\*\*\*" $W/ctest-gpu.txt
el ctest; ck
for m in "window --causal 1 --window 255,0" "window2 --causal 0 --window 127,127" "alibi --causal 1 --alibi" "bias --causal 0 --bias b" "bsparse --causal 0 --bsparse 10,128"; do
  set -- $m; n=$1; shift
  timeout -s KILL 40 $B bench --d 128 --n 2048,8192 "$@" --json $W/m-$n.json > $W/m-$n.txt 2>&1; echo "masks $n rc $?"
done
$PY - "$W" <<'PY'
import json, glob, sys
W = sys.argv[1]; rows = []
for f in sorted(glob.glob(f"{W}/m-*.json")): rows += json.load(open(f))["rows"]
json.dump({"rows": rows}, open(f"{W}/effgen-masks.json", "w"), indent=1)
PY
el masks; ck
timeout -s KILL 150 $PY .dev/peers/peers.py --suite masks --dtype bf16 --out $W/peers-masks.json > $W/peers-masks.log 2>&1; echo "peers masks rc $?"
$PY .dev/peers/compare.py $W/effgen-masks.json $W/peers-masks.json > $W/compare-masks.txt 2>&1
$PY bench/ratios.py $W/effgen-masks.json $W/peers-masks.json > $W/ratios-masks.txt 2>&1; cat $W/compare-masks.txt
el peers; ck
mkdir -p $W/sweep
for cfg in wg.bm128.bn128.c2.s2 wg.bm128.bn64.c2.s3 wg.bm128.bn64.c2.s4 wg.bm192.bn64.c3.s3 wg.bm192.bn64.c3.s2; do
  [ $((SECONDS - t0)) -gt 470 ] && { echo "sweep stopped at $cfg"; break; }
  for r in 1 2; do timeout -s KILL 30 $B bench --d 128 --n 2048,8192 --causal 1 --window 255,0 --config $cfg --json $W/sweep/$cfg-r$r.json > $W/sweep/$cfg-r$r.txt 2>&1 || echo "$cfg failed"; done
done
$PY - $W/sweep <<'PY' | tee $W/sweep.txt
import json, glob, sys, os, collections
best = collections.defaultdict(dict)
for f in glob.glob(sys.argv[1] + "/*.json"):
    cfg = os.path.basename(f).rsplit("-r", 1)[0]
    for r in json.load(open(f))["rows"]:
        best[cfg][r["N"]] = max(best[cfg].get(r["N"], 0), r["tflops"])
for cfg, d in sorted(best.items(), key=lambda kv: -kv[1].get(2048, 0)):
    print(f"{cfg:24s}", "  ".join(f"N{n} {v:6.1f}" for n, v in sorted(d.items())))
PY
el done; ck
