# best-of-rounds A/B of effgen bench JSON files: ab.py DIR PREFIX_OLD PREFIX_NEW
import json, glob, sys, os
W, po, pn = sys.argv[1:4]
def best(prefix):
    b = {}
    for f in glob.glob(os.path.join(W, prefix + "*.json")):
        try: rows = json.load(open(f))["rows"]
        except Exception: continue
        for r in rows:
            k = (r.get("mask"), r.get("dtype"), r.get("D"), r.get("N"))
            if "tflops" in r and r["tflops"] > b.get(k, (0, None))[0]: b[k] = (r["tflops"], r.get("config"))
    return b
o, n = best(po), best(pn)
import math
lg = []
for k in sorted(set(o) & set(n), key=lambda k: tuple(str(x) for x in k)):
    ratio = n[k][0] / o[k][0]; lg.append(math.log(ratio))
    print(f"{k[0]:>8} {k[1]} D{k[2]:>4} N{k[3]:>6}  old {o[k][0]:7.1f}  new {n[k][0]:7.1f}  {ratio:6.3f}  {n[k][1]}")
if lg: print(f"geomean {math.exp(sum(lg)/len(lg)):.4f} over {len(lg)} rows")
