"""Tests that need no GPU and no PyTorch: loading the library, info(), the database path, the argument
layout shared with C, and every validation error of effgen.attention, provoked with objects that expose
__cuda_array_interface__ over fake device pointers (each check fails before anything is launched).
Calls that do reach the C library run in a child process whose driver is made unloadable, so a fake
pointer can never reach a real GPU."""
import ctypes
import os
import subprocess
import sys
import textwrap

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PKG_ROOT = os.path.dirname(HERE)
sys.path.insert(0, PKG_ROOT)

import effgen  # noqa: E402
from effgen import _attention, _lib  # noqa: E402


class Fake:
    """A CUDA array as seen through __cuda_array_interface__ v3, over a pointer that is never read."""

    def __init__(self, shape, typestr="<f2", ptr=0x7F0000000000, strides=None, version=3, stream=None, descr=None,
                 mask=None, device=0):
        self.__cuda_array_interface__ = {"shape": tuple(shape), "typestr": typestr, "data": (ptr, False),
                                         "strides": strides, "version": version, "stream": stream, "mask": mask}
        if descr is not None:
            self.__cuda_array_interface__["descr"] = descr
        if device is not None:
            self.device = device


def qkv(B=2, H=4, N=64, D=64, Hk=None, Nk=None, typestr="<f2", **kw):
    Hk = H if Hk is None else Hk
    Nk = N if Nk is None else Nk
    base = 0x7F0000000000
    q = Fake((B, H, N, D), typestr, ptr=base, **kw)
    k = Fake((B, Hk, Nk, D), typestr, ptr=base + 0x1000000, **kw)
    v = Fake((B, Hk, Nk, D), typestr, ptr=base + 0x2000000, **kw)
    o = Fake((B, H, N, D), typestr, ptr=base + 0x3000000, **kw)
    return q, k, v, o


def raises(exc, match, *args, **kw):
    with pytest.raises(exc, match=match):
        effgen.attention(*args, **kw)


# ---- library, info, database ----

def run_child(code, **env):
    e = dict(os.environ)
    e.update(env)
    e["PYTHONPATH"] = PKG_ROOT + os.pathsep + e.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=e, capture_output=True, text=True,
                          timeout=120)


def test_library_found():
    path = effgen.library_path()
    assert os.path.basename(path).startswith("libeffgen.so")
    assert os.path.exists(path)


def test_missing_library_is_reported_at_call_time():
    r = run_child("""
        import effgen, sys
        assert "torch" not in sys.modules, "import effgen must not import torch"
        try:
            effgen.attention(None, None, None)
        except TypeError as e:  # validation first: needs no library
            print("validation:", e)
        try:
            effgen.info()
        except effgen.LibraryNotFoundError as e:
            print("missing:", e)
            sys.exit(3)
        """, EFFGEN_LIBRARY="/nonexistent/libeffgen.so")
    assert r.returncode == 3, r.stdout + r.stderr
    assert "validation: effgen.attention: expected q to be a torch.Tensor" in r.stdout
    assert "missing: effgen: libeffgen.so not found" in r.stdout
    assert "/nonexistent/libeffgen.so ($EFFGEN_LIBRARY: no such file)" in r.stdout


def test_library_folder_in_env():
    r = run_child("import effgen; print(effgen.library_path())",
                  EFFGEN_LIBRARY=os.path.dirname(effgen.library_path()))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().startswith(os.path.dirname(effgen.library_path()))


def test_info_without_gpu():
    r = effgen.info(gpu=False)
    assert r["effgen"] == "0.1.0"
    assert r["library"] == effgen.library_path()
    assert r["device"] == "not queried (gpu=False)"
    assert r["nvrtc"].count(".") == 1 or r["nvrtc"].startswith("unavailable: ")
    assert {"window", "softcap", "alibi", "gqa", "lse"} <= set(r["features"])
    assert r["database"] == effgen.database_path()


def test_info_reports_missing_driver():
    r = run_child("""
        import effgen, json
        print(json.dumps(effgen.info()))
        """, EFFGEN_LIBCUDA="/nonexistent/libcuda.so.1")
    assert r.returncode == 0, r.stderr
    import json
    d = json.loads(r.stdout)
    assert d["driver"].startswith("unavailable: ") and "/nonexistent/libcuda.so.1" in d["driver"]
    assert d["device"].startswith("unavailable: ")


