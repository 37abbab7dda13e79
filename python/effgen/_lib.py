"""Loading libeffgen.so with ctypes, the declarations of the C API, and one context per CUDA device.

The library is found and loaded on first use, never at import, so `import effgen` works everywhere and
a missing library is reported by the call that needs it, with every place that was tried.
"""
import ctypes
import os
import threading

__all__ = ["EffgenError", "LibraryNotFoundError", "lib", "library_path", "context", "Args", "FEATURES"]


class EffgenError(RuntimeError):
    """A call into libeffgen failed; `status` is the C status name (e.g. "EFFGEN_COMPILE")."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class LibraryNotFoundError(EffgenError, OSError):
    """libeffgen.so could not be loaded; the message lists every place that was tried."""


_NAMES = ("libeffgen.so", "libeffgen.so.0")


def _candidates():
    """(path, origin) pairs in search order: $EFFGEN_LIBRARY (a file or a folder; when set, the only
    place tried), else next to the package, the build trees of a source checkout, then the dynamic
    loader's own path (bare names)."""
    env = os.environ.get("EFFGEN_LIBRARY")
    if env:  # an explicit choice: nothing else is tried
        if os.path.isdir(env):
            for n in _NAMES:
                yield os.path.join(env, n), "$EFFGEN_LIBRARY"
        else:
            yield env, "$EFFGEN_LIBRARY"
        return
    here = os.path.dirname(os.path.abspath(__file__))
    for n in _NAMES:
        yield os.path.join(here, n), "next to the package"
    # a source checkout: python/effgen/ sits two levels below the root, where the CMake build trees are
    root = os.path.dirname(os.path.dirname(here))
    for b in ("build", "build-release"):
        for n in _NAMES:
            yield os.path.join(root, b, n), "build tree"
    for n in _NAMES:
        yield n, "loader path"


class _Lib:
    """The loaded library and its function table; `handle` is None until load() succeeds."""

    def __init__(self):
        self.handle = None
        self.path = None
        self.lock = threading.Lock()

    def load(self):
        if self.handle is not None:
            return self
        with self.lock:
            if self.handle is None:
                self._load()
        return self

    def _load(self):
        tried = []
        for path, origin in _candidates():
            if os.sep in path and not os.path.exists(path):
                tried.append(f"{path} ({origin}: no such file)")
                continue
            try:
                h = ctypes.CDLL(path)
            except OSError as e:
                tried.append(f"{path} ({origin}: {e})")
                continue
            _declare(h)
            self.path = _loaded_path(h, path)
            self.handle = h
            return
        raise LibraryNotFoundError(
            "effgen: libeffgen.so not found; build it (cmake --build build) or set EFFGEN_LIBRARY to its path. "
            "Tried: " + "; ".join(tried))


def _loaded_path(h, fallback):
    """The file the loader actually opened (for bare names), via dladdr on one of its symbols."""
    try:
        class DlInfo(ctypes.Structure):
            _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                        ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]
        libdl = ctypes.CDLL(None)
        info = DlInfo()
        addr = ctypes.cast(h.effgen_version, ctypes.c_void_p)
        if libdl.dladdr(addr, ctypes.byref(info)) and info.dli_fname:
            return os.path.abspath(info.dli_fname.decode())
    except (OSError, AttributeError):
        pass
    return os.path.abspath(fallback) if os.sep in fallback else fallback


class Options(ctypes.Structure):
    _fields_ = [("device", ctypes.c_int), ("no_gpu", ctypes.c_int), ("arch", ctypes.c_char_p),
                ("db", ctypes.c_char_p)]


class DeviceInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char * 256), ("ordinal", ctypes.c_int), ("cc_major", ctypes.c_int),
                ("cc_minor", ctypes.c_int), ("sm_count", ctypes.c_int), ("l2_bytes", ctypes.c_int),
                ("smem_optin", ctypes.c_int), ("driver_version", ctypes.c_int), ("arch", ctypes.c_char * 16)]


_i64x3 = ctypes.c_int64 * 3

# effgen_attn_args, field for field as in effgen.h. A capability that adds fields to the C struct adds
# them here (appended, in the same order) and its name to _FIELD_FEATURES below; nothing else in this file
# depends on the layout. A library whose struct is larger gets zero-filled padding (zero leaves every new
# field off, as effgen.h promises); a smaller one is refused when it is loaded.
_ARGS_FIELDS = [
    ("dtype", ctypes.c_int),
    ("batch", ctypes.c_int), ("heads", ctypes.c_int), ("seqlen_q", ctypes.c_int), ("seqlen_k", ctypes.c_int),
    ("head_dim", ctypes.c_int),
    ("q", ctypes.c_void_p), ("k", ctypes.c_void_p), ("v", ctypes.c_void_p), ("o", ctypes.c_void_p),
    ("lse", ctypes.c_void_p),
    ("q_stride", _i64x3), ("k_stride", _i64x3), ("v_stride", _i64x3), ("o_stride", _i64x3),
    ("causal", ctypes.c_int), ("causal_align", ctypes.c_int),
    ("scale", ctypes.c_float),
    ("config", ctypes.c_void_p),  # const char *, written as an address
    ("window", ctypes.c_int), ("window_left", ctypes.c_int), ("window_right", ctypes.c_int),
    ("softcap", ctypes.c_float),
    ("alibi_slopes", ctypes.c_void_p),
    ("kv_heads", ctypes.c_int),
    ("cu_seqlens_q", ctypes.c_void_p), ("cu_seqlens_k", ctypes.c_void_p), ("max_seqlen_q", ctypes.c_int),
    ("bias", ctypes.c_void_p), ("bias_stride", ctypes.c_int64 * 4),
    ("mask", ctypes.c_void_p), ("mask_stride", _i64x3),
    ("bsparse_row_ptr", ctypes.c_void_p), ("bsparse_col_idx", ctypes.c_void_p),
    ("bsparse_row_stride", ctypes.c_int64 * 2), ("bsparse_col_stride", ctypes.c_int64 * 2),
    ("bsparse_block_q", ctypes.c_int), ("bsparse_block_k", ctypes.c_int),
    ("score_mod", ctypes.c_void_p), ("mask_mod", ctypes.c_void_p),  # const char *, written as addresses
    ("expr_tensors", ctypes.c_void_p), ("n_expr_tensors", ctypes.c_int),
]


