"""effgen.attention: validation of tensors from PyTorch, __cuda_array_interface__ or DLPack, and the call of
effgen_attention_fwd on the right stream and device. Everything is checked here first so errors read
like PyTorch's and name the Python arguments; the C library checks again and its text is raised too.

The call path never synchronizes with the device: it reads pointers, shapes and strides, allocates the
output (PyTorch's caching allocator, for torch inputs) and queues one launch.
"""
import ctypes
import math
import struct
import sys
import threading

from . import _lib

__all__ = ["attention"]

# effgen_attn_args packed in one call. The format mirrors _lib._ARGS_FIELDS in native alignment; the
# test suite checks that both give the same offsets. A capability that appends fields to the C struct
# appends them to _lib._ARGS_FIELDS, to this format and to _pack below.
_FORMAT = struct.Struct("@6i5P12q2ifP3ifPi")
_pack = _FORMAT.pack_into

# Fields after the common prefix, written only by the general path into a fresh buffer: the varlen offsets,
# the bias tensor and the user expressions (mask tensors and block-sparse tables are C-only for now).
_EXT = struct.Struct("@PPiP4q")
_EXT_OFF = _lib._ArgsBase.cu_seqlens_q.offset
_EXPR = struct.Struct("@PPPi")
_EXPR_OFF = _lib._ArgsBase.score_mod.offset
_EXPR_DTYPES = {"torch.float32": 0, "float32": 0, "torch.float16": 1, "float16": 1, "torch.bfloat16": 2,
                "bfloat16": 2, "torch.int32": 3, "<i4": 3, "int32": 3, "torch.uint8": 4, "|u1": 4, "uint8": 4,
                "torch.bool": 5, "|b1": 5, "bool": 5}
_I32 = ("torch.int32", "<i4", "int32")


_ALIGN = {"bottom_right": 0, "top_left": 1}
_CODES = {"torch.bfloat16": 0, "torch.float16": 1, "bfloat16": 0, "float16": 1}
_F32 = ("torch.float32", "float32")

# torch, once some torch tensor has been seen (this module never imports torch itself)
_torch = None
_Tensor = None
_tdtype = {}
_raw_stream = None
_bf16 = _f16 = _f32 = None  # torch's dtype objects, compared by identity on the fast path


def _find_torch():
    global _torch, _Tensor, _raw_stream, _tdtype, _bf16, _f16, _f32
    t = sys.modules.get("torch")
    if t is None or not hasattr(t, "Tensor"):
        return None
    _torch = t
    _bf16, _f16, _f32 = t.bfloat16, t.float16, t.float32
    _tdtype = {t.bfloat16: "torch.bfloat16", t.float16: "torch.float16", t.float32: "torch.float32"}
    raw = getattr(t._C, "_cuda_getCurrentRawStream", None)
    _raw_stream = raw if raw is not None else (lambda i: t.cuda.current_stream(i).cuda_stream)
    _Tensor = t.Tensor  # set last: the fast path reads it as "every name above is ready"
    return _Tensor


# A described tensor: (pointer, shape, strides in elements, dtype text, device ordinal or None, object,
# stream of the producer or None). The device of a __cuda_array_interface__ object is resolved only
# after every other check, since it may need the driver.
def _tdesc(t, name):
    dev = t.device
    if dev.type != "cuda":
        raise ValueError(f"effgen.attention: expected {name} to be a CUDA tensor, got a tensor on {dev}")
    dt = _tdtype.get(t.dtype) or str(t.dtype)
    return (t.data_ptr(), tuple(t.shape), t.stride(), dt, dev.index, t, None)


_TYPESTR = {"f2": "float16", "f4": "float32", "f8": "float64", "V2": "bfloat16?"}


