#!/usr/bin/env python3
"""The performance model against measured runs: every layout this machine can
run, predicted (vitrun --plan --nodes 1 --ranks-per-node R --json) and
measured (vitrun --report), side by side, with each row's error; and
--layout auto's choice against the best layout measured.

    /usr/bin/python3 scripts/predict_check.py [--presets vit-s16,vit-b16]
        [--layouts "1,1,1,8 2,1,1,8 ..."] [--images 96] [--repeats 2]
        [--profile P.json|builtin] [--threads 1] [--out out/predict_check] [--markdown]

A layout is D,P,T,B as for scripts/scaling.py (replicas, stages, TP ranks,
images per micro-batch). For every model and rank count R the layouts use,
one `--layout auto` job of R ranks runs too, and its measured images/s is
set against the fastest measured layout of R ranks (the issue's target:
within 5%). Rounds interleave models and layouts (round 1 of everything,
then round 2) so that a noisy minute on a shared machine spreads over all.

What is compared: measured, the report's images/s over the whole scoring
loop (first micro-batch, pipeline fill and drain included); predicted, the
same run from the model: n micro-batches per replica take (n + P - 1)
periods and the first one's sends between stages, or where the node's
shared cores set the period, the longer of n shared periods and n + P - 1
alone (vr_perf_run_seconds),
the period from the model's steady-state images/s (D x B / period). Error = predicted / measured - 1, per row, from
the median of the rounds. Synthetic input (no decoding).

Writes into --out: runs.csv (every run), check.csv (per model and layout:
measured median, min, max, predicted, error; auto rows with the layout they
chose) and reports/*.json; prints the table (as Markdown with --markdown,
for docs/SCALING.md). Exit status 1 when a row's error exceeds --bound
(default 0.15) or an auto choice is more than --auto-bound (0.05) below the
best; the table is written first.
"""
import argparse
import csv
import json
import math
import os
import shlex
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from scaling import DEFAULT_LAUNCHER, DEFAULT_LAYOUTS, parse_layouts, tag  # noqa: E402


def env():
    return dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def make_model(a, preset, path):
    if not os.path.exists(path):
        subprocess.run([a.python, os.path.join(HERE, "make_model.py"), "--preset", preset,
                        "--classes", "1000", "--seed", "0", path], check=True)


def run(a, model, ranks, layout_args, report):
    """One job of `ranks` ranks; its --report."""
    out = os.path.join(a.out, "scores.h5")
    for f in (out, out + ".part", out + ".journal", report):
        if os.path.exists(f):
            os.remove(f)
    vitrun = [a.vitrun, "--model", model, "--output", out, "--report", report,
              "--threads", str(a.threads), "--quiet", "--synthetic", str(a.images)] + layout_args
    if a.profile:
        vitrun += ["--profile", a.profile] if "auto" in layout_args else []
    cmd = vitrun if ranks == 1 else shlex.split(a.launcher.format(ranks=ranks)) + vitrun
    p = subprocess.run(cmd, capture_output=True, text=True, env=env())
    if p.returncode != 0:
        raise SystemExit(f"predict_check.py: {' '.join(cmd)} failed ({p.returncode}):\n"
                         f"{p.stdout}{p.stderr}")
    with open(report) as f:
        return json.load(f)


def predictions(a, model, ranks):
    """{(dp, pp, tp, batch): steady images/s} of every layout of 1 node x ranks."""
    cmd = [a.vitrun, "--model", model, "--plan", "--nodes", "1", "--ranks-per-node",
           str(ranks), "--threads", str(a.threads), "--json"]
    if a.profile:
        cmd += ["--profile", a.profile]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env())
    if p.returncode != 0:
        raise SystemExit(f"predict_check.py: {' '.join(cmd)} failed:\n{p.stderr}")
    return {(c["dp"], c["pp"], c["tp"], c["batch"]): c for c in json.loads(p.stdout)}