def test_database_path(monkeypatch):
    monkeypatch.setenv("EFFGEN_DB", "/x/k.db")
    assert effgen.database_path() == "/x/k.db"
    monkeypatch.delenv("EFFGEN_DB")
    monkeypatch.setenv("XDG_CACHE_HOME", "/cache")
    assert effgen.database_path() == "/cache/effgen/kernels.db"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", "/home/u")
    assert effgen.database_path() == "/home/u/.cache/effgen/kernels.db"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert effgen.database_path() == "/home/u/.cache/effgen/kernels.db"


def test_tune_dry_run(tmp_path):
    if effgen.cli_path() is None:
        pytest.fail("the effgen command should sit beside the library in a build tree")
    db = tmp_path / "k.db"
    r = effgen.tune(arch="sm_90", dry_run=True, db=str(db), capture_output=True)
    assert "dry run:" in r.stdout
    with pytest.raises(effgen.EffgenError, match="exited with status"):
        effgen.tune(arch="sm_7", dry_run=True, db=str(db), capture_output=True)


def test_args_layout_matches_c():
    """The packed format and the ctypes declaration give every field the same offset, and the size the
    library reports is what the package allocates."""
    _lib.lib.load()
    h = _lib.lib.handle
    assert ctypes.sizeof(_lib.Args) == h.effgen_attn_args_size()
    buf = (ctypes.c_char * ctypes.sizeof(_lib.Args))()
    vals = [1, 2, 3, 4, 5, 64, 0x1000, 0x2000, 0x3000, 0x4000, 0x5000] + list(range(8, 104, 8)) + \
           [1, 1, 0.5, 0x6000, 1, 7, -1, 30.0, 0x7000, 2]
    _attention._FORMAT.pack_into(buf, 0, *vals)
    a = _lib.Args.from_buffer(buf)
    got = [a.dtype, a.batch, a.heads, a.seqlen_q, a.seqlen_k, a.head_dim, a.q, a.k, a.v, a.o, a.lse] + \
          list(a.q_stride) + list(a.k_stride) + list(a.v_stride) + list(a.o_stride) + \
          [a.causal, a.causal_align, a.scale, a.config, a.window, a.window_left, a.window_right, a.softcap,
           a.alibi_slopes, a.kv_heads]
    assert got == vals


# ---- validation ----

def test_dtype_mismatch():
    q, k, v, o = qkv()
    k2 = Fake(k.__cuda_array_interface__["shape"], "<f4")
    raises(TypeError, r"expected q, k and v to have the same dtype, got float16, float32, float16", q, k2, v, out=o)


def test_unsupported_dtype():
    q, k, v, o = qkv(typestr="<f4")
    raises(TypeError, r"expected q, k and v to be bfloat16 or float16, got float32", q, k, v, out=o)


def test_bfloat16_needs_a_name():
    q, k, v, o = qkv(typestr="<V2")
    raises(TypeError, r"pass dtype='bf16' or dtype='fp16'", q, k, v, out=o)
    # named through descr or dtype=, it passes validation up to the missing alibi dtype check below
    s = Fake((4,), "<f2")
    raises(TypeError, r"expected alibi_slopes to be float32, got float16", q, k, v, out=o, dtype="bf16",
           alibi_slopes=s)
    q, k, v, o = qkv(typestr="<V2", descr=[("bfloat16", "<V2")])
    raises(TypeError, r"alibi_slopes to be float32", q, k, v, out=o, alibi_slopes=s)


def test_not_an_array():
    q, k, v, o = qkv()
    raises(TypeError, r"expected k to be a torch.Tensor or an object with __cuda_array_interface__", q, [1], v,
           out=o)


def test_rank_and_layout():
    q, k, v, o = qkv()
    raises(ValueError, r"expected layout to be 'bhnd' or 'bnhd', got 'bshd'", q, k, v, out=o, layout="bshd")
    q3 = Fake((2, 64, 64))
    raises(ValueError, r"expected q to be 4-dimensional \(batch, heads, seqlen, head_dim\), got 3 dimensions",
           q3, k, v, out=o)


def test_head_dim():
    q, k, v, o = qkv(D=12)
    raises(ValueError, r"expected the head dim to be a multiple of 8 from 8 to 256, got 12", q, k, v, out=o)
    q, k, v, o = qkv(D=264)
    raises(ValueError, r"got 264", q, k, v, out=o)
    q, k, v, o = qkv(D=64)
    k2 = Fake((2, 4, 64, 128), ptr=0x7F0001000000)
    v2 = Fake((2, 4, 64, 128), ptr=0x7F0002000000)
    raises(ValueError, r"same head dim, got 64 and 128", q, k2, v2, out=o)


