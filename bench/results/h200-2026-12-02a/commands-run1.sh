#!/usr/bin/env bash
# A: pair layout leaves out causal tiles past a pair's last row (exp-pair-skip.diff)
# B: launch-order groups of equal size (exp-equal-groups.diff) with EFFGEN_EXP_SPREAD=2/4
# both against HEAD (.dev/oldsrc), in one call
source .dev/device-env.sh
W=/tmp/w39; rm -rf $W; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r39.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
for v in skip eq; do rm -rf /tmp/src-$v; cp -r .dev/oldsrc /tmp/src-$v; done
(cd /tmp/src-skip && patch -p1 -s < $OLDPWD/.dev/exp-pair-skip.diff) || { echo "patch skip failed"; exit 1; }
(cd /tmp/src-eq && patch -p1 -s < $OLDPWD/.dev/exp-equal-groups.diff) || { echo "patch eq failed"; exit 1; }
grep -c "wholly past the pair" /tmp/src-skip/templates/eg_attn_fwd_pair.cuh; grep -c EFFGEN_EXP_SPREAD /tmp/src-eq/runtime/launch.c
for v in old skip eq; do
  S=.dev/oldsrc; [ $v != old ] && S=/tmp/src-$v
  (cmake -S $S -B /tmp/b-$v -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b-$v -j5 --target effgen_cli 2>&1 | grep -E " error |warning:") &
done
wait
el built
export EFFGEN_DB=/nonexistent-dir/none.db
O=/tmp/b-old/effgen; S=/tmp/b-skip/effgen; E=/tmp/b-eq/effgen
ls -la $O $S $E | awk '{print $5, $9}'
timeout -s KILL 60 $S check --arch sm_90 --d 192,256 --dtype bf16,fp16 --causal both > $W/check-skip.txt 2>&1; echo "check skip rc $?"; tail -1 $W/check-skip.txt
el check; ck
for r in 1 2; do
  timeout -s KILL 40 $O bench --arch sm_90 --d 192,256 --dtype bf16,fp16 --causal 1 --json $W/po-r$r.json > $W/po-r$r.txt 2>&1; echo "po r$r rc $?"
  timeout -s KILL 40 $S bench --arch sm_90 --d 192,256 --dtype bf16,fp16 --causal 1 --json $W/ps-r$r.json > $W/ps-r$r.txt 2>&1; echo "ps r$r rc $?"
  el "skip round $r"; ck
done
$PY .dev/ab.py $W po ps | tee $W/ab-skip.txt
run() { # tag binary spread
  if [ -n "$3" ]; then export EFFGEN_EXP_SPREAD=$3; else unset EFFGEN_EXP_SPREAD; fi
  timeout -s KILL 40 $2 bench --arch sm_90 --dtype bf16 --causal 1 --d 64,128,256 --json $W/$1-suite.json > $W/$1-suite.txt 2>&1 || echo "$1 suite failed"
  timeout -s KILL 30 $2 bench --arch sm_90 --dtype bf16 --causal 1 --d 80,96,160,192 --n 4096 --json $W/$1-dims.json > $W/$1-dims.txt 2>&1 || echo "$1 dims failed"
  unset EFFGEN_EXP_SPREAD; ck
}
for r in 1 2; do run go-r$r $O; run ge-r$r $E; run gf-r$r $E 4; run gt-r$r $E 2; el "groups round $r"; done
for v in ge gf gt; do echo "== $v"; $PY .dev/ab.py $W go $v | tee $W/ab-$v.txt; done
el done; ck
