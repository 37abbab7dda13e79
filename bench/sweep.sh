#!/usr/bin/env bash
# Time a few configs per head dim on two sequence lengths (non-causal and causal), for choosing the
# model's defaults: bench/sweep.sh BUILD_DIR [DTYPE]
set -uo pipefail
build=$1
dtype=${2:-bf16}
declare -A cfgs=(
  [64]="bm128.bn64.w4.s2 bm128.bn128.w4.s2 bm128.bn128.w8.s2 bm64.bn128.w4.s2 bm128.bn64.w8.s2"
  [128]="bm128.bn64.w4.s2 bm128.bn32.w4.s2 bm128.bn64.w8.s2 bm64.bn64.w4.s2 bm128.bn128.w8.s2 bm128.bn64.w8.s3"
  [256]="bm128.bn64.w8.s2 bm128.bn32.w8.s2 bm64.bn64.w4.s2 bm64.bn32.w4.s2"
)
for d in 64 128 256; do
  for c in ${cfgs[$d]}; do
    "$build/effgen" bench --d "$d" --n 2048,8192 --dtype "$dtype" --config "$c" --reps 20 | tail -n +2
  done
done
