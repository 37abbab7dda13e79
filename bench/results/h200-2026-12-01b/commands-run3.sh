#!/usr/bin/env bash
# merged main (pair layout + bias lowering): all GPU tests, checks of the new defaults, mma dense suite beside the peers
source .dev/device-env.sh
W=/tmp/w62; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r62.tgz -C $W . ; }
(cmake -S . -B /tmp/b62 -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/b62 -j16 2>&1 | grep -E "error|warning:")
el built
export EFFGEN_DB=/nonexistent-dir/none.db
E=/tmp/b62/effgen
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total --format=csv > $W/info.txt 2>&1; $E info >> $W/info.txt 2>&1
(cd /tmp/b62 && timeout -s KILL 380 ctest -L gpu -j8 --output-on-failure > $W/ctest-gpu.txt 2>&1; echo "ctest-gpu rc $?" >> $W/ctest-gpu.txt) &
CT=$!
timeout -s KILL 120 $E check --arch sm_90 --quick --d 192,224,256 --dtype bf16,fp16 --causal both > $W/check-defaults.txt 2>&1; echo "check defaults rc $?"; tail -1 $W/check-defaults.txt
timeout -s KILL 60 $E check --arch sm_90 --quick --d 256 --causal both --kv-heads 2 > $W/check-gqa.txt 2>&1; echo "check gqa rc $?"; tail -1 $W/check-gqa.txt
timeout -s KILL 60 $E check --quick --d 128 --causal both --score-mod 'score + t[h, q, k]' --expr-tensor t:bf16:HxQxK > $W/check-xbias.txt 2>&1; echo "check xbias rc $?"; tail -1 $W/check-xbias.txt
el checks; ck
wait $CT; tail -22 $W/ctest-gpu.txt; el ctest; ck
timeout -s KILL 60 $E bench --arch sm_90 --d 64,128,256 --dtype bf16 --json $W/mma-bf16.json > $W/mma-bf16.txt 2>&1; echo "mma rc $?"
timeout -s KILL 30 $E bench --arch sm_90 --d 256 --dtype bf16 --config bm128.bn128.w8.s1 --json $W/x-bn128-s1.json > $W/x-bn128-s1.txt 2>&1; echo "bn128 rc $?"
timeout -s KILL 30 $E bench --d 128 --n 2048,8192 --causal 0 --score-mod 'score + t[h, q, k]' --expr-tensor t:bf16:HxQxK --json $W/xbias.json > $W/xbias.txt 2>&1; echo "xbias rc $?"
el bench; ck
timeout -s KILL 120 $PY .dev/peers/peers.py --suite dense --dtype bf16 --out $W/peers-bf16.json > $W/peers-bf16.log 2>&1; echo "peers rc $?"; el peers
for f in $W/mma-bf16.json $W/x-bn128-s1.json; do b=$(basename $f .json); $PY bench/ratios.py $f $W/peers-bf16.json > $W/ratios-$b.txt 2>&1; done; ck
cat $W/ratios-mma-bf16.txt; tail -14 $W/ratios-x-bn128-s1.txt; tail -3 $W/xbias.txt
el done
