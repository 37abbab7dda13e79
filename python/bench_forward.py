#!/usr/bin/env python3
"""The dense forward benchmark from Python: effgen.attention and PyTorch SDPA's backends timed in one process
the way `effgen bench` times (CUDA events around each launch on the current stream, after a warm-up, the
median of 30 launches, input sets rotated so that together they exceed twice the L2 cache), on the
FlashAttention shapes: D = 64, 128, 256; N = 512 .. 16384; B*N = 16384; H*D = 2048; causal and not; bf16
(or fp16). Rows use the peers' JSON format (../shared/peers/peers.py): impl, mode, mask, dtype, B, H, N, D,
ms, tflops, plus ms_min and ms_max; effgen's impl is "effgen-py".

    python3 python/bench_forward.py [--dtype bf16|fp16] [--quick] [--reps 30] [--out bench-py.json]
"""
import argparse
import json
import math
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import effgen  # noqa: E402

BACKENDS = {"sdpa-flash": SDPBackend.FLASH_ATTENTION, "sdpa-cudnn": SDPBackend.CUDNN_ATTENTION,
            "sdpa-efficient": SDPBackend.EFFICIENT_ATTENTION}


def shapes(quick):
    for D in (64, 128, 256):
        for N in ((1024, 4096) if quick else (512, 1024, 2048, 4096, 8192, 16384)):
            yield D, 2048 // D, N, 16384 // N


def time_launches(fn, sets, reps):
    """fn(set) once per input set and at least 5 times to warm up, then reps launches rotating over the sets,
    each between two CUDA events: (median, min, max) in milliseconds."""
    for i in range(max(len(sets), 5)):
        fn(sets[i % len(sets)])
    ev = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(reps)]
    for i, (a, b) in enumerate(ev):
        s = sets[i % len(sets)]
        a.record()
        fn(s)
        b.record()
    torch.cuda.synchronize()
    ms = sorted(a.elapsed_time(b) for a, b in ev)
    mid = ms[reps // 2] if reps % 2 else 0.5 * (ms[reps // 2 - 1] + ms[reps // 2])
    return mid, ms[0], ms[-1]


def measure(rows, impl, fn, sets, reps, flops, **kw):
    try:
        ms, lo, hi = time_launches(fn, sets, reps)
        r = dict(impl=impl, ms=ms, ms_min=lo, ms_max=hi, tflops=flops / ms / 1e9, **kw)
    except Exception as e:  # a backend that refuses the problem says so in its row
        r = dict(impl=impl, error=str(e).splitlines()[0][:200], **kw)
    rows.append(r)
    print(json.dumps(r), flush=True)


def sdpa(be, q, k, v, causal):
    with sdpa_kernel(be):
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16"])
    ap.add_argument("--quick", action="store_true", help="N = 1024 and 4096 only")
    ap.add_argument("--out", default=os.path.join(os.environ.get("OUT", "."), "bench-py.json"))
    ap.add_argument("--no-peers", action="store_true", help="effgen rows only")
    ap.add_argument("--reps", type=int, default=30, help="timed launches per row (median)")
    a = ap.parse_args()
    dt = torch.bfloat16 if a.dtype == "bf16" else torch.float16
    l2 = torch.cuda.get_device_properties(torch.cuda.current_device()).L2_cache_size
    rows = []
    for D, H, N, B in shapes(a.quick):
        set_bytes = 4 * B * H * N * D * 2  # Q, K, V and O
        n_sets = max(1, math.ceil(2 * l2 / set_bytes))
        sets = [tuple(torch.randn(B, H, N, D, device="cuda", dtype=dt) for _ in range(3)) for _ in range(n_sets)]
        sets = [(q, k, v, torch.empty_like(q)) for q, k, v in sets]
        for causal in (False, True):
            fl = 4 * B * H * N * N * D / (2 if causal else 1)
            kw = dict(mode="fwd", mask="causal" if causal else "none", dtype=a.dtype, B=B, H=H, N=N, D=D,
                      input_sets=n_sets)
            measure(rows, "effgen-py", lambda s: effgen.attention(s[0], s[1], s[2], causal=causal, out=s[3]), sets,
                    a.reps, fl, **kw)
            if not a.no_peers:
                for name, be in BACKENDS.items():
                    measure(rows, name, lambda s, be=be: sdpa(be, s[0], s[1], s[2], causal), sets, a.reps, fl, **kw)
        del sets
    info = effgen.info()
    dev = info["device"]["name"] if isinstance(info["device"], dict) else torch.cuda.get_device_name()
    with open(a.out, "w") as f:
        json.dump({"device": dev, "torch": torch.__version__, "effgen": info["effgen"], "rows": rows}, f, indent=1)
    print("wrote", a.out)


if __name__ == "__main__":
    import warnings
    warnings.filterwarnings("ignore")
    main()