def test_shapes():
    q, k, v, o = qkv()
    v2 = Fake((2, 4, 32, 64), ptr=0x7F0002000000)
    raises(ValueError, r"expected k and v to have the same shape, got \[2, 4, 64, 64\] and \[2, 4, 32, 64\]", q, k,
           v2, out=o)
    q, k, v, o = qkv(B=2)
    k2, v2 = Fake((3, 4, 64, 64), ptr=0x7F0001000000), Fake((3, 4, 64, 64), ptr=0x7F0002000000)
    raises(ValueError, r"same batch size, got 2 and 3", q, k2, v2, out=o)
    q, k, v, o = qkv(H=6, Hk=4)
    raises(ValueError, r"divide the number of q heads \(GQA/MQA\), got 6 q heads and 4 k/v heads", q, k, v, out=o)


def test_head_dim_contiguous():
    q, k, v, o = qkv()
    # head dim strided by 2 (bytes 4)
    bad = Fake((2, 4, 64, 64), strides=(4 * 64 * 128 * 2, 64 * 128 * 2, 128 * 2, 4))
    raises(ValueError, r"expected the last dimension \(head dim\) of q to be contiguous \(stride 1\), got stride 2",
           bad, k, v, out=o)


def test_strides_multiple_of_8():
    q, k, v, o = qkv(D=64)
    # rows of 68 elements: the sequence stride 68 is not a multiple of 8
    bad = Fake((2, 4, 64, 64), strides=(4 * 64 * 68 * 2, 64 * 68 * 2, 68 * 2, 2), ptr=0x7F0001000000)
    raises(ValueError, r"expected the batch, head and sequence strides of k to be positive multiples of 8 elements, "
                       r"got strides \(17408, 4352, 68, 1\)", q, bad, v, out=o)
    # byte strides that are not whole elements
    odd = Fake((2, 4, 64, 64), strides=(4 * 64 * 64 * 2, 64 * 64 * 2, 129, 2))
    raises(ValueError, r"byte strides of q to be multiples of its element size 2", odd, k, v, out=o)
    # a zero stride (broadcast) on a dimension of size > 1
    bc = Fake((2, 4, 64, 64), strides=(0, 64 * 64 * 2, 64 * 2, 2), ptr=0x7F0001000000)
    raises(ValueError, r"strides of k to be positive multiples of 8", q, bc, v, out=o)


def test_size_one_dims_take_any_stride():
    """A dimension of size 1 addresses nothing: its stride is not held against the tensor."""
    q = Fake((1, 1, 64, 64), strides=(6, 2, 128, 2))
    B, H, N, D, st = _attention._bhnd(_attention._desc(q, "q", None), "q", "bhnd")
    assert (B, H, N, D) == (1, 1, 64, 64)
    assert st == (8, 8, 64)


def test_alignment():
    q, k, v, o = qkv()
    mis = Fake((2, 4, 64, 64), ptr=0x7F0000000008)
    raises(ValueError, r"expected q to be aligned to 16 bytes, got data pointer 0x7f0000000008", mis, k, v, out=o)
    s = Fake((4,), "<f4", ptr=0x7F0000000002)
    raises(ValueError, r"expected alibi_slopes to be aligned to 4 bytes", q, k, v, out=o, alibi_slopes=s)


def test_output_rules():
    q, k, v, o = qkv()
    raises(ValueError, r"q is not a torch.Tensor, so the output is not allocated here: pass out=", q, k, v)
    o2 = Fake((2, 4, 32, 64), ptr=0x7F0003000000)
    raises(ValueError, r"expected out to have the shape of q \[2, 4, 64, 64\], got \[2, 4, 32, 64\]", q, k, v, out=o2)
    o3 = Fake((2, 4, 64, 64), "<f4", ptr=0x7F0003000000)
    raises(TypeError, r"expected out to have the dtype of q \(float16\), got float32", q, k, v, out=o3)
    raises(ValueError, r"pass lse= \(a contiguous float32 CUDA array of shape \[2, 4, 64\]\)", q, k, v, out=o,
           return_lse=True)
    l_bad = Fake((2, 4, 32), "<f4", ptr=0x7F0004000000)
    raises(ValueError, r"expected lse to be contiguous with shape \[2, 4, 64\], got shape \[2, 4, 32\]", q, k, v,
           out=o, return_lse=True, lse=l_bad)
    l_ok = Fake((2, 4, 64), "<f4", ptr=0x7F0004000000)
    raises(ValueError, r"lse= is given but return_lse is False", q, k, v, out=o, lse=l_ok)