def _cdesc(x, name, dtype):
    cai = x.__cuda_array_interface__
    try:
        shape = tuple(int(s) for s in cai["shape"])
        typestr = cai["typestr"]
        ptr = int(cai["data"][0] or 0)
    except (KeyError, TypeError, IndexError, ValueError) as e:
        raise TypeError(f"effgen.attention: {name}.__cuda_array_interface__ is malformed ({e!r})") from None
    if cai.get("mask") is not None:
        raise ValueError(f"effgen.attention: {name} is a masked array (__cuda_array_interface__ mask); "
                         "masked arrays are not supported")
    kind = typestr[1:]
    dt = _TYPESTR.get(kind, typestr)
    if dt == "bfloat16?":
        descr = cai.get("descr") or []
        named = descr[0][0] if descr and descr[0] and descr[0][0] else ""
        if dtype in ("bf16", "bfloat16") or named == "bfloat16":
            dt = "bfloat16"
        elif dtype in ("fp16", "float16"):
            dt = "float16"
        else:
            raise TypeError(f"effgen.attention: {name} has typestr {typestr!r} (2-byte items of no numeric type); "
                            "pass dtype='bf16' or dtype='fp16' to say which")
    itemsize = int(kind[1:]) if kind[1:].isdigit() else 0
    st = cai.get("strides")
    if st is None:
        strides, acc = [], 1
        for s in reversed(shape):
            strides.append(acc)
            acc *= s
        strides = tuple(reversed(strides))
    else:
        if itemsize == 0 or any(int(b) % itemsize for b in st):
            raise ValueError(f"effgen.attention: expected the byte strides of {name} to be multiples of its "
                             f"element size {itemsize}, got {tuple(st)}")
        strides = tuple(int(b) // itemsize for b in st)
    stream = cai.get("stream") if cai.get("version", 0) >= 3 else None
    return (ptr, shape, strides, dt, None, x, stream)


def _desc(x, name, dtype):
    T = _Tensor or _find_torch()
    if T is not None and isinstance(x, T):
        return _tdesc(x, name)
    if hasattr(x, "__cuda_array_interface__"):
        return _cdesc(x, name, dtype)
    if hasattr(x, "__dlpack__"):
        if T is None:
            try:
                import torch  # noqa: F401  DLPack inputs go through torch.from_dlpack
            except ImportError:
                raise TypeError(f"effgen.attention: {name} is a DLPack tensor; reading it needs PyTorch "
                                "(torch.from_dlpack), which is not installed; pass an object with "
                                "__cuda_array_interface__ instead") from None
            _find_torch()
        return _tdesc(_torch.from_dlpack(x), name)
    raise TypeError(f"effgen.attention: expected {name} to be a torch.Tensor or an object with "
                    f"__cuda_array_interface__ or __dlpack__, got {type(x).__name__}")


def _check_head_dim(name, hd, sd):
    """The head dim of q, k, v or out: contiguous, a multiple of 8 from 8 to 256."""
    if sd != 1:
        raise ValueError(f"effgen.attention: expected the last dimension (head dim) of {name} to be contiguous "
                         f"(stride 1), got stride {sd}")
    if hd < 8 or hd > 256 or hd % 8:
        raise ValueError(f"effgen.attention: expected the head dim to be a multiple of 8 from 8 to 256, got {hd}"
                         + ("" if name == "q" else f" for {name}"))


def _check_aligned16(name, ptr):
    if ptr % 16:
        raise ValueError(f"effgen.attention: expected {name} to be aligned to 16 bytes, got data pointer {ptr:#x}")


def _seq_strides(b, h, n, sb, sh, sn):
    """The (batch, head, sequence) strides as effgen takes them, or None when they are not positive
    multiples of 8 elements. The stride of a dimension of size 1 is never used to address anything: any
    valid value will do, so it becomes 8."""
    if b == 1:
        sb = 8
    if h == 1:
        sh = 8
    if n == 1:
        sn = 8
    if sb <= 0 or sh <= 0 or sn <= 0 or sb % 8 or sh % 8 or sn % 8:
        return None
    return sb, sh, sn


def _bhnd(d, name, layout):
    """(B, H, N, D) and the (batch, head, sequence) strides of a 4-d tensor in the given layout, with the
    head dim checked contiguous and the other strides valid for effgen."""
    shape, strides = d[1], d[2]
    if len(shape) != 4:
        raise ValueError(f"effgen.attention: expected {name} to be 4-dimensional ({_LAYOUT_TEXT[layout]}), "
                         f"got {len(shape)} dimensions with shape {list(shape)}")
    if layout == "bhnd":
        b, h, n, hd = shape
        sb, sh, sn, sd = strides
    else:
        b, n, h, hd = shape
        sb, sn, sh, sd = strides
    _check_head_dim(name, hd, sd)
    seq = _seq_strides(b, h, n, sb, sh, sn)
    if seq is None:
        raise ValueError(f"effgen.attention: expected the batch, head and sequence strides of {name} to be "
                         f"positive multiples of 8 elements, got strides {tuple(strides)} for shape {list(shape)}")
    _check_aligned16(name, d[0])
    return b, h, n, hd, seq


_LAYOUT_TEXT = {"bhnd": "batch, heads, seqlen, head_dim", "bnhd": "batch, seqlen, heads, head_dim"}


def _devname(d):
    return "unknown" if d is None else f"cuda:{d}"


def _resolve_device(d, name, device):
    """The device ordinal of a described tensor: its own, the device= argument, an attribute of the
    object (CuPy's .device.id), or the driver's answer for its pointer."""
    if d[4] is not None:
        return d[4]
    if device is not None:
        return int(device)
    dev = getattr(d[5], "device", None)
    if dev is not None:
        idx = dev if isinstance(dev, int) else getattr(dev, "id", getattr(dev, "index", None))
        if isinstance(idx, int):
            return idx
    return _pointer_device(d[0], name)


_cuda = None


def _pointer_device(ptr, name):
    global _cuda
    import os
    if _cuda is None:
        path = os.environ.get("EFFGEN_LIBCUDA") or "libcuda.so.1"
        try:
            cu = ctypes.CDLL(path)
            if cu.cuInit(0) != 0:
                raise OSError("cuInit failed")
        except OSError as e:
            raise ValueError(f"effgen.attention: cannot tell which device {name} is on ({path}: {e}); pass "
                             "device=") from None
        cu.cuPointerGetAttribute.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64]
        _cuda = cu
    v = ctypes.c_int(-1)
    r = _cuda.cuPointerGetAttribute(ctypes.byref(v), 9, ptr)  # CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL
    if r != 0:
        raise ValueError(f"effgen.attention: {name} (data pointer {ptr:#x}) is not device memory known to the "
                         f"CUDA driver (CUresult {r})")
    return v.value


