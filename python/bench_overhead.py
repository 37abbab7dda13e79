#!/usr/bin/env python3
"""Host time per call of effgen.attention on a tiny problem, against the raw C call (effgen_attention_fwd
through ctypes with a prepared argument struct). The difference is what the Python layer costs: validation,
tensor introspection, stream lookup, packing the arguments. The issue's budget is 10 us.

    python3 python/bench_overhead.py [--calls 20000] [--alloc]

--alloc times effgen.attention allocating its output (torch.empty_like) instead of writing into out=.
Kernels are tiny (1x1x16x64), so the loop measures the host path; the GPU queue is drained every 1000 calls.
"""
import argparse
import ctypes
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import effgen  # noqa: E402
from effgen import _lib  # noqa: E402


def per_call(fn, calls):
    for _ in range(200):
        fn()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(5):
        t, n = time.perf_counter(), 0
        while n < calls:
            for _ in range(1000):
                fn()
            n += 1000
            torch.cuda.synchronize()  # keep the launch queue from filling (would block the host)
        best = min(best, (time.perf_counter() - t) / n)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--alloc", action="store_true")
    a = ap.parse_args()
    q = torch.randn(1, 1, 16, 64, device="cuda", dtype=torch.bfloat16)
    out = torch.empty_like(q)
    effgen.attention(q, q, q, out=out)  # compiles (or loads) the kernel once

    h = _lib.lib.handle
    args = _lib.Args()
    h.effgen_attn_args_init(ctypes.addressof(args))
    args.dtype, args.batch, args.heads, args.seqlen_q, args.seqlen_k, args.head_dim = 0, 1, 1, 16, 16, 64
    args.q = args.k = args.v = q.data_ptr()
    args.o = out.data_ptr()
    ctx = _lib.context(q.device.index)
    stream = torch.cuda.current_stream().cuda_stream
    fwd = h.effgen_attention_fwd
    pa = ctypes.addressof(args)

    def raw():
        if fwd(ctx, pa, stream):
            raise RuntimeError(_lib.last_error())

    if a.alloc:
        def py():
            effgen.attention(q, q, q)
    else:
        def py():
            effgen.attention(q, q, q, out=out)

    t_raw = per_call(raw, a.calls)
    t_py = per_call(py, a.calls)
    t_sdpa = per_call(lambda: torch.nn.functional.scaled_dot_product_attention(q, q, q), a.calls)
    over = (t_py - t_raw) * 1e6
    print(f"raw C call (ctypes)      {t_raw * 1e6:7.2f} us")
    print(f"effgen.attention{' (alloc)' if a.alloc else '        '} {t_py * 1e6:7.2f} us")
    print(f"torch SDPA (reference)   {t_sdpa * 1e6:7.2f} us")
    print(f"Python-call overhead     {over:7.2f} us  (budget 10 us: {'ok' if over <= 10 else 'OVER'})")
    return 0 if over <= 10 else 1


if __name__ == "__main__":
    sys.exit(main())
