#!/usr/bin/env python3
"""Variable-length attention from Python: effgen.attention on packed sequences (cu_seqlens) beside

  - effgen's dense kernel at the batch's mean length (the same number of sequences, all of the mean length),
  - PyTorch SDPA on the batch padded to its longest sequence with a boolean padding mask (each backend
    that takes a mask), the way a model without variable-length kernels runs it,
  - PyTorch SDPA on a nested (jagged) tensor of the sequences, where the installed PyTorch supports it,

timed in one process as `effgen bench` times (CUDA events around each launch, after a warm-up, the median of
--reps launches). Lengths are drawn uniformly in [--min, --max] with --seed; keys and queries have the same
lengths. Useful FLOPs count only each sequence's own scores: 4 * H * D * sum(len^2), halved when causal (as
the peers count causal rows), for every row of a batch, so that padded computation counts as lost time.
Rows use the peers' JSON format (impl, mode, mask, dtype, B, H, N, D, ms, tflops; B is the number of
sequences, N the longest, N_mean the mean) plus ms_min and ms_max; mask is "varlen" (or "varlen-causal"),
and the dense row at the mean length has mask "none" (or "causal") with N = the mean.

    python3 python/bench_varlen.py [--dtype bf16|fp16] [--seqs 64] [--min 128] [--max 4096] [--heads 16]
                                   [--dim 128] [--seed 0] [--reps 30] [--out bench-varlen.json]
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import effgen  # noqa: E402
from bench_forward import BACKENDS, measure  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16"])
    ap.add_argument("--seqs", type=int, default=64)
    ap.add_argument("--min", type=int, default=128)
    ap.add_argument("--max", type=int, default=4096)
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reps", type=int, default=30, help="timed launches per row (median)")
    ap.add_argument("--no-peers", action="store_true", help="effgen rows only")
    ap.add_argument("--out", default=os.path.join(os.environ.get("OUT", "."), "bench-varlen.json"))
    a = ap.parse_args()
    if not (1 <= a.min <= a.max) or a.seqs < 1:
        raise SystemExit("bench_varlen: need 1 <= --min <= --max and --seqs >= 1")
    dt = torch.bfloat16 if a.dtype == "bf16" else torch.float16
    g = torch.Generator().manual_seed(a.seed)
    lens = torch.randint(a.min, a.max + 1, (a.seqs,), generator=g)
    B, H, D, nmax = a.seqs, a.heads, a.dim, int(lens.max())
    total = int(lens.sum())
    nmean = round(total / B)
    cu = torch.zeros(B + 1, dtype=torch.int32)
    cu[1:] = torch.cumsum(lens, 0)
    cu_d = cu.cuda()
    pairs = float((lens.double() ** 2).sum())
    q, k, v = (torch.randn(total, H, D, device="cuda", dtype=dt) for _ in range(3))
    o = torch.empty_like(q)
    rows = []
    base = dict(mode="fwd", dtype=a.dtype, B=B, H=H, D=D, N_mean=nmean, len_min=a.min, len_max=a.max, seed=a.seed)
    sets = [None]
    for causal in (False, True):
        fl = 4 * H * D * pairs / (2 if causal else 1)
        mk = "varlen-causal" if causal else "varlen"
        measure(rows, "effgen-py", lambda s: effgen.attention(q, k, v, causal=causal, cu_seqlens_q=cu_d,
                                                              cu_seqlens_k=cu_d, max_seqlen_q=nmax, out=o),
                sets, a.reps, fl, mask=mk, N=nmax, **base)
        # the dense kernel at the mean length: B sequences of nmean tokens
        qd, kd, vd = (torch.randn(B, H, nmean, D, device="cuda", dtype=dt) for _ in range(3))
        od = torch.empty_like(qd)
        fld = 4 * B * H * nmean * nmean * D / (2 if causal else 1)
        measure(rows, "effgen-py", lambda s: effgen.attention(qd, kd, vd, causal=causal, out=od), sets, a.reps,
                fld, mask="causal" if causal else "none", N=nmean, **base)
        del qd, kd, vd, od
        if a.no_peers:
            continue
        # SDPA on the batch padded to the longest sequence, with a boolean mask (True: take part)
        qp, kp, vp = (torch.zeros(B, H, nmax, D, device="cuda", dtype=dt) for _ in range(3))
        for b in range(B):
            lo, hi = int(cu[b]), int(cu[b + 1])
            for src, dst in ((q, qp), (k, kp), (v, vp)):
                dst[b, :, :hi - lo] = src[lo:hi].transpose(0, 1)
        pos = torch.arange(nmax, device="cuda")
        valid = pos[None, :] < lens.cuda()[:, None]  # [B, nmax]
        mask = valid[:, None, None, :]
        if causal:  # bottom-right is top-left here: queries and keys of a sequence have the same length
            mask = mask & (pos[:, None] >= pos[None, :])[None, None]
        for name, be in BACKENDS.items():
            def run(s, be=be):
                with sdpa_kernel(be):
                    return F.scaled_dot_product_attention(qp, kp, vp, attn_mask=mask)
            measure(rows, name + "-padmask", run, sets, a.reps, fl, mask=mk, N=nmax, **base)
        del qp, kp, vp, mask
        # SDPA on nested (jagged) tensors: [B, j, H, D] transposed to [B, H, j, D]
        try:
            nj = [torch.nested.nested_tensor_from_jagged(x, offsets=cu_d.long()).transpose(1, 2) for x in (q, k, v)]
        except Exception as e:
            rows.append(dict(impl="sdpa-nested", error=str(e).splitlines()[0][:200], mask=mk, N=nmax, **base))
            print(json.dumps(rows[-1]), flush=True)
            continue
        for name, be in (("sdpa-flash", SDPBackend.FLASH_ATTENTION), ("sdpa-efficient", SDPBackend.EFFICIENT_ATTENTION),
                         ("sdpa-cudnn", SDPBackend.CUDNN_ATTENTION)):
            def runn(s, be=be):
                with sdpa_kernel(be):
                    return F.scaled_dot_product_attention(nj[0], nj[1], nj[2], is_causal=causal)
            measure(rows, name + "-nested", runn, sets, a.reps, fl, mask=mk, N=nmax, **base)
        del nj
    # ratios the targets are stated in
    by = {(r["impl"], r["mask"]): r for r in rows if "tflops" in r}
    for causal in (False, True):
        mk, dm = ("varlen-causal", "causal") if causal else ("varlen", "none")
        e = by.get(("effgen-py", mk))
        if not e:
            continue
        d = by.get(("effgen-py", dm))
        line = f"{mk}: effgen {e['tflops']:.1f} TFLOP/s"
        if d:
            line += f"; dense at the mean length {d['tflops']:.1f} ({e['tflops'] / d['tflops']:.2f}x)"
        pad = [r for (i, m), r in by.items() if m == mk and i.endswith("-padmask")]
        if pad:
            best = max(pad, key=lambda r: r["tflops"])
            line += f"; best padded-mask SDPA {best['impl']} {best['tflops']:.1f} ({e['tflops'] / best['tflops']:.2f}x)"
        nest = [r for (i, m), r in by.items() if m == mk and i.endswith("-nested")]
        if nest:
            best = max(nest, key=lambda r: r["tflops"])
            line += f"; best nested SDPA {best['impl']} {best['tflops']:.1f} ({e['tflops'] / best['tflops']:.2f}x)"
        print(line)
    info = effgen.info()
    dev = info["device"]["name"] if isinstance(info["device"], dict) else torch.cuda.get_device_name()
    with open(a.out, "w") as f:
        json.dump({"device": dev, "torch": torch.__version__, "effgen": info["effgen"], "lengths": lens.tolist(),
                   "rows": rows}, f, indent=1)
    print("wrote", a.out)


if __name__ == "__main__":
    import warnings
    warnings.filterwarnings("ignore")
    main()