def whole_run(c, lay, images):
    """The model's images/s for a run of `images` (fill and drain included:
    vr_perf_run_seconds, the first micro-batch's sends between stages too)."""
    d, p, _, b = lay
    period = d * b / c["images_per_s"]
    n_mb = math.ceil(images / d / b)
    run = (n_mb + p - 1) * period
    alone = c.get("alone_period_s", 0)
    if 0 < alone < c["period_s"]:  # the node's shared cores set the period
        run = max(n_mb * period, (n_mb + p - 1) * alone)
    return images / (run + c.get("fill_send_s", 0))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", default="vit-s16,vit-b16")
    ap.add_argument("--layouts", default=DEFAULT_LAYOUTS)
    ap.add_argument("--images", type=int, default=96)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads per rank")
    ap.add_argument("--profile", help="the node's profile (default: measure one first, "
                    "mpirun -np 2 vitrun --calibrate --threads T, into OUT/node.json; "
                    "'builtin': vitrun's built-in profile)")
    ap.add_argument("--launcher", default=DEFAULT_LAUNCHER)
    ap.add_argument("--no-auto", action="store_true", help="skip the --layout auto jobs")
    ap.add_argument("--bound", type=float, default=0.15)
    ap.add_argument("--auto-bound", type=float, default=0.05)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "predict_check"))
    ap.add_argument("--vitrun", default=os.path.join(ROOT, "build", "vitrun"))
    ap.add_argument("--python", default=os.environ.get("PYTHON", "/usr/bin/python3"))
    a = ap.parse_args(argv)
    layouts = parse_layouts(a.layouts)
    if a.images < 1 or a.repeats < 1 or a.threads < 1:
        ap.error("--images, --repeats and --threads must be positive")
    if not os.access(a.vitrun, os.X_OK):
        ap.error(f"{a.vitrun} is not an executable: build first")
    os.makedirs(os.path.join(a.out, "reports"), exist_ok=True)
    presets = [p for p in a.presets.split(",") if p]
    models = {}
    for pr in presets:
        models[pr] = os.path.join(a.out, f"{pr}.h5")
        make_model(a, pr, models[pr])
    if not a.profile:  # calibrate, then predict, then measure: as a user would
        a.profile = os.path.join(a.out, "node.json")
        cmd = shlex.split(a.launcher.format(ranks=2)) + [a.vitrun, "--calibrate", a.profile,
                                                         "--threads", str(a.threads)]
        p = subprocess.run(cmd, capture_output=True, text=True, env=env())
        if p.returncode != 0:
            raise SystemExit(f"predict_check.py: {' '.join(cmd)} failed:\n{p.stderr}")
        print(p.stderr.strip().splitlines()[-1], flush=True)
    elif a.profile == "builtin":
        a.profile = None
    rank_counts = sorted({d * p * t for d, p, t, _ in layouts})
    jobs = [(pr, lay) for pr in presets for lay in layouts]
    if not a.no_auto:
        jobs += [(pr, ("auto", r)) for pr in presets for r in rank_counts]

    runs = []
    for rnd in range(1, a.repeats + 1):
        for pr, lay in jobs:
            if lay[0] == "auto":
                name, ranks, args = f"auto{lay[1]}", lay[1], ["--layout", "auto"]
            else:
                d, p, t, b = lay
                name, ranks = tag(lay), d * p * t
                args = ["--dp", str(d), "--pp", str(p), "--tp", str(t), "--batch", str(b)]
            rep = run(a, models[pr], ranks, args, os.path.join(a.out, "reports",
                                                               f"{pr}-{name}-r{rnd}.json"))
            L = rep["layout"]
            runs.append({"model": pr, "job": name, "round": rnd, "ranks": ranks, "dp": L["dp"],
                         "pp": L["pp"], "tp": L["tp"], "batch": L["batch"],
                         "images": rep["images"], "wall_s": rep["wall_s"],
                         "images_per_s": rep["images_per_s"]})
            print(f"round {rnd}/{a.repeats} {pr:>9} {name:>12}: {rep['images_per_s']:8.2f} "
                  f"images/s", flush=True)
    with open(os.path.join(a.out, "runs.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(runs[0]))
        w.writeheader()
        w.writerows(runs)

    rows, bad = [], []
    for pr in presets:
        pred = {r: predictions(a, models[pr], r) for r in rank_counts}
        for name in dict.fromkeys(r["job"] for r in runs if r["model"] == pr):
            rs = [r for r in runs if r["model"] == pr and r["job"] == name]
            v = [r["images_per_s"] for r in rs]
            lay = (rs[0]["dp"], rs[0]["pp"], rs[0]["tp"], rs[0]["batch"])
            if name.startswith("auto") and len({(r["dp"], r["pp"], r["tp"], r["batch"])
                                                for r in rs}) > 1:
                bad.append(f"{pr} {name}: --layout auto chose different layouts in the rounds")
            ranks = rs[0]["ranks"]
            c = pred[ranks].get(lay)
            p_ = whole_run(c, lay, a.images) if c else float("nan")
            med = statistics.median(v)
            rows.append({"model": pr, "job": name, "ranks": ranks, "layout": tag(lay),
                         "measured": med, "min": min(v), "max": max(v), "predicted": p_,
                         "steady_predicted": c["images_per_s"] if c else float("nan"),
                         "bound": c["bound"] if c else "", "error": p_ / med - 1})
    # --layout auto against the best measured layout of as many ranks
    for r in rows:
        if r["job"].startswith("auto"):
            same = [x["measured"] for x in rows if x["model"] == r["model"] and
                    x["ranks"] == r["ranks"] and not x["job"].startswith("auto")]
            r["best_measured"] = max(same) if same else float("nan")
            r["auto_vs_best"] = r["measured"] / r["best_measured"] if same else float("nan")
            if same and r["auto_vs_best"] < 1 - a.auto_bound:
                bad.append(f"{r['model']} {r['job']}: --layout auto's {r['layout']} measured "
                           f"{r['measured']:.2f} images/s, {100 * (1 - r['auto_vs_best']):.1f}% "
                           f"below the best measured ({r['best_measured']:.2f})")
    for r in rows:
        if not abs(r["error"]) <= a.bound:
            bad.append(f"{r['model']} {r['layout']}: predicted {r['predicted']:.2f}, measured "
                       f"{r['measured']:.2f} images/s: error {100 * r['error']:+.1f}%")
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with open(os.path.join(a.out, "check.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)

    if a.markdown:
        print("\n| model | layout (D,P,T,B) | ranks | measured images/s (min–max) | predicted "
              "| error | model's bound |")
        print("|---|---|---|---|---|---|---|")
    else:
        print(f"\n{'model':>9} {'job':>12} {'layout':>12} {'ranks':>5} {'measured':>9} "
              f"{'min':>7} {'max':>7} {'predicted':>9} {'error':>7}  bound")
    for r in rows:
        lay = r["layout"]
        if r["job"].startswith("auto"):
            lay = f"auto: {lay}"
        if a.markdown:
            extra = (f" (auto; best measured {r['best_measured']:.2f}, "
                     f"{100 * (r['auto_vs_best'] - 1):+.1f}%)" if "auto_vs_best" in r else "")
            print(f"| {r['model']} | {lay}{extra} | {r['ranks']} | {r['measured']:.2f} "
                  f"({r['min']:.2f}–{r['max']:.2f}) | {r['predicted']:.2f} | "
                  f"{100 * r['error']:+.1f}% | {r['bound']} |")
        else:
            print(f"{r['model']:>9} {r['job']:>12} {r['layout']:>12} {r['ranks']:>5} "
                  f"{r['measured']:9.2f} {r['min']:7.2f} {r['max']:7.2f} {r['predicted']:9.2f} "
                  f"{100 * r['error']:+6.1f}%  {r['bound']}"
                  + (f"  (best measured of {r['ranks']} ranks {r['best_measured']:.2f}: "
                     f"{100 * (r['auto_vs_best'] - 1):+.1f}%)" if "auto_vs_best" in r else ""))
    errs = [abs(r["error"]) for r in rows if not math.isnan(r["error"])]
    print(f"\n{len(rows)} rows; worst |error| {100 * max(errs):.1f}%, median "
          f"{100 * statistics.median(errs):.1f}% (bound {100 * a.bound:.0f}%)")
    for b in bad:
        print(f"OUT OF BOUND: {b}")
    print(f"CSV in {a.out}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
