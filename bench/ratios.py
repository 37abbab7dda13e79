#!/usr/bin/env python3
"""Ratios of effgen to each peer backend, one line per benchmark row (time ratio, >1 = effgen faster).

compare.py (beside peers.py) names only the fastest peer; this table also gives the ratio to SDPA's
flash backend (FlashAttention-2) and to cuDNN on every row, plus effgen's config and resources.
Take both files from one run on one GPU machine.

Usage: python3 bench/ratios.py EFFGEN.json PEERS.json
"""
import json, sys


def rows(path):
    d = json.load(open(path))
    return d["rows"] if isinstance(d, dict) else d


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ours, peers = rows(sys.argv[1]), rows(sys.argv[2])
    key = lambda r: (r["mode"], r["mask"], r["dtype"], r["B"], r["H"], r["N"], r["D"])
    t = {}
    for r in peers:
        if "ms" in r:
            t.setdefault(key(r), {})[r["impl"]] = r
    print(f"{'mask':7} {'dtype':5} {'D':>4} {'N':>6} {'config':18} {'regs':>4} {'spill':>5} {'effgen':>7} "
          f"{'flash':>6} {'cudnn':>6}  {'x flash':>7} {'x cudnn':>7}")
    worst = {}
    for r in ours:
        if "ms" not in r:
            continue
        p = t.get(key(r), {})
        f, c = p.get("sdpa-flash"), p.get("sdpa-cudnn")
        rf = f["ms"] / r["ms"] if f else float("nan")
        rc = c["ms"] / r["ms"] if c else float("nan")
        for name, v in (("flash", rf), ("cudnn", rc)):
            if v == v:
                worst[name] = min(worst.get(name, v), v)
        print(f"{r['mask']:7} {r['dtype']:5} {r['D']:>4} {r['N']:>6} {r.get('config', ''):18} "
              f"{r.get('registers', 0):>4} {r.get('spill_bytes', 0):>5} {r['tflops']:7.1f} "
              f"{f['tflops'] if f else float('nan'):6.1f} {c['tflops'] if c else float('nan'):6.1f}  "
              f"{rf:6.2f}x {rc:6.2f}x")
    for name, v in worst.items():
        print(f"worst ratio to sdpa-{name}: {v:.2f}x")


if __name__ == "__main__":
    main()