def _stream_handle(s):
    if s is None:
        return None
    if isinstance(s, int):
        return s
    h = getattr(s, "cuda_stream", None)  # torch.cuda.Stream, cupy Stream has .ptr
    if h is None:
        h = getattr(s, "ptr", None)
    if h is None:
        h = getattr(s, "handle", None)
    if h is None:
        raise TypeError(f"effgen.attention: expected stream to be an int handle or a stream object, got "
                        f"{type(s).__name__}")
    return int(h)


_config_cache = {}


def _config_ptr(config):
    p = _config_cache.get(config)
    if p is None:
        if not isinstance(config, str):
            raise TypeError(f"effgen.attention: expected config to be a str like 'bm128.bn64.w4.s2', got "
                            f"{type(config).__name__}")
        b = ctypes.c_char_p(config.encode())
        p = _config_cache[config] = (b, ctypes.cast(b, ctypes.c_void_p).value)  # kept alive for good
    return p[1]


# what the hot path needs from the loaded library, filled on first call
_fwd = None
_buf_type = None
_tls = threading.local()
_contexts = _lib._contexts  # device ordinal -> context; _lib.context opens a missing one


def _bind():
    global _fwd, _buf_type
    _lib.lib.load()
    _buf_type = ctypes.c_char * ctypes.sizeof(_lib.Args)
    _fwd = _lib.lib.handle.effgen_attention_fwd
    return _fwd


def _thread_buf():
    """This thread's argument buffer and its address. effgen_attention_fwd reads the struct before it
    returns and keeps no pointer to it, so one buffer per thread can be reused for every call (ctypes
    releases the GIL during the call, hence not one buffer for all threads). Bytes past _FORMAT (fields
    of a newer library) are never written and stay zero, which leaves those capabilities off."""
    buf = _buf_type()
    _tls.buf = r = (buf, ctypes.addressof(buf))
    return r


def _fast_bhnd(shape, st, bhnd):
    """(B, H, N, D, sb, sh, sn) of a torch tensor's shape and strides when they pass every check of _bhnd
    but alignment, else None (the general path then raises _bhnd's error)."""
    if len(shape) != 4:
        return None
    if bhnd:
        b, h, n, d = shape
        sb, sh, sn, sd = st
    else:
        b, n, h, d = shape
        sb, sn, sh, sd = st
    if sd != 1 or d < 8 or d > 256 or d % 8:
        return None
    seq = _seq_strides(b, h, n, sb, sh, sn)
    return None if seq is None else (b, h, n, d) + seq


# geometry of a torch call -> what _fast packs: shapes and strides in, (B, H, Nq, Nk, D, Hk, 12 strides) out
# (None when a check fails). Keyed by value, so a hit needs no shape or stride check; bounded by clearing.
_geometries = {}


def _geometry(key):
    qshape, qst, kshape, kst, vshape, vst, oshape, ost, bhnd = key
    qb = _fast_bhnd(qshape, qst, bhnd)
    kb = _fast_bhnd(kshape, kst, bhnd)
    vb = _fast_bhnd(vshape, vst, bhnd)
    ob = _fast_bhnd(oshape, ost, bhnd)
    if qb is None or kb is None or vb is None or ob is None or oshape != qshape:
        return None
    B, H, Nq, D = qb[:4]
    Bk, Hk, Nk, Dk = kb[:4]
    # k and v alike, one batch size and head dim, Hk divides H, nothing empty (the general path
    # handles empty problems)
    if kb[:4] != vb[:4] or Bk != B or Dk != D or Hk < 1 or H % Hk or not (B and H and Nq and Nk):
        return None
    return (B, H, Nq, Nk, D, Hk, qb[4:] + kb[4:] + vb[4:] + ob[4:])


