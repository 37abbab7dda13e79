#!/usr/bin/env python3
"""Host time of effgen.attention's Python layer without PyTorch or a GPU: torch is replaced by a stub
(stub_torch.py) and effgen_attention_fwd by a no-op, so what is timed is validation, introspection and
packing only; the fast path (attention) against the general path (_attention_general). The stub's
accessors are cheaper than torch's, so absolute numbers are lower than on a GPU machine; the real
measurement is python/bench_overhead.py.

    python3 python/tests/bench_stub_overhead.py
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from effgen import _attention  # noqa: E402
import stub_torch  # noqa: E402


def per_call(fn, n=200000):
    for _ in range(1000):
        fn()
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t) / n)
    return best


def main():
    stub_torch.install()
    _attention._fwd = lambda ctx, args, stream: 0
    q = stub_torch.Tensor((1, 1, 16, 64))
    out = stub_torch.empty_like(q)
    fast, general = _attention.attention, _attention._attention_general
    t_fast = per_call(lambda: fast(q, q, q, out=out))
    t_gen = per_call(lambda: general(q, q, q, out=out))
    print(f"general path (stub torch)  {t_gen * 1e6:7.2f} us")
    print(f"fast path (stub torch)     {t_fast * 1e6:7.2f} us")
    stub_torch.restore()


if __name__ == "__main__":
    main()