def test_variant_arguments():
    q, k, v, o = qkv()
    raises(ValueError, r"expected causal_align to be 'bottom_right' or 'top_left', got 'left'", q, k, v, out=o,
           causal=True, causal_align="left")
    raises(ValueError, r"expected scale to be positive and finite, got -1.0", q, k, v, out=o, scale=-1.0)
    raises(ValueError, r"expected softcap to be positive and finite \(or None\), got -5", q, k, v, out=o, softcap=-5)
    raises(ValueError, r"expected window to be a pair \(left, right\), got 5", q, k, v, out=o, window=5)
    raises(ValueError, r"window extents to be >= 0 or -1 \(unbounded\), got \(-2, 0\)", q, k, v, out=o,
           window=(-2, 0))
    s = Fake((3,), "<f4", ptr=0x7F0005000000)
    raises(ValueError, r"expected alibi_slopes to be a contiguous vector of 4 slopes \(one per q head\), got shape "
                       r"\[3\]", q, k, v, out=o, alibi_slopes=s)
    raises(TypeError, r"expected config to be a str", q, k, v, out=o, config=7)


def test_bias_varlen_and_expression_errors():
    q, k, v, o = qkv()
    bad_bias = [
        (TypeError, r"expected bias to have the dtype of q \(float16\), got float32", Fake((64, 64), "<f4")),
        (ValueError, r"expected bias to have 1 to 4 dimensions", Fake((1, 1, 2, 4, 64, 64))),
        (ValueError, r"expected the last dimension of bias to be the 64 keys, got shape \[64, 32\]", Fake((64, 32))),
        (ValueError, r"expected the key dimension of bias to be contiguous", Fake((64, 64), strides=(256, 4))),  # CAI strides in bytes
        (ValueError, r"expected bias to broadcast to \[2, 4, 64, 64\], got shape \[3, 4, 64, 64\]",
         Fake((3, 4, 64, 64))),
        (ValueError, r"batch, head and query strides of bias to be even", Fake((64, 64), strides=(130, 2))),
        (ValueError, r"expected bias to be aligned to 4 bytes", Fake((64, 64), ptr=0x7F0000000002)),
    ]
    for exc, match, b in bad_bias:
        raises(exc, match, q, k, v, out=o, bias=b)
    base = 0x7F0000000000
    tq = Fake((100, 4, 64), ptr=base)
    tk = Fake((120, 2, 64), ptr=base + 0x1000000)
    to = Fake((100, 4, 64), ptr=base + 0x3000000)
    cq = Fake((3,), "<i4", ptr=base + 0x4000000)
    ck = Fake((3,), "<i4", ptr=base + 0x5000000)
    raises(ValueError, r"variable lengths need both cu_seqlens_q and cu_seqlens_k", tq, tk, tk, out=to, cu_seqlens_q=cq)
    raises(TypeError, r"expected cu_seqlens_k to be int32, got float32", tq, tk, tk, out=to, cu_seqlens_q=cq,
           cu_seqlens_k=Fake((3,), "<f4"), max_seqlen_q=50)
    raises(ValueError, r"cu_seqlens_q and cu_seqlens_k to have the same length \(batch \+ 1\), got 3 and 4", tq, tk,
           tk, out=to, cu_seqlens_q=cq, cu_seqlens_k=Fake((4,), "<i4"), max_seqlen_q=50)
    raises(ValueError, r"pass max_seqlen_q", tq, tk, tk, out=to, cu_seqlens_q=cq, cu_seqlens_k=ck)
    raises(ValueError, r"with cu_seqlens, expected q to be 3-dimensional", q, k, v, out=o, cu_seqlens_q=cq,
           cu_seqlens_k=ck, max_seqlen_q=50)
    raises(ValueError, r"max_seqlen_q is given without cu_seqlens", q, k, v, out=o, max_seqlen_q=50)
    raises(ValueError, r"expected cu_seqlens_q to be aligned to 4 bytes", tq, tk, tk, out=to,
           cu_seqlens_q=Fake((3,), "<i4", ptr=base + 2), cu_seqlens_k=ck, max_seqlen_q=50)
    raises(ValueError, r"expected lse to be contiguous with shape \[4, 100\]", tq, tk, tk, out=to, cu_seqlens_q=cq,
           cu_seqlens_k=ck, max_seqlen_q=50, return_lse=True, lse=Fake((2, 4, 50), "<f4"))
    raises(ValueError, r"expr_tensors is given without score_mod or mask_mod", q, k, v, out=o,
           expr_tensors={"t": Fake((4,), "<f4")})
    raises(TypeError, r"expected score_mod to be a str", q, k, v, out=o, score_mod=3)
    raises(TypeError, r"expected expr_tensors\['t'\] to be float32, float16, bfloat16, int32, uint8 or bool, got "
                      r"float64", q, k, v, out=o, score_mod="score + t[h]", expr_tensors={"t": Fake((4,), "<f8")})
    raises(ValueError, r"expr_tensors\['t'\] has only zero strides", q, k, v, out=o, mask_mod="t[q] > 0",
           expr_tensors={"t": Fake((64,), "<i4", strides=(0,))})


