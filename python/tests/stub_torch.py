"""A stand-in for the few torch attributes effgen.attention reads, so its call path can be checked and
timed without PyTorch or a GPU. install() points effgen._attention at the stub and at a recording C
function; restore() undoes it."""
import ctypes

from effgen import _attention, _lib


class _DType:
    def __init__(self, name):
        self.name = name

    def __str__(self):
        return "torch." + self.name


bfloat16, float16, float32, int32 = _DType("bfloat16"), _DType("float16"), _DType("float32"), _DType("int32")
_SIZE = {bfloat16: 2, float16: 2, float32: 4, int32: 4}


class _Device:
    def __init__(self, type_, index):
        self.type, self.index = type_, index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


class Size(tuple):
    pass


class Tensor:
    """shape, strides in elements, dtype, a data pointer and a device ordinal (-1: CPU)."""
    _next = 0x7f0000000000

    def __init__(self, shape, dtype=bfloat16, strides=None, ptr=None, dev=0):
        self.shape = Size(shape)
        if strides is None:
            strides, acc = [], 1
            for s in reversed(shape):
                strides.append(acc)
                acc *= s
            strides = tuple(reversed(strides))
        self._strides = tuple(strides)
        self.dtype = dtype
        if ptr is None:
            ptr = Tensor._next
            Tensor._next += 1 << 20
        self._ptr, self._dev = ptr, dev

    def data_ptr(self):
        return self._ptr

    def stride(self):
        return self._strides

    def get_device(self):
        return self._dev

    @property
    def is_cuda(self):
        return self._dev >= 0

    @property
    def device(self):
        return _Device("cuda", self._dev) if self._dev >= 0 else _Device("cpu", None)


def empty_like(t):
    return Tensor(tuple(t.shape), t.dtype, t.stride(), dev=t._dev)


def empty(shape, dtype, device):
    return Tensor(shape, dtype, dev=device.index)


class _TorchC:
    @staticmethod
    def _cuda_getCurrentRawStream(dev):
        return 0x5000 + dev


_C = _TorchC()


class Recorder:
    """Stands for effgen_attention_fwd: keeps the bytes of every argument struct it is given."""

    def __init__(self, size):
        self.size = size
        self.calls = []

    def __call__(self, ctx, args, stream):
        addr = args if isinstance(args, int) else ctypes.addressof(args)
        self.calls.append((ctx, ctypes.string_at(addr, self.size), stream))
        return 0


_saved = None


def install():
    """Use the stub as torch inside effgen._attention; returns the Recorder."""
    global _saved
    import sys
    names = ("_torch", "_Tensor", "_tdtype", "_raw_stream", "_bf16", "_f16", "_f32", "_fwd", "_buf_type", "_tls")
    _saved = {n: getattr(_attention, n) for n in names}
    _saved["_ctx"] = dict(_attention._contexts)
    me = sys.modules[__name__]
    size = ctypes.sizeof(_lib._ArgsBase)  # the whole struct: the general path writes past the common prefix
    rec = Recorder(size)
    _attention._torch, _attention._Tensor = me, Tensor
    _attention._tdtype = {bfloat16: "torch.bfloat16", float16: "torch.float16", float32: "torch.float32",
                          int32: "torch.int32"}
    _attention._raw_stream = _C._cuda_getCurrentRawStream
    _attention._bf16, _attention._f16, _attention._f32 = bfloat16, float16, float32
    _attention._fwd = rec
    _attention._buf_type = ctypes.c_char * size
    _attention._tls = __import__("threading").local()
    for d in range(2):
        _attention._contexts.setdefault(d, 0x1000 + d)
    return rec


def restore():
    global _saved
    ctx = _saved.pop("_ctx")
    for n, val in _saved.items():
        setattr(_attention, n, val)
    _attention._contexts.clear()
    _attention._contexts.update(ctx)
    _saved = None