def _fast(q, k, v, causal, scale, window, alibi_slopes, softcap, layout, return_lse, causal_align, config, out,
          lse, stream):
    """The common case, q, k and v plain torch tensors, checked with cheap accessors (data_ptr, stride,
    shape, get_device, dtype by identity) and packed into this thread's argument buffer. Returns
    (device, stream handle, out, lse), or None on any doubt: then _attention_general does everything
    again and raises its own error, so this function never raises one of its own. It accepts exactly
    what the general path accepts for torch inputs and packs the same values."""
    try:
        bhnd = layout == "bhnd"
        if not bhnd and layout != "bnhd":
            return None
        dt = q.dtype
        if dt is _bf16:
            code = 0
        elif dt is _f16:
            code = 1
        else:
            return None
        if k.dtype is not dt or v.dtype is not dt or not (q.is_cuda and k.is_cuda and v.is_cuda):
            return None
        dev = q.get_device()
        if k.get_device() != dev or v.get_device() != dev:
            return None
        if out is None:
            out = _torch.empty_like(q)
        elif type(out) is not _Tensor:
            return None
        if out.dtype is not dt or not out.is_cuda or out.get_device() != dev:
            return None
        qp, kp, vp, op = q.data_ptr(), k.data_ptr(), v.data_ptr(), out.data_ptr()
        if (qp | kp | vp | op) % 16:
            return None
        key = (q.shape, q.stride(), k.shape, k.stride(), v.shape, v.stride(), out.shape, out.stride(), bhnd)
        g = _geometries.get(key)
        if g is None:
            g = _geometry(key)
            if g is None:
                return None
            if len(_geometries) >= 1024:
                _geometries.clear()
            _geometries[key] = g
        B, H, Nq, Nk, D, Hk, strides = g
        align = _ALIGN.get(causal_align)
        if align is None:
            return None
        if scale is None:
            scale = 0.0
        elif not (scale > 0 and math.isfinite(scale)):
            return None
        if softcap is None:
            softcap = 0.0
        elif not (softcap >= 0 and math.isfinite(softcap)):
            return None
        if window is None:
            win = wl = wr = 0
        else:
            wl, wr = window
            wl, wr = int(wl), int(wr)
            if wl < -1 or wr < -1:
                return None
            win = 1
        ap = 0
        if alibi_slopes is not None:
            a = alibi_slopes
            if type(a) is not _Tensor or a.dtype is not _f32 or not a.is_cuda or a.get_device() != dev:
                return None
            ap = a.data_ptr()
            if a.shape != (H,) or a.stride() != (1,) or ap % 4:
                return None
        lp = 0
        if return_lse:
            if lse is None:
                lse = _torch.empty((B, H, Nq), dtype=_f32, device=q.device)
            elif type(lse) is not _Tensor:
                return None
            if lse.dtype is not _f32 or not lse.is_cuda or lse.get_device() != dev or lse.shape != (B, H, Nq):
                return None
            ls = lse.stride()
            lp = lse.data_ptr()
            if (Nq > 1 and ls[2] != 1) or (H > 1 and ls[1] != Nq) or (B > 1 and ls[0] != H * Nq) or lp % 4:
                return None
        elif lse is not None:
            return None
        sh = _raw_stream(dev) if stream is None else _stream_handle(stream)
        cfg = _config_ptr(config) if config is not None else 0
        if _fwd is None:
            _bind()
        try:
            buf = _tls.buf[0]
        except AttributeError:
            buf = _thread_buf()[0]
        _pack(buf, 0, code, B, H, Nq, Nk, D, qp, kp, vp, op, lp, *strides,
              1 if causal else 0, align, scale, cfg, win, wl, wr, softcap, ap, Hk)
        return dev, sh, out, lse
    except Exception:  # anything unexpected: the general path says what is wrong
        return None


def _contiguous(shape, strides):
    acc = 1
    for n, st in zip(reversed(shape), reversed(strides)):
        if n != 1 and st != acc:
            return False
        acc *= n
    return True


def _thd(d, name):
    """(H, N, D) and the (batch, head, sequence) strides of a packed varlen tensor [tokens, heads, head_dim];
    the batch stride is 0 (sequences are found through cu_seqlens)."""
    shape, strides = d[1], d[2]
    if len(shape) != 3:
        raise ValueError(f"effgen.attention: with cu_seqlens, expected {name} to be 3-dimensional (total tokens, "
                         f"heads, head_dim), got {len(shape)} dimensions with shape {list(shape)}")
    n, h, hd = shape
    sn, sh, sd = strides
    _check_head_dim(name, hd, sd)
    if h == 1:
        sh = 8
    if n == 1:
        sn = 8
    if sh <= 0 or sn <= 0 or sh % 8 or sn % 8:
        raise ValueError(f"effgen.attention: expected the token and head strides of {name} to be positive "
                         f"multiples of 8 elements, got strides {tuple(strides)} for shape {list(shape)}")
    _check_aligned16(name, d[0])
    return h, n, hd, (0, sh, sn)


