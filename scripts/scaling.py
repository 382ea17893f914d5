#!/usr/bin/env python3
"""Scaling sweep: runs vitrun over layouts (D, P, T, batch, ranks) with
--report, gathers one CSV row per run and draws PNG plots.

    /usr/bin/python3 scripts/scaling.py [--out out/scaling] [--model M.h5 | --preset vit-s16]
        [--layouts "1,1,1,8 1,2,1,8 ..."] [--images N] [--repeats R]
        [--launcher "mpirun -np {ranks} ..."] [--threads 1]
    /usr/bin/python3 scripts/scaling.py --plot-only out/scaling
    /usr/bin/python3 scripts/scaling.py --predict [--profile P.json] [--out DIR]
        [--nodes 1,2,4,...,1024] [--ranks-per-node 2] [--precision fp32|bf16|int8]

--predict measures nothing: it asks the performance model (vitrun --plan
--shape ... --nodes N --json) for ViT-B/16 up to ViT-22B on 1 to 1024 nodes
of a described reference node (docs/scaling/reference_node.json) and writes
predict.csv and predict.png (scripts/scaling_predict.py, docs/SCALING.md).

A layout is D,P,T,B: pipeline replicas, pipeline stages, tensor-parallel
ranks per stage, images per micro-batch; ranks = D*P*T. The rounds run the
layouts in turn (round 1 of every layout, then round 2, ...), so a slow
minute on a shared machine spreads over all of them instead of hitting one.

Writes into --out:
  runs.csv             one row per run: layout, images/s, wall time, and per
                       stage the mean busy fraction and time per category
  summary.csv          per layout: median, min and max images/s over the
                       rounds, speed-up and parallel efficiency against the
                       one-rank run with the same batch
  reports/*.json       vitrun's --report of every run (per-rank timings and
                       the timeline of the first micro-batches)
  throughput.png       images/s against ranks, one line per kind of layout
  efficiency.png       parallel efficiency against ranks
  stage_time.png       where each rank's time went, for every multi-rank layout
  timeline.png         per-rank timeline of one run (--timeline D,P,T,B)

On a cluster, give the launcher for the allocation, for example inside
`salloc -N 4`:  --launcher "srun --mpi=pmix -n {ranks}". {ranks} is replaced
by D*P*T; the launcher must start that many ranks.
"""
import argparse
import csv
import json
import os
import shlex
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

DEFAULT_LAYOUTS = ("1,1,1,8 2,1,1,8 1,2,1,8 1,1,2,8 4,1,1,8 2,2,1,8 2,1,2,8 1,2,2,8 "
                   "1,4,1,8 1,1,4,8 1,1,1,1 1,1,1,32 1,2,2,1 1,2,2,32")
DEFAULT_LAUNCHER = ("mpirun -np {ranks} --oversubscribe --bind-to none "
                    "--mca mpi_yield_when_idle 1")
CATEGORIES = ["gemm_s", "attention_s", "norm_s", "activation_s", "allreduce_s", "send_wait_s",
              "recv_wait_s", "read_s", "write_s", "idle_s"]


def parse_layouts(text):
    out = []
    for item in text.split():
        parts = item.split(",")
        if len(parts) != 4 or not all(p.isdigit() and int(p) > 0 for p in parts):
            raise SystemExit(f"scaling.py: layout '{item}' is not D,P,T,B with positive "
                             f"integers (for example 1,2,2,8)")
        out.append(tuple(int(p) for p in parts))
    if not out:
        raise SystemExit("scaling.py: --layouts is empty")
    return out


def tag(lay):
    d, p, t, b = lay
    return f"d{d}p{p}t{t}b{b}"


def kind(lay):
    """Which kind of parallelism a layout uses, for the plots' lines."""
    d, p, t, _ = lay
    used = [name for name, n in (("dp", d), ("pp", p), ("tp", t)) if n > 1]
    return "+".join(used) if used else "1 rank"


def make_model(a, path):
    if os.path.exists(path):
        return
    cmd = [a.python, os.path.join(HERE, "make_model.py"), "--preset", a.preset, "--classes",
           "1000", "--seed", "0", path]
    subprocess.run(cmd, check=True)


