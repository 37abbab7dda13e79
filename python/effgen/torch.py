"""effgen.torch.scaled_dot_product_attention: a drop-in for torch.nn.functional.scaled_dot_product_attention
that runs effgen's kernels where they apply and PyTorch's function everywhere else.

effgen serves a call when: no attn_mask or a floating-point one of the query's dtype (added to the scores
as effgen's bias: broadcastable to [B, H, Nq, Nk], keys contiguous), dropout_p == 0, no gradient needed, 4-d CUDA tensors of one device
and one dtype (bf16 or fp16), one head dim for q, k and v that is a multiple of 8 from 8 to 256, nothing
empty, K/V heads equal to Q's (or dividing them with enable_gqa=True), head dim contiguous, other strides
multiples of 8 elements, 16-byte aligned data, and not inside torch.compile tracing. Every other call, and
a call the library refuses, goes to PyTorch: fallback_count counts them, stats["reasons"] says why, and
the logger "effgen.torch" writes one debug line each.

PyTorch's is_causal is top-left aligned when the sequence lengths differ (query i sees keys j <= i);
effgen is asked for exactly that.
"""
import logging
import math

import torch
import torch.nn.functional as F

from ._attention import attention
from ._lib import EffgenError

__all__ = ["scaled_dot_product_attention", "fallback_count", "stats", "reset_stats"]

log = logging.getLogger("effgen.torch")

fallback_count = 0
stats = {"effgen": 0, "fallback": 0, "reasons": {}}

_DTYPES = (torch.bfloat16, torch.float16)
_is_compiling = getattr(getattr(torch, "compiler", None), "is_compiling", None) or (lambda: False)


def reset_stats():
    """Zero fallback_count and stats."""
    global fallback_count
    fallback_count = 0
    stats["effgen"] = stats["fallback"] = 0
    stats["reasons"] = {}


def _strides_ok(t):
    if t.stride(-1) != 1 or t.data_ptr() % 16:
        return False
    for size, st in zip(t.shape[:-1], t.stride()[:-1]):
        if size != 1 and (st <= 0 or st % 8):
            return False
    return True


def _unsupported(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa):
    """Why effgen cannot serve this call, or None when it can."""
    if attn_mask is not None:
        if not isinstance(attn_mask, torch.Tensor):
            return "attn_mask is not a tensor"
        if attn_mask.dtype == torch.bool:
            return "boolean attn_mask"
        if attn_mask.dtype != query.dtype:
            return f"attn_mask dtype {attn_mask.dtype} differs from the query's"
        if is_causal:
            return "attn_mask together with is_causal"
        if attn_mask.requires_grad and torch.is_grad_enabled():
            return "gradients are required (effgen has no backward pass)"
    if dropout_p != 0.0:
        return "dropout_p > 0"
    T = torch.Tensor
    if not (isinstance(query, T) and isinstance(key, T) and isinstance(value, T)):
        return "an argument is not a tensor"
    if _is_compiling():
        return "inside torch.compile tracing"
    if torch.is_grad_enabled() and (query.requires_grad or key.requires_grad or value.requires_grad):
        return "gradients are required (effgen has no backward pass)"
    if query.is_nested or key.is_nested or value.is_nested:
        return "nested tensors"
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4:
        return "tensors are not 4-dimensional"
    if not (query.is_cuda and key.is_cuda and value.is_cuda):
        return "not CUDA tensors"
    if not (query.device == key.device == value.device):
        return "tensors on different devices"
    if query.dtype not in _DTYPES or key.dtype != query.dtype or value.dtype != query.dtype:
        return f"dtype {query.dtype}/{key.dtype}/{value.dtype} (effgen: bf16 or fp16, all the same)"
    B, H, Nq, D = query.shape
    Bk, Hk, Nk, Dk = key.shape
    if tuple(value.shape) != (Bk, Hk, Nk, Dk) or Dk != D or Bk != B:
        return "shapes of query, key and value differ beyond the sequence length and heads"
    if D % 8 or D < 8 or D > 256:
        return f"head dim {D} (effgen: a multiple of 8 from 8 to 256)"
    if B == 0 or H == 0 or Nq == 0 or Nk == 0:
        return "an empty dimension"
    if Hk != H and (not enable_gqa or H % Hk):
        return "K/V heads differ from query heads without enable_gqa (or do not divide them)"
    if scale is not None and not (scale > 0 and math.isfinite(scale)):
        return f"scale {scale} (effgen: positive and finite)"
    if not (_strides_ok(query) and _strides_ok(key) and _strides_ok(value)):
        return "strides or alignment (effgen: head dim contiguous, other strides multiples of 8, 16-byte aligned)"
    return None


def _fallback(reason, query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa):
    global fallback_count
    fallback_count += 1
    stats["fallback"] += 1
    stats["reasons"][reason] = stats["reasons"].get(reason, 0) + 1
    log.debug("scaled_dot_product_attention: PyTorch fallback: %s", reason)
    kw = {}
    if scale is not None:
        kw["scale"] = scale
    if enable_gqa:
        kw["enable_gqa"] = True  # only passed when set, so older PyTorch without the argument still works
    return F.scaled_dot_product_attention(query, key, value, attn_mask=attn_mask, dropout_p=dropout_p,
                                          is_causal=is_causal, **kw)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """torch.nn.functional.scaled_dot_product_attention, served by effgen where it can be (see the module
    documentation) and by PyTorch otherwise."""
    reason = _unsupported(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)
    if reason is None:
        try:
            o = attention(query, key, value, causal=bool(is_causal), causal_align="top_left", scale=scale,
                          bias=attn_mask)
        except (EffgenError, ValueError, TypeError) as e:  # e.g. an arch the library lacks, NVRTC missing
            reason = "effgen refused: " + str(e).splitlines()[0][:200]
        else:
            stats["effgen"] += 1
            return o
    return _fallback(reason, query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa)
