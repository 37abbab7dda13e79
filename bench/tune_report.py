#!/usr/bin/env python3
"""Tables from `effgen tune --json` summaries.

  tune_report.py quality TUNE.json          strategy quality after an exhaustive tune: per problem the
                                            exhaustive best, the cost model's single pick and the best of
                                            its top 8, each as measured, with the measurements each used
  tune_report.py stability A.json B.json    two tunes of the same set: does the second pick the same
                                            winner, or one within 1% (timed in the first run)?

Both exit 1 when a target of the autotuner is missed (top-8 within 2% of the best on every problem, the
model's pick within 10% on at least 90% of them; a re-tune's winner within 1%), so a script can tell.
"""
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def key(p):
    return (p["spec"], p["bucket"])


def quality(path):
    t = load(path)
    rows = [p for p in t["problems"] if p.get("ms") and p.get("model_pick_ms") and p.get("top8_pick_ms")]
    print(f"# tune quality: {path}")
    print(f"# device {t.get('device')}, arch {t.get('arch')}, {len(rows)} problems measured exhaustively")
    print(f"{'spec':36} {'bucket':>6} {'best config':18} {'best ms':>9} {'model pick':18} {'x best':>7} "
          f"{'top-8 pick':18} {'x best':>7} {'measured':>8}")
    within10 = 0
    worst_top8 = 1.0
    for p in rows:
        best, model, top8 = p["ms"], p["model_pick_ms"], p["top8_pick_ms"]
        rm, rt = model / best, top8 / best
        within10 += rm <= 1.10
        worst_top8 = max(worst_top8, rt)
        print(f"{p['spec']:36} {p['bucket']:6d} {p['config']:18} {best:9.4f} {p['model_pick']:18} {rm:7.3f} "
              f"{p['top8_pick']:18} {rt:7.3f} {p['selected']:8d}")
    n = len(rows)
    if not n:
        print("no exhaustively measured problem in this summary")
        return 1
    frac = within10 / n
    print(f"model's single pick within 10% of the exhaustive best: {within10}/{n} ({100 * frac:.0f}%; target >= 90%)")
    print(f"top-8 pick: worst {100 * (worst_top8 - 1):.2f}% slower than the exhaustive best (target <= 2%)")
    print(f"measurements: exhaustive {sum(p['selected'] for p in rows)}, model pick {n}, top-8 {8 * n}")
    s = t["totals"]["seconds"]
    print(f"tune time: {s['total']:.1f} s wall (NVRTC {s['compile_nvrtc']:.1f} s of thread time, "
          f"{s['compile_wait']:.1f} s waited on; check {s['check']:.1f} s; timing {s['time']:.1f} s)")
    return 0 if frac >= 0.9 and worst_top8 <= 1.02 else 1


def stability(a_path, b_path):
    a = {key(p): p for p in load(a_path)["problems"] if p.get("config")}
    b = {key(p): p for p in load(b_path)["problems"] if p.get("config")}
    common = sorted(set(a) & set(b))
    print(f"# tune stability: {a_path} vs {b_path}, {len(common)} problems in both")
    print(f"{'spec':36} {'bucket':>6} {'first winner':18} {'ms':>9} {'second winner':18} {'ms':>9} {'diff':>7}")
    same = close = 0
    worst = 0.0
    for k in common:
        pa, pb = a[k], b[k]
        # the winners as each run timed them: a different pick must be as fast, within 1%
        d = (pb["ms"] - pa["ms"]) / pa["ms"]
        if pa["config"] == pb["config"]:
            same += 1
            d = 0.0
        elif abs(d) <= 0.01:
            close += 1
        worst = max(worst, abs(d))
        print(f"{k[0]:36} {k[1]:6d} {pa['config']:18} {pa['ms']:9.4f} {pb['config']:18} {pb['ms']:9.4f} "
              f"{100 * d:6.2f}%")
    bad = len(common) - same - close
    print(f"same winner: {same}/{len(common)}; a different winner within 1%: {close}; further apart: {bad} "
          f"(largest difference of the winners' times {100 * worst:.2f}%)")
    return 0 if common and bad == 0 else 1


def main(argv):
    if len(argv) == 3 and argv[1] == "quality":
        return quality(argv[2])
    if len(argv) == 4 and argv[1] == "stability":
        return stability(argv[2], argv[3])
    print(__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