def run_one(a, lay, rnd, model):
    d, p, t, b = lay
    ranks = d * p * t
    report = os.path.join(a.out, "reports", f"{tag(lay)}-r{rnd}.json")
    output = os.path.join(a.out, "scores", f"{tag(lay)}.h5")
    for f in (output, output + ".part", output + ".journal"):
        if os.path.exists(f):
            os.remove(f)
    vitrun = [a.vitrun, "--model", model, "--output", output, "--report", report,
              "--batch", str(b), "--threads", str(a.threads), "--quiet",
              "--dp", str(d), "--pp", str(p), "--tp", str(t)]
    vitrun += ["--input", a.input] if a.input else ["--synthetic", str(a.images)]
    cmd = shlex.split(a.launcher.format(ranks=ranks)) + vitrun
    if ranks == 1 and not a.launch_single:
        cmd = vitrun  # one rank runs without a launcher
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    p_ = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p_.returncode != 0:
        raise SystemExit(f"scaling.py: layout {tag(lay)} failed ({p_.returncode}): "
                         f"{' '.join(cmd)}\n{p_.stdout}{p_.stderr}")
    with open(report) as f:
        return json.load(f)


def row_of(lay, rnd, rep):
    d, p, t, b = lay
    row = {"layout": tag(lay), "kind": kind(lay), "dp": d, "pp": p, "tp": t, "batch": b,
           "ranks": d * p * t, "round": rnd, "images": rep["images"], "wall_s": rep["wall_s"],
           "images_per_s": rep["images_per_s"], "gflop_per_image":
           rep["model"]["gflop_per_image"]}
    for s in range(p):
        ranks = [r for r in rep["ranks"] if r["stage"] == s]
        row[f"stage{s}_busy"] = statistics.mean(r["busy_fraction"] for r in ranks)
    return row


def summarise(rows):
    """Per layout: median/min/max images/s and efficiency against 1 rank, same batch."""
    by = {}
    for r in rows:
        by.setdefault(r["layout"], []).append(r)
    base = {}
    for rs in by.values():
        if rs[0]["ranks"] == 1:
            base[rs[0]["batch"]] = statistics.median(r["images_per_s"] for r in rs)
    out = []
    for name, rs in by.items():
        v = [r["images_per_s"] for r in rs]
        med = statistics.median(v)
        b = base.get(rs[0]["batch"])
        out.append({"layout": name, "kind": rs[0]["kind"], "dp": rs[0]["dp"],
                    "pp": rs[0]["pp"], "tp": rs[0]["tp"], "batch": rs[0]["batch"],
                    "ranks": rs[0]["ranks"], "rounds": len(v), "median_images_per_s": med,
                    "min_images_per_s": min(v), "max_images_per_s": max(v),
                    "speedup": med / b if b else "",
                    "efficiency": med / (b * rs[0]["ranks"]) if b else ""})
    return sorted(out, key=lambda r: (r["batch"], r["ranks"], r["layout"]))


def write_csv(path, rows):
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


