#!/usr/bin/env bash
# mma.sync family: grouped tile copies (thread-fixed pointers); new vs HEAD; checks; D256 configs; dense bf16 beside FA2
source .dev/device-env.sh
W=/tmp/w51; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r51.tgz -C $W . ; }
(cmake -S . -B /tmp/b51new -DCMAKE_BUILD_TYPE=Release -DEFFGEN_PYTHON_GPU=$PY -Wno-dev >/dev/null && cmake --build /tmp/b51new -j10 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/b51old -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b51old -j6 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=/tmp/b51new/effgen; O=/tmp/b51old/effgen
$N info > $W/info.txt; $O info > $W/info-old.txt
# correctness of the copies: defaults of each head dim, one-stage, odd dims, varlen, window, GQA (mma family)
timeout -s KILL 100 $N check --arch sm_90 --quick --d 64,80,96,128,160,192,256 --dtype bf16,fp16 --causal both > $W/check-defaults.txt 2>&1; echo "check defaults rc $?"; tail -1 $W/check-defaults.txt
for c in bm64.bn64.w4.s1 bm128.bn64.w8.s1 bm16.bn16.w1.s1 bm64.bn32.w2.s3; do
  timeout -s KILL 60 $N check --arch sm_90 --quick --d 64,96,256 --config $c --causal both > $W/check-$c.txt 2>&1; echo "check $c rc $?"; tail -1 $W/check-$c.txt; done
timeout -s KILL 60 $N check --arch sm_90 --quick --d 128 --varlen 1,700 --causal both --kv-heads 2 > $W/check-varlen.txt 2>&1; echo "check varlen rc $?"; tail -1 $W/check-varlen.txt
timeout -s KILL 60 $N check --arch sm_90 --quick --d 192 --window 100,20 --causal both > $W/check-window.txt 2>&1; echo "check window rc $?"; tail -1 $W/check-window.txt
el checks; ck
for v in new old; do
  E=$N; [ $v = old ] && E=$O
  timeout -s KILL 70 $E bench --arch sm_90 --dtype bf16 --json $W/mma-$v.json > $W/mma-$v.txt 2>&1; echo "mma $v rc $?"
  timeout -s KILL 40 $E bench --arch sm_90 --d 256 --config bm64.bn64.w4.s1 --dtype bf16 --json $W/mma256s1-$v.json > $W/mma256s1-$v.txt 2>&1; echo "s1 $v rc $?"
  el bench-$v; ck
done
timeout -s KILL 150 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"; el peers
for f in mma-new mma-old mma256s1-new mma256s1-old; do $PY bench/ratios.py $W/$f.json $W/peers-bf16.json > $W/ratios-$f.txt 2>&1; done; ck
for f in mma-new mma-old; do echo "== $f"; awk 'NR==1 || $3==256 || $3==128' $W/ratios-$f.txt | cut -c1-115; done
for f in mma256s1-new mma256s1-old; do echo "== $f"; cat $W/ratios-$f.txt | cut -c1-115; done
el done
