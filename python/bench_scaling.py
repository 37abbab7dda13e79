#!/usr/bin/env python3
"""Fixed and per-batch cost of short rows: effgen.attention and PyTorch SDPA's cuDNN and flash backends timed
at a range of batch sizes for one (D, H, N, mask), the way `effgen bench` times (python/bench_forward.py:
CUDA events around each launch, median of 30, input sets rotated beyond twice the L2 cache), then a
least-squares line ms = a + b * B per implementation. The intercept a is what a launch costs whatever
its size (start-up, the first loads, the last partial round of work tiles, on average); the slope b is
the steady cost of one batch entry. Where one implementation loses on short rows, the two say whether
it loses per work tile or per launch. The line is fitted to batches of --fit-from and more: on small
batches a launch through PyTorch can take longer than the kernel, and the events then time the host.

    python3 python/bench_scaling.py [--shape D,H,N,causal ...] [--batches 8,16,...] [--fit-from 32] [--out scaling.json]
"""
import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import effgen  # noqa: E402
from bench_forward import BACKENDS, sdpa, time_launches  # noqa: E402


def fit(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a = my - b * mx
    res = math.sqrt(sum((y - a - b * x) ** 2 for x, y in zip(xs, ys)) / max(1, n - 2))
    return a, b, res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", action="append", default=[],
                    help="D,H,N,causal (repeatable; default: the short rows of the dense suite)")
    ap.add_argument("--batches", default="8,16,24,32,33,48,64,66,96,128")
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16"])
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--fit-from", type=int, default=32, help="smallest batch in the fitted line")
    ap.add_argument("--impls", default="effgen-py,sdpa-cudnn,sdpa-flash")
    ap.add_argument("--out", default=os.path.join(os.environ.get("OUT", "."), "scaling.json"))
    a = ap.parse_args()
    shapes = [tuple(int(v) for v in s.split(",")) for s in a.shape] or [
        (64, 32, 512, 1), (64, 32, 1024, 1), (128, 16, 512, 0), (128, 16, 512, 1)]
    batches = [int(v) for v in a.batches.split(",")]
    impls = a.impls.split(",")
    dt = torch.bfloat16 if a.dtype == "bf16" else torch.float16
    l2 = torch.cuda.get_device_properties(torch.cuda.current_device()).L2_cache_size
    rows, fits = [], []
    for D, H, N, causal in shapes:
        times = {i: [] for i in impls}
        for B in batches:
            set_bytes = 4 * B * H * N * D * 2
            n_sets = max(1, math.ceil(2 * l2 / set_bytes))
            sets = [tuple(torch.randn(B, H, N, D, device="cuda", dtype=dt) for _ in range(3)) for _ in range(n_sets)]
            sets = [(q, k, v, torch.empty_like(q)) for q, k, v in sets]
            fl = 4 * B * H * N * N * D / (2 if causal else 1)
            for impl in impls:
                if impl == "effgen-py":
                    fn = lambda s: effgen.attention(s[0], s[1], s[2], causal=bool(causal), out=s[3])
                else:
                    fn = lambda s, be=BACKENDS[impl]: sdpa(be, s[0], s[1], s[2], bool(causal))
                ms, lo, hi = time_launches(fn, sets, a.reps)
                r = dict(impl=impl, mode="fwd", mask="causal" if causal else "none", dtype=a.dtype, B=B, H=H, N=N,
                         D=D, ms=ms, ms_min=lo, ms_max=hi, tflops=fl / ms / 1e9)
                rows.append(r)
                times[impl].append((B, ms))
                print(json.dumps(r), flush=True)
            del sets
        for impl in impls:
            pts = [(b, m) for b, m in times[impl] if b >= a.fit_from] or times[impl]
            if len(pts) < 2:
                continue
            xs, ys = [b for b, _ in pts], [m for _, m in pts]
            ia, ib, res = fit(xs, ys)
            fits.append(dict(impl=impl, D=D, H=H, N=N, causal=causal, intercept_us=1e3 * ia, per_batch_us=1e3 * ib,
                             residual_us=1e3 * res))
    print()
    print(f"{'D':>4} {'H':>3} {'N':>6} {'mask':<6} {'impl':<12} {'fixed us':>9} {'us/batch':>9} {'resid us':>9}")
    for f in fits:
        print(f"{f['D']:>4} {f['H']:>3} {f['N']:>6} {'causal' if f['causal'] else 'none':<6} {f['impl']:<12} "
              f"{f['intercept_us']:9.2f} {f['per_batch_us']:9.3f} {f['residual_us']:9.2f}")
    with open(a.out, "w") as fh:
        json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__, "rows": rows, "fits": fits},
                  fh, indent=1)
    print("wrote", a.out)


if __name__ == "__main__":
    import warnings
    warnings.filterwarnings("ignore")
    main()