def test_bias_varlen_and_expressions_reach_the_struct(stub):
    st, rec = stub
    T = st.Tensor
    A = _lib._ArgsBase

    def call(*a, **kw):
        rec.calls.clear()
        effgen.attention(*a, **kw)
        assert len(rec.calls) == 1
        return A.from_buffer_copy(rec.calls[0][1][:ctypes.sizeof(A)])

    q, k, v, o = (T((2, 4, 64, 64)) for _ in range(4))
    a = call(q, k, v, out=o, bias=T((1, 4, 64, 64)))
    assert a.bias != 0 and tuple(a.bias_stride) == (0, 4096, 64, 1)
    a = call(q, k, v, out=o, bias=T((64, 64)), causal=True)
    assert tuple(a.bias_stride) == (0, 0, 64, 1) and a.causal == 1 and not a.cu_seqlens_q
    a = call(q, k, v, out=o, bias=T((2, 1, 1, 64)))  # one row of bias per batch entry, shared by the queries
    assert tuple(a.bias_stride) == (64, 0, 0, 1)
    tq, tk, tv, to = T((100, 4, 64)), T((120, 2, 64)), T((120, 2, 64)), T((100, 4, 64))
    cq, ck = T((3,), st.int32), T((3,), st.int32)
    a = call(tq, tk, tv, out=to, cu_seqlens_q=cq, cu_seqlens_k=ck, max_seqlen_q=60, causal=True,
             lse=T((4, 100), st.float32), return_lse=True)
    assert (a.batch, a.heads, a.seqlen_q, a.seqlen_k, a.kv_heads, a.max_seqlen_q) == (2, 4, 100, 120, 2, 60)
    assert tuple(a.q_stride) == (0, 64, 256) and tuple(a.k_stride) == (0, 64, 128)
    assert a.cu_seqlens_q == cq.data_ptr() and a.cu_seqlens_k == ck.data_ptr() and a.lse != 0
    a = call(q, k, v, out=o, score_mod="score + t[h]", expr_tensors={"t": T((4,), st.float32)})
    assert a.score_mod != 0 and not a.mask_mod and a.expr_tensors and a.n_expr_tensors == 1
    a = call(q, k, v, out=o, mask_mod="q >= k")
    assert not a.score_mod and a.mask_mod and not a.expr_tensors and a.n_expr_tensors == 0


def test_masked_array():
    q, k, v, o = qkv()
    m = Fake((2, 4, 64, 64), mask=object())
    raises(ValueError, r"q is a masked array", m, k, v, out=o)


def test_devices_differ():
    q, k, v, o = qkv()
    v1 = Fake((2, 4, 64, 64), ptr=0x7F0002000000, device=1)
    raises(ValueError, r"expected q, k, v and out to be on the same device, got cuda:0, cuda:0, cuda:1, cuda:0", q,
           k, v1, out=o)


