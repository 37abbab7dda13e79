#!/usr/bin/env python3
"""Set the Python benchmark (bench_forward.py, impl "effgen-py") beside the command line's (`effgen bench
--json`, impl "effgen") row by row: both TFLOP/s, their ratio, and the command line's own spread
((max - min) / median of its timed launches). Exit status 1 when a ratio falls outside the spread
(at least 2%), i.e. when calling through Python changes what the kernel does.

    python3 python/compare_cli.py EFFGEN_CLI.json BENCH_PY.json
"""
import json
import sys


def rows(path):
    with open(path) as f:
        d = json.load(f)
    return d["rows"] if isinstance(d, dict) else d


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    key = lambda r: (r["mode"], r["mask"], r["dtype"], r["B"], r["H"], r["N"], r["D"])
    cli = {key(r): r for r in rows(argv[1]) if r.get("impl") == "effgen" and "ms" in r}
    py = {key(r): r for r in rows(argv[2]) if r.get("impl") == "effgen-py" and "ms" in r}
    common = sorted(set(cli) & set(py), key=lambda k: (k[6], k[5], k[1]))
    print(f"{'mask':7} {'dtype':5} {'D':>4} {'N':>6} {'cli TF/s':>9} {'py TF/s':>9} {'py/cli':>7} {'cli spread':>10}")
    bad = 0
    for k in common:
        c, p = cli[k], py[k]
        ratio = c["ms"] / p["ms"]  # > 1: the Python row ran faster
        spread = (c["ms_max"] - c["ms_min"]) / c["ms"] if "ms_max" in c else 0.0
        allowed = max(spread, 0.02)
        ok = abs(ratio - 1.0) <= allowed
        bad += not ok
        print(f"{k[1]:7} {k[2]:5} {k[6]:4d} {k[5]:6d} {c['tflops']:9.1f} {p['tflops']:9.1f} {ratio:7.3f} "
              f"{100 * spread:9.1f}%{'' if ok else '  outside'}")
    print(f"{len(common)} rows in both; {bad} outside the command line's spread (at least 2%)")
    return 0 if common and not bad else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
