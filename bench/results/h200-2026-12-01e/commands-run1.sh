#!/usr/bin/env bash
# descriptor offsets (working tree, n) beside the committed build (o): stage sweep, long-row spread (clock, L2, head groups)
source .dev/device-env.sh
W=/tmp/w1; mkdir -p $W; PY=$(command -v python3)
t0=$SECONDS; el() { echo "[t=$((SECONDS - t0))s] $*"; }
ck() { tar czf $OUT/r1.tgz -C $W . ; }
nvidia-smi --query-gpu=name,clocks.max.sm,memory.total,power.limit --format=csv > $W/info.txt
(cmake -S . -B /tmp/bn -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bn -j10 2>&1 | grep -E "error|warning:") &
(cmake -S .dev/oldsrc -B /tmp/bo -DCMAKE_BUILD_TYPE=Release -Wno-dev >/dev/null && cmake --build /tmp/bo -j6 --target effgen_cli effgen 2>&1 | grep -E "error|warning:") &
wait; el built
export EFFGEN_DB=/nonexistent-dir/none.db
N=/tmp/bn/effgen; O=/tmp/bo/effgen
# stage sweep (bf16), all N
sw() { local d=$1 c=$2 cfg=$3 dt=${4:-bf16}; timeout -s KILL 40 $N bench --dtype $dt --d $d --causal $c --config $cfg --json $W/sw-$dt-$d-$c-$cfg.json > $W/sw-$dt-$d-$c-$cfg.txt 2>&1 || echo "sw $d $c $cfg rc $?"; }
for cfg in wg.bm192.bn128.c3.s2 wg.bm192.bn128.c3.s3 wg.bm128.bn128.c2.s2 wg.bm128.bn128.c2.s3 wg.bm128.bn128.c2.s4; do sw 64 0 $cfg; sw 64 1 $cfg; done
for cfg in wg.bm128.bn128.c2.s2 wg.bm128.bn128.c2.s3 wg.bm128.bn64.c2.s2 wg.bm128.bn64.c2.s3; do sw 128 0 $cfg; sw 128 1 $cfg; sw 128 1 $cfg fp16; done
el sweep; ck
# A/B dense, two rounds, opposite orders
for r in 1 2; do for b in n o; do [ $r = 2 ] && b=$([ $b = n ] && echo o || echo n)
  timeout -s KILL 60 /tmp/b$b/effgen bench --dtype bf16 --json $W/ab-$b-$r.json > $W/ab-$b-$r.txt 2>&1; echo "ab $b $r rc $?"; done; done
el ab; ck
# long rows: clock and power sampled while they run
nvidia-smi --query-gpu=timestamp,clocks.sm,clocks.mem,power.draw,temperature.gpu,clocks_throttle_reasons.active --format=csv -lms 20 > $W/smi.csv 2>&1 &
SMI=$!
for row in "128 4096" "128 16384" "256 16384" "128 8192"; do set -- $row
  echo "row $1 $2 at $(date +%T.%N)" >> $W/smi-marks.txt
  timeout -s KILL 30 $N bench --d $1 --n $2 --causal 0 --reps 100 --json $W/long-$1-$2.json > $W/long-$1-$2.txt 2>&1
done
echo "end at $(date +%T.%N)" >> $W/smi-marks.txt
kill $SMI
for g in 1 2 4 8 16; do for row in "128 16384" "128 8192" "256 16384"; do set -- $row
  EFFGEN_HEAD_GROUP=$g timeout -s KILL 30 $N bench --d $1 --n $2 --causal 0 --reps 60 --json $W/hg-$g-$1-$2.json > $W/hg-$g-$1-$2.txt 2>&1
done; done
el long; ck
NCU=$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -1)
timeout -s KILL 120 $NCU --clock-control none --cache-control none --launch-skip 3 --launch-count 12 --metrics gpu__time_duration.sum,dram__bytes_read.sum,lts__t_sector_hit_rate.pct,sm__cycles_elapsed.avg.per_second,lts__t_sectors_srcunit_tex_op_read.sum --csv $N bench --d 128 --n 16384 --causal 0 --reps 12 > $W/ncu-128-16k.csv 2>&1; echo "ncu rc $?"
timeout -s KILL 60 $NCU --clock-control none --cache-control none --launch-skip 3 --launch-count 6 --metrics gpu__time_duration.sum,dram__bytes_read.sum,lts__t_sector_hit_rate.pct,sm__cycles_elapsed.avg.per_second --csv $N bench --d 128 --n 4096 --causal 0 --reps 6 > $W/ncu-128-4k.csv 2>&1; echo "ncu4k rc $?"
el ncu; ck
ch() { local n=$1; shift; timeout -s KILL 60 $N check --quick "$@" > $W/check-$n.txt 2>&1; echo "check $n rc $? $(tail -1 $W/check-$n.txt)"; }
ch dense --d 64,96,128,192,256 --dtype bf16,fp16 --causal both
ch s3 --d 64,128 --causal both --config wg.bm128.bn128.c2.s3
ch window --d 128 --causal 1 --window 255,0
el done; ck
