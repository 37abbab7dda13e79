#!/usr/bin/env bash
# the power-bound row, interleaved: D = 128, 16k, no mask, Q in registers (n) and committed (o)
source .dev/device-env.sh
W=$OUT/w7; mkdir -p $W
(cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j8 --target effgen_cli effgen 2>&1 | grep -E "error:") &
(cmake -S .dev/oldsrc -B /tmp/bo -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bo -j8 --target effgen_cli effgen 2>&1 | grep -E "error:") &
wait; echo built $SECONDS
export EFFGEN_DB=/nonexistent-dir/none.db
for r in 1 2 3; do for b in o n; do for dt in fp16 bf16; do
  timeout -s KILL 15 /tmp/b$b/effgen bench --dtype $dt --d 128 --n 16384 --causal 0 --json $W/row-$dt-$b-$r.json > /dev/null 2>&1
  python3 -c "import json;r=json.load(open('$W/row-$dt-$b-$r.json'))['rows'][0];print('$r $b $dt',round(r['tflops'],1),r['ms_min'],r['ms'],r['ms_max'])"
done; done; done
echo done $SECONDS
