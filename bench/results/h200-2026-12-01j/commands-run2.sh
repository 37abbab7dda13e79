#!/usr/bin/env bash
# the launch rule for strips, three stages with the next Q taken in the epilogue, other windows, the masks beside the peers
source .dev/device-env.sh
W=/tmp/w2; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r2.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-dev -j12 --target effgen_cli effgen test_gpu_wgmma 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B build-old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build build-old -j4 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=$PWD/build-dev/effgen; O=$PWD/build-old/effgen
timeout -s KILL 150 build-dev/tests/test_gpu_wgmma walk > $W/walk.txt 2>&1; echo "walk rc $?"; grep -E "FAIL|passed" $W/walk.txt | head -20
el walk; ck
A="--d 128 --n 2048,8192 --causal 1 --window 255,0"
for r in 1 2 3; do
  timeout -s KILL 40 $O bench $A --json $W/o-$r.json > $W/o-$r.txt 2>&1; echo "o $r rc $?"
  timeout -s KILL 40 $N bench $A --json $W/n-$r.json > $W/n-$r.txt 2>&1; echo "n $r rc $?"
  timeout -s KILL 40 $N bench $A --config wg.bm128.bn128.c2.s3 --json $W/n-s3-$r.json > $W/n-s3-$r.txt 2>&1; echo "s3 $r rc $?"
  EFFGEN_WG_STRIP=1 timeout -s KILL 40 $N bench $A --config wg.bm128.bn128.c2.s3 --json $W/n1-s3-$r.json > $W/n1-s3-$r.txt 2>&1; echo "s3 1 $r rc $?"
  el "round $r"; ck
done
# other windows and head dims: old against new (the launch's strips)
for m in "--d 128 --n 2048,8192 --causal 1 --window 127,0" "--d 128 --n 2048,8192 --causal 0 --window 128,128" "--d 64 --n 2048,8192 --causal 1 --window 255,0" "--d 256 --n 2048,8192 --causal 1 --window 255,0" "--d 128 --n 2048,8192 --causal 1 --window 511,0"; do
  set -- $m; tag=$(echo "$m" | tr -d ' -' | tr ',' '_')
  for r in 1 2; do
    timeout -s KILL 40 $O bench "$@" --json $W/x-o-$tag-$r.json > /dev/null 2>&1
    timeout -s KILL 40 $N bench "$@" --json $W/x-n-$tag-$r.json > /dev/null 2>&1
  done
done
el others; ck
for m in "window --causal 1 --window 255,0" "alibi --causal 1 --alibi" "bias --causal 0 --bias b" "bsparse --causal 0 --bsparse 10,128"; do
  set -- $m; n=$1; shift
  timeout -s KILL 40 $N bench --d 128 --n 2048,8192 "$@" --json $W/m-$n.json > $W/m-$n.txt 2>&1; echo "masks $n rc $?"
done
$PY - "$W" <<'PY'
import json, glob, sys
W = sys.argv[1]; rows = []
for f in sorted(glob.glob(f"{W}/m-*.json")): rows += json.load(open(f))["rows"]
json.dump({"rows": rows}, open(f"{W}/effgen-masks.json", "w"), indent=1)
PY
timeout -s KILL 100 $PY .dev/peers/peers.py --suite masks --dtype bf16 --out $W/peers-masks.json > $W/peers-masks.log 2>&1; echo "peers masks rc $?"
$PY .dev/peers/compare.py $W/effgen-masks.json $W/peers-masks.json > $W/compare-masks.txt 2>&1; cat $W/compare-masks.txt
for f in $W/*-[0-9].json; do $PY - "$f" <<'PY'
import json,sys
rows=json.load(open(sys.argv[1]))["rows"]
print(sys.argv[1].split('/')[-1], " ".join(f"N{r['N']}:{r['tflops']:.0f}" for r in rows))
PY
done | sort > $W/summary.txt; cat $W/summary.txt
el done; ck