def _varlen(cu_q, cu_k, max_seqlen_q, dtype):
    """Descriptions of the two offset arrays, the batch and max_seqlen_q (read from the device, which
    synchronizes, only when the caller did not give it)."""
    if cu_q is None or cu_k is None:
        raise ValueError("effgen.attention: variable lengths need both cu_seqlens_q and cu_seqlens_k")
    ds = []
    for x, name in ((cu_q, "cu_seqlens_q"), (cu_k, "cu_seqlens_k")):
        d = _desc(x, name, None)
        if d[3] not in _I32:
            raise TypeError(f"effgen.attention: expected {name} to be int32, got {d[3]}")
        if len(d[1]) != 1 or d[1][0] < 1 or (d[1][0] > 1 and d[2][0] != 1):
            raise ValueError(f"effgen.attention: expected {name} to be a contiguous vector of batch + 1 offsets, "
                             f"got shape {list(d[1])} and strides {tuple(d[2])}")
        if d[0] % 4:
            raise ValueError(f"effgen.attention: expected {name} to be aligned to 4 bytes, got data pointer "
                             f"{d[0]:#x}")
        ds.append(d)
    if ds[0][1] != ds[1][1]:
        raise ValueError(f"effgen.attention: expected cu_seqlens_q and cu_seqlens_k to have the same length "
                         f"(batch + 1), got {ds[0][1][0]} and {ds[1][1][0]}")
    B = ds[0][1][0] - 1
    if max_seqlen_q is None:
        if ds[0][4] is None:
            raise ValueError("effgen.attention: pass max_seqlen_q (the longest query sequence) with cu_seqlens "
                             "that are not torch tensors")
        c = ds[0][5]
        max_seqlen_q = int((c[1:] - c[:-1]).max().item()) if B > 0 else 0  # one device-to-host copy
    else:
        max_seqlen_q = int(max_seqlen_q)
        if max_seqlen_q < 0:
            raise ValueError(f"effgen.attention: expected max_seqlen_q to be >= 0, got {max_seqlen_q}")
    return ds[0], ds[1], B, max_seqlen_q


def _bias_strides(bd, qdtype, B, H, Nq, Nk, varlen):
    """Element strides (batch, head, query, key) of a bias broadcastable to [B, H, Nq, Nk]: a dimension
    of size 1 broadcasts (stride 0); keys must be contiguous. Under varlen the query and key sizes are
    those of the longest sequences, which the host does not know: only the ranks and strides are checked."""
    shape, strides = bd[1], bd[2]
    if bd[3] != qdtype:
        raise TypeError(f"effgen.attention: expected bias to have the dtype of q ({qdtype}), got {bd[3]}")
    if not 1 <= len(shape) <= 4:
        raise ValueError(f"effgen.attention: expected bias to have 1 to 4 dimensions (broadcastable to "
                         f"[B, H, Nq, Nk]), got shape {list(shape)}")
    shape = (1,) * (4 - len(shape)) + tuple(shape)
    strides = (0,) * (4 - len(strides)) + tuple(strides)
    want = (B, H, None if varlen else Nq, None if varlen else Nk)
    out = []
    for dim, (n, st, w) in enumerate(zip(shape, strides, want)):
        if dim == 3:
            if w is not None and n != w:
                raise ValueError(f"effgen.attention: expected the last dimension of bias to be the {w} keys, got "
                                 f"shape {list(bd[1])}")
            if n > 1 and st != 1:
                raise ValueError(f"effgen.attention: expected the key dimension of bias to be contiguous "
                                 f"(stride 1), got strides {tuple(bd[2])}")
            out.append(1)
            continue
        if n == 1:
            out.append(0)
            continue
        if w is not None and n != w:
            raise ValueError(f"effgen.attention: expected bias to broadcast to {[B, H, Nq, Nk]}, got shape "
                             f"{list(bd[1])}")
        if st < 0 or st % 2:
            raise ValueError(f"effgen.attention: expected the batch, head and query strides of bias to be even "
                             f"and >= 0 (keys are read in pairs), got strides {tuple(bd[2])}")
        out.append(st)
    if bd[0] % 4:
        raise ValueError(f"effgen.attention: expected bias to be aligned to 4 bytes, got data pointer {bd[0]:#x}")
    return tuple(out)


