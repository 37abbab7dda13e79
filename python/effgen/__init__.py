"""effgen from Python: exact attention with kernels generated for the GPU at hand.

    import effgen
    o = effgen.attention(q, k, v, causal=True)          # torch tensors or __cuda_array_interface__
    import effgen.torch                                   # drop-in scaled_dot_product_attention
    effgen.info()                                         # versions, device, database

The package is pure Python over libeffgen.so (ctypes); see python/README.md for where the library is
looked for and what each call supports.
"""
import ctypes
import os
import shutil
import subprocess

from . import _lib
from ._attention import attention
from ._lib import EffgenError, LibraryNotFoundError

__version__ = "0.1.0"
__all__ = ["attention", "info", "tune", "database_path", "library_path", "features", "EffgenError",
           "LibraryNotFoundError", "__version__"]


def library_path():
    """Path of the libeffgen.so in use; raises LibraryNotFoundError (listing where it looked) if none."""
    return _lib.library_path()


def features():
    """The capabilities effgen.attention can use with the loaded library, e.g. {"window", "alibi", ...}."""
    _lib.lib.load()
    return set(_lib.FEATURES)


def database_path():
    """The kernel database the library reads by default: $EFFGEN_DB, else $XDG_CACHE_HOME/effgen/kernels.db
    (an absolute XDG_CACHE_HOME only, as the XDG spec says), else ~/.cache/effgen/kernels.db. The file may
    not exist yet (`effgen.tune()` or `effgen tune` creates it)."""
    env = os.environ.get("EFFGEN_DB")
    if env:
        return env
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and xdg.startswith("/"):
        return os.path.join(xdg, "effgen", "kernels.db")
    home = os.environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(home, ".cache", "effgen", "kernels.db")


def info(device=0, gpu=True):
    """Versions and the device as a dict: effgen, library (path), features, nvrtc, driver, device,
    database. A part that is unavailable is reported as "unavailable: <reason>" rather than raised, so
    this works on a machine without a GPU or NVRTC. gpu=False leaves the driver and device alone."""
    h = _lib.lib.load().handle
    r = {"effgen": h.effgen_version().decode(), "package": __version__, "library": _lib.lib.path,
         "features": sorted(_lib.FEATURES), "database": database_path()}
    major, minor = ctypes.c_int(), ctypes.c_int()
    st = h.effgen_nvrtc_version(ctypes.byref(major), ctypes.byref(minor))
    r["nvrtc"] = f"{major.value}.{minor.value}" if st == 0 else "unavailable: " + _lib.last_error()
    if not gpu:
        r["driver"] = r["device"] = "not queried (gpu=False)"
        return r
    ver = ctypes.c_int()
    st = h.effgen_driver_version(ctypes.byref(ver))
    if st:
        r["driver"] = r["device"] = "unavailable: " + _lib.last_error()
        return r
    r["driver"] = f"{ver.value // 1000}.{ver.value % 1000 // 10}"
    if not hasattr(h, "effgen_device_query"):
        r["device"] = "unavailable: this libeffgen.so has no effgen_device_query"
        return r
    d = _lib.DeviceInfo()
    try:
        st = h.effgen_device_query(_lib.context(device), ctypes.byref(d))
        err = _lib.last_error() if st else ""
    except EffgenError as e:
        st, err = 1, str(e)
    if st:
        r["device"] = "unavailable: " + err
    else:
        r["device"] = {"ordinal": d.ordinal, "name": d.name.decode(errors="replace"),
                       "compute_capability": f"{d.cc_major}.{d.cc_minor}", "arch": d.arch.decode(),
                       "sm_count": d.sm_count, "l2_bytes": d.l2_bytes, "smem_per_block_optin": d.smem_optin}
    return r


def cli_path():
    """The `effgen` command: $EFFGEN_CLI, else beside the library (a build tree) or in ../bin (an
    install), else on PATH. None when there is none."""
    env = os.environ.get("EFFGEN_CLI")
    if env:
        return env
    try:
        libdir = os.path.dirname(_lib.library_path())
    except EffgenError:
        libdir = None
    if libdir:
        for c in (os.path.join(libdir, "effgen"), os.path.join(os.path.dirname(libdir), "bin", "effgen")):
            if os.path.isfile(c) and os.access(c, os.X_OK):
                return c
    return shutil.which("effgen")


def tune(arch=None, script=None, strategy=None, db=None, jobs=None, reps=None, json=None, offline=False,
         dry_run=False, extra_args=(), check=True, capture_output=False):
    """Tune tile configs into the kernel database by running `effgen tune` (the tuner is part of the
    command, not of the C API): the winners land in `db` (default database_path()), where
    effgen.attention finds them from then on. Returns the subprocess.CompletedProcess; raises
    EffgenError when the command is missing or (check=True) fails."""
    exe = cli_path()
    if not exe:
        raise EffgenError("effgen.tune: the effgen command was not found (beside libeffgen.so, in ../bin, or on "
                          "PATH); set EFFGEN_CLI to its path")
    cmd = [exe, "tune"]
    for flag, val in (("--arch", arch), ("--script", script), ("--strategy", strategy), ("--db", db),
                      ("--jobs", jobs), ("--reps", reps), ("--json", json)):
        if val is not None:
            cmd += [flag, str(val)]
    if offline:
        cmd.append("--offline")
    if dry_run:
        cmd.append("--dry-run")
    cmd += [str(a) for a in extra_args]
    r = subprocess.run(cmd, capture_output=capture_output, text=True)
    if check and r.returncode != 0:
        tail = ("\n" + (r.stderr or "").strip()[-2000:]) if capture_output else ""
        raise EffgenError(f"effgen.tune: {' '.join(cmd)} exited with status {r.returncode}{tail}")
    return r
