#!/usr/bin/env python3
"""Warp-stall samples of one kernel from Nsight Compute's source page: the reasons over the whole kernel,
then the instructions with the most samples and their two main reasons.

  ncu --set full -o REPORT ...; ncu -i REPORT.ncu-rep --page source --print-source sass --csv > K.csv
  python3 bench/ncu_stalls.py K.csv [TOP]
"""
import collections
import csv
import sys


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    top = int(sys.argv[2]) if len(sys.argv) == 3 else 30
    rows = list(csv.reader(open(sys.argv[1])))
    hdr = rows[1]
    ix = {h: i for i, h in enumerate(hdr)}
    reasons = [h for h in hdr if h.startswith("stall_") and "Not Issued" not in h]
    samples = "Warp Stall Sampling (All Samples)"
    total, by_reason, per = 0, collections.Counter(), []
    for r in rows[2:]:
        if len(r) < len(hdr):
            continue
        n = int(r[ix[samples]] or 0)
        total += n
        d = {h: int(r[ix[h]] or 0) for h in reasons}
        by_reason.update(d)
        per.append((n, r[ix["Address"]][-5:], r[ix["Source"]].strip()[:70], d))
    print("total samples", total)
    for h, v in by_reason.most_common(12):
        print(f"  {h:28s} {v:8d} {100 * v / max(total, 1):5.1f}%")
    per.sort(key=lambda x: -x[0])
    for n, addr, src, d in per[:top]:
        main2 = sorted(d.items(), key=lambda x: -x[1])[:2]
        print(f"{n:7d} {100 * n / max(total, 1):5.1f}% {addr} {src:70s} {main2}")


if __name__ == "__main__":
    main()
