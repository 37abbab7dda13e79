#!/usr/bin/env python3
"""Mask expressions beside FlexAttention's mask_mod: the same masks written once as an effgen expression
(`effgen bench --mask-mod`) and once as a FlexAttention mask function with its block mask built ahead
(create_block_mask, outside the timing, as a model caches it), on the shapes of the masks suite: D = 128,
16 heads, batch * N = 16k tokens, N = 2048 and 8192 by default.

effgen is timed by its own benchmark (CUDA events around each launch, inputs rotated beyond the L2, the
median of its repetitions); FlexAttention as the peers' script times it (triton's do_bench, median). Rows
use the peers' JSON format (impl, mode, mask, dtype, B, H, N, D, ms, tflops) with impl "effgen" or "flex";
TFLOP/s count the visible pairs only (4 * B * H * D per pair), for both. The table joins them by mask and N.

    python3 python/bench_flex_masks.py --effgen build/effgen [--n 2048,8192] [--dtype bf16]
                                       [--arch sm_90] [--out flex-masks.json]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch

# name, effgen's flags, FlexAttention's mask function over index tensors
PATTERNS = [
    ("window256", ["--causal", "0", "--mask-mod", "q >= k && q - k < 256"],
     lambda b, h, q, k: (q >= k) & (q - k < 256)),
    ("prefix64", ["--causal", "0", "--mask-mod", "k < 64 || k <= q"],
     lambda b, h, q, k: (k < 64) | (k <= q)),
    ("chunks1024", ["--causal", "1", "--mask-mod", "q / 1024 == k / 1024"],
     lambda b, h, q, k: (q >= k) & (q // 1024 == k // 1024)),
    ("strided128+local512", ["--causal", "1", "--mask-mod", "(k / 128) % 8 == 0 || q - k < 512"],
     lambda b, h, q, k: (q >= k) & (((k // 128) % 8 == 0) | (q - k < 512))),
]


def visible_pairs(fn, n):
    i = torch.arange(n, device="cuda")
    zero = torch.zeros((), dtype=torch.long, device="cuda")
    return int(fn(zero, zero, i[:, None], i[None, :]).sum().item())


def run_effgen(cli, flags, n, dtype, arch):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "rows.json")
        cmd = [cli, "bench", "--d", "128", "--n", str(n), "--dtype", dtype, "--json", out] + flags
        if arch:
            cmd += ["--arch", arch]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: exit {res.returncode}: {res.stderr.strip()[:300]}")
        with open(out) as f:
            data = json.load(f)
        return (data["rows"] if isinstance(data, dict) else data)[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--effgen", required=True, help="path of the effgen command")
    ap.add_argument("--n", default="2048,8192")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16"])
    ap.add_argument("--arch", default=None, help="passed to effgen bench (e.g. sm_90 for the mma.sync family)")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()

    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    from triton.testing import do_bench

    dt = torch.bfloat16 if a.dtype == "bf16" else torch.float16
    flex = torch.compile(flex_attention, dynamic=False)
    D, H = 128, 16
    rows, table = [], []
    for n in (int(x) for x in a.n.split(",")):
        B = 16384 // n
        q, k, v = (torch.randn(B, H, n, D, device="cuda", dtype=dt) for _ in range(3))
        base = dict(mode="fwd", dtype=a.dtype, B=B, H=H, N=n, D=D)
        for name, flags, fn in PATTERNS:
            flops = 4 * B * H * D * visible_pairs(fn, n)
            e = run_effgen(a.effgen, flags, n, a.dtype, a.arch)
            rows.append(dict(impl="effgen", mask=name, ms=e["ms"], tflops=flops / e["ms"] / 1e9,
                             config=e.get("config"), **base))
            bm = create_block_mask(fn, None, None, n, n)
            ms = do_bench(lambda: flex(q, k, v, block_mask=bm), warmup=25, rep=150, return_mode="median")
            rows.append(dict(impl="flex", mask=name, ms=ms, tflops=flops / ms / 1e9, **base))
            for r in rows[-2:]:
                print(json.dumps(r), flush=True)
            table.append((name, n, e["ms"], ms, e.get("config", "")))
        del q, k, v
    if a.out:
        with open(a.out, "w") as f:
            json.dump(rows, f, indent=1)
    print(f"\n{'mask':22} {'N':>6} {'effgen ms':>10} {'flex ms':>10} {'flex/effgen':>12}  config")
    for name, n, em, fm, cfg in table:
        print(f"{name:22} {n:6d} {em:10.4f} {fm:10.4f} {fm / em:11.2f}x  {cfg}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