def _expressions(score_mod, mask_mod, expr_tensors):
    """The descriptions of the expression tensors (for the device check) and the packed fields:
    ((score_mod address, mask_mod address, table address, count), objects kept alive for the call)."""
    if score_mod is None and mask_mod is None:
        if expr_tensors:
            raise ValueError("effgen.attention: expr_tensors is given without score_mod or mask_mod")
        return [], None
    for text, name in ((score_mod, "score_mod"), (mask_mod, "mask_mod")):
        if text is not None and not isinstance(text, str):
            raise TypeError(f"effgen.attention: expected {name} to be a str (an effgen expression), got "
                            f"{type(text).__name__}")
    items = list((expr_tensors or {}).items())
    if len(items) > 8:
        raise ValueError(f"effgen.attention: at most 8 expr_tensors, got {len(items)}")
    table = (_lib.ExprTensor * max(1, len(items)))()
    keep = [table]
    descs = []
    for i, (nm, x) in enumerate(items):
        if not isinstance(nm, str) or not nm:
            raise TypeError(f"effgen.attention: expected the names of expr_tensors to be non-empty str, got {nm!r}")
        d = _desc(x, f"expr_tensors[{nm!r}]", None)
        code = _EXPR_DTYPES.get(d[3])
        if code is None:
            raise TypeError(f"effgen.attention: expected expr_tensors[{nm!r}] to be float32, float16, bfloat16, "
                            f"int32, uint8 or bool, got {d[3]}")
        if not 1 <= len(d[1]) <= 4:
            raise ValueError(f"effgen.attention: expected expr_tensors[{nm!r}] to have 1 to 4 dimensions, got "
                             f"shape {list(d[1])}")
        if any(st < 0 for st in d[2]):
            raise ValueError(f"effgen.attention: expected the strides of expr_tensors[{nm!r}] to be >= 0, got "
                             f"{tuple(d[2])}")
        b = nm.encode()
        keep.append(b)
        t = table[i]
        t.name, t.data, t.dtype, t.rank = b, d[0], code, len(d[1])
        if all(st == 0 for st in d[2]) and any(n > 1 for n in d[1]):
            # effgen reads all-zero strides as "contiguous": an expanded (broadcast) view must be materialized
            raise ValueError(f"effgen.attention: expr_tensors[{nm!r}] has only zero strides (a broadcast view); "
                             "pass a contiguous tensor")
        for j, (n, st) in enumerate(zip(d[1], d[2])):
            t.sizes[j], t.strides[j] = n, st
        descs.append((nm, d))
    texts = []
    for text in (score_mod, mask_mod):
        if text is None:
            texts.append(0)
        else:
            c = ctypes.c_char_p(text.encode())
            keep.append(c)
            texts.append(ctypes.cast(c, ctypes.c_void_p).value)
    return descs, ((texts[0], texts[1], ctypes.addressof(table) if items else 0, len(items)), keep)


def attention(q, k, v, *, causal=False, scale=None, window=None, bias=None, alibi_slopes=None, softcap=None,
              cu_seqlens_q=None, cu_seqlens_k=None, max_seqlen_q=None, layout="bhnd", return_lse=False,
              causal_align="bottom_right", config=None, out=None, lse=None, stream=None, device=None, dtype=None,
              score_mod=None, mask_mod=None, expr_tensors=None):
    """Exact attention softmax(scale * q @ k^T [masked]) @ v with effgen's generated kernels.

    q: [B, H, Nq, D] (layout "bhnd") or [B, Nq, H, D] ("bnhd"); k and v: the same with Nk keys and
    Hkv heads, Hkv dividing H (GQA/MQA). bf16 or fp16 CUDA tensors (PyTorch, __cuda_array_interface__
    or DLPack), head dim contiguous, other strides multiples of 8 elements, 16-byte aligned.
    Returns the output (and the fp32 [B, H, Nq] log-sum-exp when return_lse). For torch inputs the
    output is allocated like q unless out= is given; other inputs need out= (and lse= for return_lse).
    Variable lengths: cu_seqlens_q / cu_seqlens_k (int32 [batch + 1]) with packed q [total_q, H, D] and
    k, v [total_k, Hkv, D]; the LSE is then [H, total_q]. bias: added to the scaled scores, broadcastable
    to [B, H, Nq, Nk] with contiguous keys. score_mod / mask_mod: effgen expressions over the tensors
    named in expr_tensors. See python/README.md for every argument.
    """
    # Plain torch tensors take _fast (device= and dtype= only matter for other inputs); everything else,
    # and every call _fast is unsure of, takes the general path. _Tensor is None until torch is first
    # seen, so the very first call is a general one.
    T = _Tensor
    if type(q) is T and type(k) is T and type(v) is T and bias is None and cu_seqlens_q is None and \
            cu_seqlens_k is None and max_seqlen_q is None and score_mod is None and mask_mod is None and \
            expr_tensors is None:
        r = _fast(q, k, v, causal, scale, window, alibi_slopes, softcap, layout, return_lse, causal_align, config,
                  out, lse, stream)
        if r is not None:
            dev, sh, out, lse = r
            ctx = _contexts.get(dev) or _lib.context(dev)
            st = _fwd(ctx, _tls.buf[1], sh)
            if st:
                _lib.raise_status(st, "effgen.attention")
            return (out, lse) if return_lse else out
    return _attention_general(q, k, v, causal=causal, scale=scale, window=window, bias=bias,
                              alibi_slopes=alibi_slopes, softcap=softcap, cu_seqlens_q=cu_seqlens_q,
                              cu_seqlens_k=cu_seqlens_k, max_seqlen_q=max_seqlen_q, layout=layout,
                              return_lse=return_lse, causal_align=causal_align, config=config, out=out, lse=lse,
                              stream=stream, device=device, dtype=dtype, score_mod=score_mod, mask_mod=mask_mod,
                              expr_tensors=expr_tensors)