class ExprTensor(ctypes.Structure):
    """effgen_expr_tensor: a device tensor a user expression reads by name."""
    _fields_ = [("name", ctypes.c_char_p), ("data", ctypes.c_void_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int), ("sizes", ctypes.c_int64 * 4), ("strides", ctypes.c_int64 * 4)]


class _ArgsBase(ctypes.Structure):
    _fields_ = _ARGS_FIELDS


# The capabilities this binding knows how to pass (fields present in _ARGS_FIELDS). FEATURES, filled at
# load time, is the intersection with what the loaded library reports through effgen_features().
_FIELD_FEATURES = ("causal_top_left", "window", "softcap", "alibi", "gqa", "lse", "strides", "varlen", "bias",
                   "score_mod", "mask_mod")
FEATURES = frozenset()
Args = _ArgsBase


def _declare(h):
    """Argument and result types of every C function used, set once so calls convert nothing twice."""
    global Args, FEATURES
    P, I, S = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    sigs = {
        "effgen_version": (S, []),
        "effgen_status_name": (S, [I]),
        "effgen_last_error": (S, []),
        "effgen_options_init": (None, [ctypes.POINTER(Options)]),
        "effgen_open": (I, [ctypes.POINTER(P), ctypes.POINTER(Options)]),
        "effgen_close": (None, [P]),
        "effgen_attn_args_init": (None, [P]),
        "effgen_attention_fwd": (I, [P, P, P]),
        "effgen_describe": (I, [P, P, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]),
        "effgen_nvrtc_version": (I, [ctypes.POINTER(I), ctypes.POINTER(I)]),
        "effgen_driver_version": (I, [ctypes.POINTER(I)]),
    }
    for name, (res, argt) in sigs.items():
        f = getattr(h, name)
        f.restype, f.argtypes = res, argt
    # Newer calls: present in this library or not, the binding works either way.
    optional = {
        "effgen_features": (S, []),
        "effgen_attn_args_size": (ctypes.c_size_t, []),
        "effgen_device_query": (I, [P, ctypes.POINTER(DeviceInfo)]),
    }
    for name, (res, argt) in optional.items():
        f = getattr(h, name, None)
        if f is not None:
            f.restype, f.argtypes = res, argt
    ours = ctypes.sizeof(_ArgsBase)
    theirs = h.effgen_attn_args_size() if hasattr(h, "effgen_attn_args_size") else ours
    if theirs < ours:
        raise EffgenError(f"effgen: the library's effgen_attn_args is {theirs} bytes, smaller than the "
                          f"{ours} this package passes: the library is older than the package; rebuild it")
    if theirs > ours:
        Args = type("Args", (ctypes.Structure,), {"_fields_": _ARGS_FIELDS + [("_tail", ctypes.c_char * (theirs - ours))]})
    else:
        Args = _ArgsBase
    if hasattr(h, "effgen_features"):
        have = set(h.effgen_features().decode().split(","))
    else:  # libraries from before the query existed had exactly these
        have = set(_FIELD_FEATURES)
    FEATURES = frozenset(have & set(_FIELD_FEATURES))


lib = _Lib()


def library_path():
    """The path of the loaded libeffgen.so (loading it if needed)."""
    return lib.load().path


def last_error():
    return lib.handle.effgen_last_error().decode(errors="replace")


def raise_status(st, what):
    h = lib.handle
    name = h.effgen_status_name(st).decode()
    raise EffgenError(f"{what}: {name}: {last_error()}", name)


_contexts = {}
_ctx_lock = threading.Lock()


def context(device):
    """The effgen context of a CUDA device ordinal, opened on first use (thread-safe); a pointer value."""
    c = _contexts.get(device)
    if c is not None:
        return c
    with _ctx_lock:
        c = _contexts.get(device)
        if c is None:
            c = open_context(device)
            _contexts[device] = c
    return c


def open_context(device=0, no_gpu=False, arch=None):
    """Open a new context (the caller closes it with close_context, unless it is kept by context())."""
    h = lib.load().handle
    opt = Options()
    h.effgen_options_init(ctypes.byref(opt))
    opt.device = device
    opt.no_gpu = 1 if no_gpu else 0
    if arch:
        opt.arch = arch.encode()
    out = ctypes.c_void_p()
    st = h.effgen_open(ctypes.byref(out), ctypes.byref(opt))
    if st:
        raise_status(st, f"effgen_open(device={device})")
    return out.value


def close_context(ctx):
    lib.handle.effgen_close(ctx)
