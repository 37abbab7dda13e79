#!/usr/bin/env python3
"""A GPT-2-sized causal decoder block (d_model 768, 12 heads, seq 1024, batch 4) from random weights, run with
effgen attention and with PyTorch's scaled_dot_product_attention; prints the max relative error of the
block output and exits 1 when it exceeds the tolerance (bf16: 2e-2, fp16: 5e-3).

    python3 python/examples/gpt2_block.py [--dtype bf16|fp16]
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import effgen  # noqa: E402


class Block(torch.nn.Module):
    def __init__(self, d=768, heads=12):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
        self.qkv, self.proj = torch.nn.Linear(d, 3 * d), torch.nn.Linear(d, d)
        self.fc, self.fc_out = torch.nn.Linear(d, 4 * d), torch.nn.Linear(4 * d, d)

    def forward(self, x, attn):
        B, N, d = x.shape
        qkv = self.qkv(self.ln1(x)).view(B, N, 3, self.heads, d // self.heads)
        q, k, v = qkv.unbind(2)  # each [B, N, H, D]: strided views, no copy
        y = attn(q, k, v)  # [B, N, H, D]
        x = x + self.proj(y.reshape(B, N, d))
        return x + self.fc_out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


def effgen_attn(q, k, v):
    return effgen.attention(q, k, v, causal=True, layout="bnhd")


def sdpa_attn(q, k, v):
    return F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                          is_causal=True).transpose(1, 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dtype", default="bf16", choices=["bf16", "fp16"])
    a = ap.parse_args()
    dt = torch.bfloat16 if a.dtype == "bf16" else torch.float16
    torch.manual_seed(0)
    block = Block().to("cuda", dt).eval()
    x = torch.randn(4, 1024, 768, device="cuda", dtype=dt)
    with torch.no_grad():
        ye = block(x, effgen_attn)
        yt = block(x, sdpa_attn)
        # attention alone as well, where the comparison is sharpest
        qkv = block.qkv(block.ln1(x)).view(4, 1024, 3, 12, 64)
        q, k, v = qkv.unbind(2)
        ae, at = effgen_attn(q, k, v), sdpa_attn(q, k, v)
    torch.cuda.synchronize()

    def rel(a, b):
        return ((a.float() - b.float()).abs().max() / b.float().abs().max()).item()

    tol = 2e-2 if dt == torch.bfloat16 else 5e-3
    r_attn, r_block = rel(ae, at), rel(ye, yt)
    print(f"gpt2 block, {a.dtype}, B=4 N=1024 H=12 D=64 causal: max relative error attention {r_attn:.2e}, "
          f"block output {r_block:.2e} (tolerance {tol:.0e})")
    if not (r_attn <= tol and r_block <= tol):
        print("MISMATCH", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