def test_bnhd_layout_is_read_as_such():
    # [B, N, H, D]: q with 8 positions of 6 heads, k/v with 16 positions of 3 heads: valid as bnhd (GQA 6/3);
    # read as bhnd the same shapes give 8 q heads and 16 k/v heads
    q = Fake((2, 8, 6, 64))
    k = Fake((2, 16, 3, 64), ptr=0x7F0001000000)
    v = Fake((2, 16, 3, 64), ptr=0x7F0002000000)
    raises(ValueError, r"got 8 q heads and 16 k/v heads", q, k, v, out=q, layout="bhnd")
    # as bnhd every shape check passes, so the first error is the bad window
    raises(ValueError, r"window to be a pair", q, k, v, out=q, layout="bnhd", window=(1, 1, 1))
    d = _attention._desc(q, "q", None)
    assert _attention._bhnd(d, "q", "bnhd") == (2, 6, 8, 64, (8 * 6 * 64, 64, 6 * 64))


# ---- errors from the C library, in a child process that cannot load a driver ----

C_CALL = """
    import sys
    sys.path.insert(0, {here!r})
    from test_cpu import qkv
    import effgen
    q, k, v, o = qkv()
    try:
        effgen.attention(q, k, v, out=o, causal=True, **{kw})
    except effgen.EffgenError as e:
        print(e.status, e)
        sys.exit(3)
"""


def test_c_library_rejects_bad_config():
    r = run_child(C_CALL.format(here=HERE, kw='{"config": "bm7.bn64.w4.s2"}'),
                  EFFGEN_LIBCUDA="/nonexistent/libcuda.so.1")
    assert r.returncode == 3, r.stdout + r.stderr
    assert r.stdout.startswith("EFFGEN_INVALID_ARGUMENT effgen.attention: EFFGEN_INVALID_ARGUMENT: config "
                               "bm7.bn64.w4.s2: block_m=7"), r.stdout


def test_c_library_reports_missing_driver():
    r = run_child(C_CALL.format(here=HERE, kw="{}"), EFFGEN_LIBCUDA="/nonexistent/libcuda.so.1")
    assert r.returncode == 3, r.stdout + r.stderr
    assert r.stdout.startswith("EFFGEN_DRIVER_UNAVAILABLE"), r.stdout
    assert "/nonexistent/libcuda.so.1" in r.stdout


# ---- the fast path for torch tensors, against the general path (a stub stands in for torch) ----

@pytest.fixture
def stub():
    sys.path.insert(0, HERE)
    import stub_torch
    rec = stub_torch.install()
    try:
        yield stub_torch, rec
    finally:
        stub_torch.restore()


def _both(st, rec, make, **kw):
    """Call effgen.attention (fast path when it applies) and the general path on the same inputs; return
    (fast result or exception, general result or exception, whether the general path served the first call)."""
    general = _attention._attention_general
    served = []

    def spy(*a, **k):
        served.append(1)
        return general(*a, **k)

    res = []
    for fn in (effgen.attention, general):
        q, k, v, extra = make(st)
        rec.calls.clear()
        _attention._attention_general = spy if fn is effgen.attention else general
        try:
            r = fn(q, k, v, **extra, **kw)
            res.append(("ok", rec.calls[:], type(r)))
        except Exception as e:  # noqa: BLE001  compared between the paths
            res.append((type(e), str(e)))
        finally:
            _attention._attention_general = general
    return res[0], res[1], bool(served)


def _plain(st, shape=(2, 4, 64, 64), kshape=None, dtype=None, layout_strides=None, **extra):
    dtype = dtype or st.bfloat16
    kshape = kshape or shape
    q = st.Tensor(shape, dtype, layout_strides, ptr=0x7f0000000000)
    k = st.Tensor(kshape, dtype, ptr=0x7f0001000000)
    v = st.Tensor(kshape, dtype, ptr=0x7f0002000000)
    ex = dict(out=st.Tensor(shape, dtype, layout_strides, ptr=0x7f0003000000))
    ex.update(extra)
    return q, k, v, ex


