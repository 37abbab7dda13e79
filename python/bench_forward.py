#!/usr/bin/env python3
"""The dense forward benchmark from Python: effgen.attention and PyTorch SDPA's backends timed in one process
with triton.testing.do_bench (median), on the FlashAttention shapes: D = 64, 128, 256; N = 512 .. 16384;
B*N = 16384; H*D = 2048; causal and not; bf16 (or fp16). Rows use the peers' JSON format
(../shared/peers/peers.py): impl, mode, mask, dtype, B, H, N, D, ms, tflops; effgen's impl is "effgen-py".

    python3 python/bench_forward.py [--dtype bf16|fp16] [--quick] [--out bench-py.json]
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from triton.testing import do_bench

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import effgen  # noqa: E402

BACKENDS = {"sdpa-flash": SDPBackend.FLASH_ATTENTION, "sdpa-cudnn": SDPBackend.CUDNN_ATTENTION,
            "sdpa-efficient": SDPBackend.EFFICIENT_ATTENTION}


def shapes(quick):
    for D in (64, 128, 256):
        for N in ((1024, 4096) if quick else (512, 1024, 2048, 4096, 8192, 16384)):
            yield D, 2048 // D, N, 16384 // N


def measure(rows, impl, fn, flops, **kw):
    try:
        ms = do_bench(fn, warmup=25, rep=150, return_mode="median")
        r = dict(impl=impl, ms=ms, tflops=flops / ms / 1e9, **kw)
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
    a = ap.parse_args()
    dt = torch.bfloat16 if a.dtype == "bf16" else torch.float16
    rows = []
    for D, H, N, B in shapes(a.quick):
        q, k, v = (torch.randn(B, H, N, D, device="cuda", dtype=dt) for _ in range(3))
        out = torch.empty_like(q)
        for causal in (False, True):
            fl = 4 * B * H * N * N * D / (2 if causal else 1)
            kw = dict(mode="fwd", mask="causal" if causal else "none", dtype=a.dtype, B=B, H=H, N=N, D=D)
            effgen.attention(q, k, v, causal=causal, out=out)  # compile or load outside the timing
            measure(rows, "effgen-py", lambda: effgen.attention(q, k, v, causal=causal, out=out), fl, **kw)
            if not a.no_peers:
                for name, be in BACKENDS.items():
                    measure(rows, name, lambda be=be: sdpa(be, q, k, v, causal), fl, **kw)
        del q, k, v, out
    info = effgen.info()
    dev = info["device"]["name"] if isinstance(info["device"], dict) else torch.cuda.get_device_name()
    with open(a.out, "w") as f:
        json.dump({"device": dev, "torch": torch.__version__, "effgen": info["effgen"], "rows": rows}, f, indent=1)
    print("wrote", a.out)


if __name__ == "__main__":
    import warnings
    warnings.filterwarnings("ignore")
    main()