def read_csv(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        for k, v in r.items():
            try:
                r[k] = int(v)
            except ValueError:
                try:
                    r[k] = float(v)
                except ValueError:
                    pass
    return rows


def plot(out, summary, timeline_tag):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    batches = sorted({s["batch"] for s in summary})
    # the batch most layouts share gets the lines; others are points
    main_b = max(batches, key=lambda b: sum(s["batch"] == b for s in summary))
    for what, fname, ylabel in (("median_images_per_s", "throughput.png", "images/s"),
                                ("efficiency", "efficiency.png",
                                 "parallel efficiency (speed-up / ranks)")):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        kinds = sorted({s["kind"] for s in summary if s["batch"] == main_b})
        for k in kinds:
            pts = sorted((s for s in summary if s["batch"] == main_b and
                          (s["kind"] == k or s["ranks"] == 1) and s[what] != ""),
                         key=lambda s: s["ranks"])
            if not pts or (k == "1 rank" and len(kinds) > 1):
                continue
            x = [s["ranks"] for s in pts]
            y = [s[what] for s in pts]
            if what == "median_images_per_s":
                lo = [s[what] - s["min_images_per_s"] for s in pts]
                hi = [s["max_images_per_s"] - s[what] for s in pts]
                ax.errorbar(x, y, yerr=[lo, hi], marker="o", capsize=3, label=k)
            else:
                ax.plot(x, y, marker="o", label=k)
        if what == "efficiency":
            ax.axhline(1.0, color="gray", lw=0.8, ls="--")
        ax.set_xlabel("ranks (1 BLAS thread each)")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{ylabel.split(' (')[0]}, batch {main_b} (median, min-max of rounds)")
        ax.set_xticks(sorted({s["ranks"] for s in summary}))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out, fname), dpi=110)
        plt.close(fig)
    # per-rank time split of the first round of every multi-rank layout
    multi = [s for s in summary if s["ranks"] > 1]
    if multi:
        cols = 3
        rows_ = (len(multi) + cols - 1) // cols
        fig, axes = plt.subplots(rows_, cols, figsize=(4.2 * cols, 3.0 * rows_), squeeze=False)
        colors = plt.get_cmap("tab10").colors
        for ax, s in zip(axes.flat, multi):
            with open(os.path.join(out, "reports", f"{s['layout']}-r1.json")) as f:
                rep = json.load(f)
            ranks = rep["ranks"]
            bottom = [0.0] * len(ranks)
            for ci, cat in enumerate(CATEGORIES):
                v = [r[cat] - (r["decode_wait_s"] if cat == "read_s" else 0) for r in ranks]
                ax.bar(range(len(ranks)), v, bottom=bottom, color=colors[ci % 10],
                       label=cat[:-2].replace("_", " "))
                bottom = [b + x for b, x in zip(bottom, v)]
            ax.set_xticks(range(len(ranks)))
            ax.set_xticklabels([f"r{r['rank']}\ns{r['stage']}t{r['tp']}" for r in ranks],
                               fontsize=7)
            ax.set_title(s["layout"], fontsize=9)
            ax.set_ylabel("seconds", fontsize=8)
        for ax in list(axes.flat)[len(multi):]:
            ax.axis("off")
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8)
        fig.suptitle("where each rank's time went (first round; r = rank, s = stage, t = TP)")
        fig.tight_layout(rect=(0, 0.08, 1, 0.96))
        fig.savefig(os.path.join(out, "stage_time.png"), dpi=110)
        plt.close(fig)
    # timeline of one run
    path = os.path.join(out, "reports", f"{timeline_tag}-r1.json")
    if os.path.exists(path):
        with open(path) as f:
            rep = json.load(f)
        ranks = rep["ranks"]
        fig, ax = plt.subplots(figsize=(10, 0.6 * len(ranks) + 1.5))
        phases = (("waiting for input", 0, 1, "#bbbbbb"), ("compute", 1, 2, "#1f77b4"),
                  ("send / write", 2, 3, "#ff7f0e"))
        for y, r in enumerate(ranks):
            for label, i0, i1, color in phases:
                spans = [(ev[i0], ev[i1] - ev[i0]) for ev in r["timeline"]]
                ax.broken_barh(spans, (y - 0.35, 0.7), color=color,
                               label=label if y == 0 else None)
        ax.set_yticks(range(len(ranks)))
        ax.set_yticklabels([f"rank {r['rank']} (stage {r['stage']}, tp {r['tp']})"
                            for r in ranks], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("seconds since the scoring loop began")
        ax.set_title(f"timeline of {timeline_tag}: one bar per micro-batch and phase")
        ax.legend(loc="upper right", fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(out, "timeline.png"), dpi=110)
        plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="output folder (default out/scaling, with --predict "
                    "out/predict)")
    ap.add_argument("--vitrun", default=os.path.join(ROOT, "build", "vitrun"))
    ap.add_argument("--model", help="model to run (default: a random --preset model)")
    ap.add_argument("--preset", default="vit-s16",
                    help="shape of the random model made when --model is not given")
    ap.add_argument("--input", help="images to score (default: --images synthetic ones)")
    ap.add_argument("--images", type=int, default=96)
    ap.add_argument("--layouts", default=DEFAULT_LAYOUTS)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="BLAS threads per rank")
    ap.add_argument("--launcher", default=DEFAULT_LAUNCHER)
    ap.add_argument("--launch-single", action="store_true",
                    help="start one-rank layouts with the launcher too")
    ap.add_argument("--timeline", default="1,2,2,8", help="layout whose timeline is drawn")
    ap.add_argument("--plot-only", metavar="DIR", help="redraw the plots of an earlier sweep")
    ap.add_argument("--python", default=os.environ.get("PYTHON", "/usr/bin/python3"))
    pr = ap.add_argument_group("--predict (the performance model, nothing measured)")
    pr.add_argument("--predict", action="store_true",
                    help="project ViT-B/16 ... ViT-22B on --nodes of the --profile's node")
    pr.add_argument("--profile", default=os.path.join(ROOT, "docs", "scaling",
                                                      "reference_node.json"))
    pr.add_argument("--nodes", default=None, help="node counts (default 1,2,4,...,1024)")
    pr.add_argument("--ranks-per-node", default="2",
                    help="ranks per node (default 2: one per socket of the reference node); "
                    "a list (2,8,24) keeps the faster at each size")
    pr.add_argument("--precision", choices=["fp32", "bf16", "int8"], default="fp32")
    pr.add_argument("--towers", help="presets to project (default all: vit-b16,vit-l14,"
                    "vit-h14,vit-g14,vit-bigg14,vit-22b14)")
    pr.add_argument("--image-kb", type=float, default=110.0,
                    help="JPEG size for the input-bandwidth column (ImageNet-1k's mean)")
    a = ap.parse_args(argv)
    if a.predict:
        import scaling_predict
        a.out = a.out or os.path.join(ROOT, "out", "predict")
        a.nodes = a.nodes or scaling_predict.NODES
        return scaling_predict.main(a)
    a.out = a.out or os.path.join(ROOT, "out", "scaling")
    timeline_tag = tag(parse_layouts(a.timeline)[0])
    if a.plot_only:
        summary = read_csv(os.path.join(a.plot_only, "summary.csv"))
        plot(a.plot_only, summary, timeline_tag)
        print(f"plots redrawn in {a.plot_only}")
        return 0
    layouts = parse_layouts(a.layouts)
    if a.repeats < 1 or a.images < 1 or a.threads < 1:
        ap.error("--repeats, --images and --threads must be positive")
    if not os.access(a.vitrun, os.X_OK):
        ap.error(f"{a.vitrun} is not an executable: build first (scripts/test.sh or cmake)")
    os.makedirs(os.path.join(a.out, "reports"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "scores"), exist_ok=True)
    model = a.model or os.path.join(a.out, f"{a.preset}.h5")
    if not a.model:
        make_model(a, model)
    rows = []
    for rnd in range(1, a.repeats + 1):
        for lay in layouts:
            rep = run_one(a, lay, rnd, model)
            rows.append(row_of(lay, rnd, rep))
            print(f"round {rnd}/{a.repeats} {tag(lay):>12}: {rep['images_per_s']:8.2f} images/s",
                  flush=True)
    write_csv(os.path.join(a.out, "runs.csv"), rows)
    summary = summarise(rows)
    write_csv(os.path.join(a.out, "summary.csv"), summary)
    print(f"\n{'layout':>12} {'ranks':>5} {'median':>9} {'min':>9} {'max':>9} {'speed-up':>8} "
          f"{'effic.':>6}")
    for s in summary:
        su = f"{s['speedup']:.2f}" if s["speedup"] != "" else "-"
        ef = f"{s['efficiency']:.2f}" if s["efficiency"] != "" else "-"
        print(f"{s['layout']:>12} {s['ranks']:>5} {s['median_images_per_s']:9.2f} "
              f"{s['min_images_per_s']:9.2f} {s['max_images_per_s']:9.2f} {su:>8} {ef:>6}")
    plot(a.out, summary, timeline_tag)
    print(f"\nCSV and plots in {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