def test_fast_path_packs_what_the_general_path_packs(stub):
    st, rec = stub
    good = [
        (lambda s: _plain(s), {}),
        (lambda s: _plain(s, dtype=s.float16), dict(causal=True, causal_align="top_left", scale=0.125)),
        (lambda s: _plain(s, kshape=(2, 2, 96, 64)), dict(window=(16, 0), softcap=30.0, config="bm64.bn64.w4.s2")),
        (lambda s: _plain(s, shape=(1, 8, 32, 128), alibi_slopes=s.Tensor((8,), s.float32, ptr=0x7f0004000000)),
         dict(causal=True)),
        (lambda s: _plain(s, shape=(1, 32, 8, 64), lse=s.Tensor((1, 8, 32), s.float32, ptr=0x7f0005000000)),
         dict(layout="bnhd", return_lse=True, stream=0x1234)),
        (lambda s: _plain(s, shape=(2, 4, 64, 64), layout_strides=(4 * 64 * 72, 64 * 72, 72, 1)), {}),
        (lambda s: _plain(s, shape=(1, 1, 1, 64), layout_strides=(3, 3, 3, 1)), {}),
    ]
    for make, kw in good:
        f, g, fell_back = _both(st, rec, make, **kw)
        assert f[0] == "ok" and f == g, (kw, f, g)
        assert not fell_back, f"the fast path should serve {kw}"
    # allocation of out (and lse) by the fast path
    q, k, v = (st.Tensor((1, 2, 16, 64)) for _ in range(3))
    o, l = effgen.attention(q, k, v, return_lse=True)
    assert o.shape == q.shape and o.dtype is st.bfloat16 and l.shape == (1, 2, 16) and l.dtype is st.float32


def test_fast_path_errors_are_the_general_ones(stub):
    st, rec = stub
    T, bf, f32 = st.Tensor, st.bfloat16, st.float32
    bad = [
        (lambda s: _plain(s, dtype=f32), {}),
        (lambda s: (T((2, 4, 64, 64)), T((2, 4, 64, 64), s.float16), T((2, 4, 64, 64)), {}), {}),
        (lambda s: (T((2, 4, 64, 64), dev=-1), T((2, 4, 64, 64)), T((2, 4, 64, 64)), {}), {}),
        (lambda s: (T((2, 4, 64, 64)), T((2, 4, 64, 64), dev=1), T((2, 4, 64, 64)), {}), {}),
        (lambda s: _plain(s, shape=(2, 4, 64, 12)), {}),
        (lambda s: _plain(s, shape=(4, 64, 64)), {}),
        (lambda s: _plain(s, layout_strides=(4 * 64 * 68, 64 * 68, 68, 1)), {}),
        (lambda s: _plain(s, layout_strides=(4 * 64 * 128, 64 * 128, 128, 2)), {}),
        (lambda s: _plain(s, kshape=(2, 3, 64, 64)), {}),
        (lambda s: _plain(s, kshape=(1, 4, 64, 64)), {}),
        (lambda s: (T((2, 4, 64, 64), ptr=0x7f0000000008), T((2, 4, 64, 64)), T((2, 4, 64, 64)), {}), {}),
        (lambda s: _plain(s, out=T((2, 4, 64, 64), s.float16)), {}),
        (lambda s: _plain(s, out=T((2, 4, 63, 64))), {}),
        (lambda s: _plain(s, out=T((2, 4, 64, 64), dev=1)), {}),
        (lambda s: _plain(s, alibi_slopes=T((4,), bf)), {}),
        (lambda s: _plain(s, alibi_slopes=T((3,), f32)), {}),
        (lambda s: _plain(s, alibi_slopes=T((4,), f32, strides=(2,))), {}),
        (lambda s: _plain(s, lse=T((2, 4, 64), bf)), dict(return_lse=True)),
        (lambda s: _plain(s, lse=T((2, 4, 64), f32, strides=(512, 1, 4))), dict(return_lse=True)),
        (lambda s: _plain(s, lse=T((2, 4, 64), f32)), {}),
        (lambda s: _plain(s), dict(layout="nhd")),
        (lambda s: _plain(s), dict(causal_align="middle")),
        (lambda s: _plain(s), dict(scale=-1.0)),
        (lambda s: _plain(s), dict(scale=float("inf"))),
        (lambda s: _plain(s), dict(softcap=float("nan"))),
        (lambda s: _plain(s), dict(window=(3,))),
        (lambda s: _plain(s), dict(window=(-2, 0))),
        (lambda s: _plain(s), dict(config=7)),
        (lambda s: _plain(s), dict(stream=object())),
        (lambda s: _plain(s), dict(bias=object())),
        (lambda s: _plain(s), dict(cu_seqlens_q=object())),
    ]
    for make, kw in bad:
        f, g, _ = _both(st, rec, make, **kw)
        assert f[0] != "ok" and f == g, (kw, f, g)
    # empty problems are the general path's
    f, g, fell_back = _both(st, rec, lambda s: _plain(s, shape=(2, 0, 64, 64)))
    assert f == g and fell_back
