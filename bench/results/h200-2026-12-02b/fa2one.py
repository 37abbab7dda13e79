# FA2 (SDPA flash) forward on one dense shape, for Nsight Compute: python3 fa2one.py D N [causal]
import sys, torch
from torch.nn.attention import sdpa_kernel, SDPBackend
D, N = int(sys.argv[1]), int(sys.argv[2]); causal = len(sys.argv) > 3 and sys.argv[3] == "1"
B, H = 16384 // N, 2048 // D
q, k, v = (torch.randn(B, H, N, D, device="cuda", dtype=torch.bfloat16) for _ in range(3))
with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
    for _ in range(6):
        o = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal)
    torch.cuda.synchronize()
    st, en = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    ts = []
    for _ in range(30):
        st.record(); o = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal); en.record()
        torch.cuda.synchronize(); ts.append(st.elapsed_time(en))
ts.sort(); ms = ts[len(ts) // 2]
fl = 4 * B * H * N * N * D / (2 if causal else 1)
print(f"fa2 D={D} N={N} causal={int(causal)} {ms*1e3:.1f} us {fl/ms/1e9:.1f} TFLOP/s")