def _attention_general(q, k, v, *, causal=False, scale=None, window=None, bias=None, alibi_slopes=None,
                       softcap=None, cu_seqlens_q=None, cu_seqlens_k=None, max_seqlen_q=None, layout="bhnd",
                       return_lse=False, causal_align="bottom_right", config=None, out=None, lse=None, stream=None,
                       device=None, dtype=None, score_mod=None, mask_mod=None, expr_tensors=None):
    """attention() for every kind of input, with every check and its error message."""
    if layout != "bhnd" and layout != "bnhd":
        raise ValueError(f"effgen.attention: expected layout to be 'bhnd' or 'bnhd', got {layout!r}")
    qd = _desc(q, "q", dtype)
    kd = _desc(k, "k", dtype)
    vd = _desc(v, "v", dtype)
    code = _CODES.get(qd[3])
    if qd[3] != kd[3] or qd[3] != vd[3]:
        raise TypeError(f"effgen.attention: expected q, k and v to have the same dtype, got {qd[3]}, {kd[3]}, "
                        f"{vd[3]}")
    if code is None:
        raise TypeError(f"effgen.attention: expected q, k and v to be bfloat16 or float16, got {qd[3]}")
    varlen = cu_seqlens_q is not None or cu_seqlens_k is not None
    cqd = ckd = None
    if varlen:
        cqd, ckd, B, max_seqlen_q = _varlen(cu_seqlens_q, cu_seqlens_k, max_seqlen_q, dtype)
        Bk = Bv = B
        H, Nq, D, qs = _thd(qd, "q")
        Hk, Nk, Dk, ks = _thd(kd, "k")
        Hv, Nv, Dv, vs = _thd(vd, "v")
    else:
        if max_seqlen_q is not None:
            raise ValueError("effgen.attention: max_seqlen_q is given without cu_seqlens_q / cu_seqlens_k")
        B, H, Nq, D, qs = _bhnd(qd, "q", layout)
        Bk, Hk, Nk, Dk, ks = _bhnd(kd, "k", layout)
        Bv, Hv, Nv, Dv, vs = _bhnd(vd, "v", layout)
    if (Bk, Hk, Nk) != (Bv, Hv, Nv) or Dk != Dv:
        raise ValueError(f"effgen.attention: expected k and v to have the same shape, got {list(kd[1])} and "
                         f"{list(vd[1])}")
    if Bk != B:
        raise ValueError(f"effgen.attention: expected q, k and v to have the same batch size, got {B} and {Bk}")
    if Dk != D:
        raise ValueError(f"effgen.attention: expected q, k and v to have the same head dim, got {D} and {Dk} "
                         "(a value head dim different from the query's is not supported)")
    if Hk < 1 or H % Hk:
        raise ValueError(f"effgen.attention: expected the number of k/v heads to divide the number of q heads "
                         f"(GQA/MQA), got {H} q heads and {Hk} k/v heads")

    # variants
    align = _ALIGN.get(causal_align)
    if align is None:
        raise ValueError(f"effgen.attention: expected causal_align to be 'bottom_right' or 'top_left', got "
                         f"{causal_align!r}")
    if scale is None:
        scale = 0.0
    elif not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"effgen.attention: expected scale to be positive and finite, got {scale}")
    if softcap is None:
        softcap = 0.0
    elif not (softcap >= 0 and math.isfinite(softcap)):
        raise ValueError(f"effgen.attention: expected softcap to be positive and finite (or None), got {softcap}")
    if window is None:
        win = wl = wr = 0
    else:
        try:
            wl, wr = window
            wl, wr = int(wl), int(wr)
        except (TypeError, ValueError):
            raise ValueError(f"effgen.attention: expected window to be a pair (left, right), got {window!r}") from None
        if wl < -1 or wr < -1:
            raise ValueError(f"effgen.attention: expected the window extents to be >= 0 or -1 (unbounded), got "
                             f"{(wl, wr)}")
        win = 1
    ad = None
    if alibi_slopes is not None:
        ad = _desc(alibi_slopes, "alibi_slopes", None)
        if ad[3] not in _F32:
            raise TypeError(f"effgen.attention: expected alibi_slopes to be float32, got {ad[3]}")
        if ad[1] != (H,) or ad[2] != (1,):
            raise ValueError(f"effgen.attention: expected alibi_slopes to be a contiguous vector of {H} slopes "
                             f"(one per q head), got shape {list(ad[1])} and strides {tuple(ad[2])}")
        if ad[0] % 4:
            raise ValueError(f"effgen.attention: expected alibi_slopes to be aligned to 4 bytes, got data pointer "
                             f"{ad[0]:#x}")

    # output and log-sum-exp
    is_torch = qd[4] is not None  # q is (or came through DLPack as) a torch tensor
    if out is None:
        if not is_torch:
            raise ValueError("effgen.attention: q is not a torch.Tensor, so the output is not allocated here: "
                             "pass out= (a CUDA array with q's shape and dtype)")
        out = _torch.empty_like(qd[5])
    od = _desc(out, "out", dtype)
    if od[1] != qd[1]:
        raise ValueError(f"effgen.attention: expected out to have the shape of q {list(qd[1])}, got {list(od[1])}")
    if od[3] != qd[3]:
        raise TypeError(f"effgen.attention: expected out to have the dtype of q ({qd[3]}), got {od[3]}")
    os_ = _thd(od, "out")[3] if varlen else _bhnd(od, "out", layout)[4]
    ld = None
    lshape = (H, Nq) if varlen else (B, H, Nq)  # varlen: [heads][total_q], as FlashAttention's varlen call
    if return_lse:
        if lse is None:
            if not is_torch:
                raise ValueError("effgen.attention: q is not a torch.Tensor, so the log-sum-exp is not allocated "
                                 f"here: pass lse= (a contiguous float32 CUDA array of shape {list(lshape)})")
            lse = _torch.empty(lshape, dtype=_torch.float32, device=qd[5].device)
        ld = _desc(lse, "lse", None)
        if ld[3] not in _F32:
            raise TypeError(f"effgen.attention: expected lse to be float32, got {ld[3]}")
        if ld[1] != lshape or not _contiguous(ld[1], ld[2]):
            raise ValueError(f"effgen.attention: expected lse to be contiguous with shape {list(lshape)}, got shape "
                             f"{list(ld[1])} and strides {tuple(ld[2])}")
        if ld[0] % 4:
            raise ValueError(f"effgen.attention: expected lse to be aligned to 4 bytes, got data pointer "
                             f"{ld[0]:#x}")
    elif lse is not None:
        raise ValueError("effgen.attention: lse= is given but return_lse is False")

    bd = None
    bst = (0, 0, 0, 0)
    if bias is not None:
        bd = _desc(bias, "bias", dtype)
        bst = _bias_strides(bd, qd[3], B, H, Nq, Nk, varlen)
    xd, xbuf = _expressions(score_mod, mask_mod, expr_tensors)

    # devices, after every check that needs no driver
    dev = _resolve_device(qd, "q", device)
    devs = [dev, _resolve_device(kd, "k", device), _resolve_device(vd, "v", device),
            _resolve_device(od, "out", device)]
    names = "q, k, v and out"
    for extra, what in ((cqd, "cu_seqlens_q"), (ckd, "cu_seqlens_k"), (bd, "bias")):
        if extra is not None:
            devs.append(_resolve_device(extra, what, device))
            names += ", " + what
    for nm, d in xd:
        devs.append(_resolve_device(d, f"expr_tensors[{nm!r}]", device))
        names += f", expr_tensors[{nm!r}]"
    if ad is not None:
        devs.append(_resolve_device(ad, "alibi_slopes", device))
        names += ", alibi_slopes"
    if ld is not None:
        devs.append(_resolve_device(ld, "lse", device))
        names += ", lse"
    if devs.count(dev) != len(devs):
        raise ValueError(f"effgen.attention: expected {names} to be on the same device, got "
                         + ", ".join(_devname(d) for d in devs))

    # stream: explicit, else PyTorch's current stream on q's device, else the producer's (CAI v3)
    if stream is not None:
        sh = _stream_handle(stream)
    elif is_torch:
        sh = _raw_stream(dev)
    else:
        sh = qd[6] or 0

    if B == 0 or H == 0 or Nq == 0:
        return (out, lse) if return_lse else out
    if Nk == 0:  # no key at all: every row sees none
        if not is_torch:
            raise ValueError("effgen.attention: k and v have no keys (seqlen 0); only torch inputs handle this")
        out.zero_()
        if return_lse:
            lse.fill_(-math.inf)
        return (out, lse) if return_lse else out

    fwd = _fwd or _bind()
    ctx = _contexts.get(dev) or _lib.context(dev)
    buf = _buf_type()
    _pack(buf, 0, code, B, H, Nq, Nk, D, qd[0], kd[0], vd[0], od[0], ld[0] if ld else 0,
          qs[0], qs[1], qs[2], ks[0], ks[1], ks[2], vs[0], vs[1], vs[2], os_[0], os_[1], os_[2],
          1 if causal else 0, align, scale, _config_ptr(config) if config is not None else 0,
          win, wl, wr, softcap, ad[0] if ad else 0, Hk)
    if varlen or bd is not None:
        _EXT.pack_into(buf, _EXT_OFF, cqd[0] if varlen else 0, ckd[0] if varlen else 0,
                       max_seqlen_q if varlen else 0, bd[0] if bd is not None else 0, *bst)
    if xbuf is not None:
        _EXPR.pack_into(buf, _EXPR_OFF, *xbuf[0])
    st = fwd(ctx, buf, sh)
    if st:
        _lib.raise_status(st, "effgen.attention")
    return (out, lse) if return_lse else out
