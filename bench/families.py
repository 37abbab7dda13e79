#!/usr/bin/env python3
"""The two kernel families of a Hopper GPU side by side, one line per benchmark row: the default run
(`effgen bench`, the warpgroup family wherever it implements the spec) and the mma.sync run (`effgen bench
--arch sm_90`), each with its config, registers, shared memory and TFLOP/s, and the speed ratio of the
first to the second (time ratio, > 1 = the first is faster). Take both files from one run on one GPU.

Usage: python3 bench/families.py DEFAULT.json MMA.json
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ratios import rows  # noqa: E402


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    key = lambda r: (r["mode"], r["mask"], r["dtype"], r["B"], r["H"], r["N"], r["D"])
    mma = {key(r): r for r in rows(sys.argv[2]) if "ms" in r}
    print(f"{'mask':7} {'dtype':5} {'D':>4} {'N':>6}  {'config':22} {'regs':>4} {'smem':>7} {'TF/s':>6}  "
          f"{'mma config':18} {'regs':>4} {'smem':>7} {'TF/s':>6}  {'ratio':>6}")
    ratios = []
    for r in rows(sys.argv[1]):
        m = mma.get(key(r))
        if "ms" not in r or m is None:
            continue
        ratio = m["ms"] / r["ms"]
        ratios.append(ratio)
        print(f"{r['mask']:7} {r['dtype']:5} {r['D']:>4} {r['N']:>6}  {r.get('config', ''):22} "
              f"{r.get('registers', 0):>4} {r.get('smem', 0):>7} {r['tflops']:>6.1f}  {m.get('config', ''):18} "
              f"{m.get('registers', 0):>4} {m.get('smem', 0):>7} {m['tflops']:>6.1f}  {ratio:>5.2f}x")
    if not ratios:
        sys.exit("no row in both files")
    print(f"{len(ratios)} rows; ratio {min(ratios):.2f}x to {max(ratios):.2f}x")


if __name__ == "__main__":
    main()
