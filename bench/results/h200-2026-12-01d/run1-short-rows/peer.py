import sys, torch
from torch.nn.attention import sdpa_kernel, SDPBackend
be = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}[sys.argv[1]]
n = int(sys.argv[2]); d = int(sys.argv[3]); c = sys.argv[4] == "1"; b = 16384 // n; h = 2048 // d
q, k, v = (torch.randn(b, h, n, d, device="cuda", dtype=torch.bfloat16) for _ in range(3))
with sdpa_kernel([be]):
    for _ in range(6): torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=c)
torch.cuda.synchronize()
