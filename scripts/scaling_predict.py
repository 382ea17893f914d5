"""scaling.py --predict: the performance model's projection for the large ViTs.

    /usr/bin/python3 scripts/scaling.py --predict [--profile docs/scaling/reference_node.json]
        [--out DIR] [--nodes 1,2,4,...,1024] [--ranks-per-node 2] [--precision fp32]

For each tower (vitrun_model.PRESETS at 224 px, as --shape expresses them:
TOWERS below) and each node count, runs

    vitrun --plan --shape SPEC --nodes N --ranks-per-node R --profile P --json

which lists every dp x pp x tp of the N x R ranks at batches 1 to 64 as the
model predicts it, and keeps two layouts:

  best          the fastest layout that fits in memory: what --plan and
                --layout auto pick (images/s of all replicas together);
  one replica   the fastest fitting layout with dp = 1: how far pipeline and
                tensor parallelism alone carry one copy of the model (a
                single stream of images, or a model too large to replicate).

With several R (--ranks-per-node 8,24) the faster is kept at each size.
Efficiency is images/s per node against the first size at which the tower
fits (1 node for every tower here). A tower stops scaling at the first size
where that efficiency falls below 50% or images/s no longer grows by 5% or
more from the size before, or where no layout of that view exists (dp = 1
needs pp x tp = the ranks, pp up to the layers, tp up to the heads); the
script names the model's bound and layout there.

Writes into --out: predict.csv (one row per tower, view and size) and
predict.png. Everything is a prediction: nothing measured is mixed in.
"""
import csv
import json
import math
import os
import subprocess

import vitrun_model as vm

# (label, preset, --shape items beyond the preset's sizes)
TOWERS = [
    ("ViT-B/16", "vit-b16", "classes=1000"),
    ("ViT-L/14", "vit-l14", "classes=1000"),
    ("ViT-H/14", "vit-h14", "classes=1000"),
    ("ViT-g/14", "vit-g14", "classes=1000"),
    # OpenCLIP ViT-bigG-14's image tower: a projection to the 1280-wide embedding
    ("ViT-bigG/14 (CLIP)", "vit-bigg14", "embed=1280"),
    # Dehghani et al. 2023: parallel block, q/k LayerNorms, no qkv biases; features out
    ("ViT-22B/14", "vit-22b14", "classes=0,block=parallel,qkv_bias=0,qk_norm=1"),
]
NODES = "1,2,4,8,16,32,64,128,256,512,1024"
STOP_EFFICIENCY = 0.5
STOP_GROWTH = 1.05
FIELDS = ["tower", "view", "nodes", "ranks_per_node", "ranks", "dp", "pp", "tp", "batch",
          "threads", "images_per_s", "images_per_s_per_node", "efficiency", "memory_per_rank",
          "bound", "period_s", "stage_compute_s", "stage_tp_s", "stage_send_s", "imbalance",
          "jpeg_gb_per_s"]


def shape_spec(preset, extra, image=224):
    p = vm.PRESETS[preset]
    spec = (f"hidden={p['hidden_size']},layers={p['num_layers']},heads={p['num_heads']},"
            f"mlp={p['mlp_dim']},patch={p['patch_size']},image={image}")
    return spec + ("," + extra if extra else "")


def int_list(text, what):
    try:
        v = [int(x) for x in text.split(",")]
    except ValueError:
        v = []
    if not v or min(v) < 1:
        raise SystemExit(f"scaling.py --predict: {what} '{text}' is not a list of positive "
                         f"integers (e.g. 1,2,4)")
    return v


def plan(a, spec, nodes, rpn):
    cmd = [a.vitrun, "--plan", "--shape", spec, "--nodes", str(nodes), "--ranks-per-node",
           str(rpn), "--profile", a.profile, "--precision", a.precision, "--json"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"scaling.py --predict: {' '.join(cmd)} failed ({p.returncode}):\n"
                         f"{p.stderr.strip()}")
    return json.loads(p.stdout)


def best_of(layouts, dp1):
    """The planner's pick of the fitting layouts (of dp 1 only when dp1), or
    None: as vitrun's search leads, of those within 1% of the fastest the
    fewest ranks per replica, then the rows per micro-batch nearest the
    calibrated 1576, then the least memory (partition/perfmodel.h)."""
    fit = [o for o in layouts if o["fits"] and (not dp1 or o["dp"] == 1)]
    if not fit:
        return None
    top = max(o["images_per_s"] for o in fit)
    return min((o for o in fit if o["images_per_s"] >= 0.99 * top),
               key=lambda o: (o["pp"] * o["tp"], round(abs(math.log(o["rows"] / 1576)), 9),
                              o["memory_per_rank"], -o["images_per_s"]))


def predict_tower(a, label, spec, nodes, rpns):
    """Rows for one tower: per view and size, the best layout over the R tried."""
    rows = []
    for n in nodes:
        runs = {r: plan(a, spec, n, r) for r in rpns}
        for view, dp1 in (("best", False), ("one replica", True)):
            cands = [(best_of(runs[r], dp1), r) for r in rpns]
            cands = [(o, r) for o, r in cands if o]
            row = {"tower": label, "view": view, "nodes": n}
            if cands:
                o, r = max(cands, key=lambda c: (c[0]["images_per_s"], -c[1]))
                row.update(ranks_per_node=r, ranks=n * r, dp=o["dp"], pp=o["pp"], tp=o["tp"],
                           batch=o["batch"], threads=o["threads"],
                           images_per_s=o["images_per_s"],
                           images_per_s_per_node=o["images_per_s"] / n,
                           memory_per_rank=o["memory_per_rank"], bound=o["bound"],
                           jpeg_gb_per_s=o["images_per_s"] * a.image_kb * 1e3 / 1e9,
                           **{k: o[k] for k in ("period_s", "stage_compute_s", "stage_tp_s",
                                                "stage_send_s", "imbalance")})
            else:  # nothing of this view fits, or no such layout
                some = [o for r in rpns for o in runs[r] if not dp1 or o["dp"] == 1]
                row.update(bound="no dp=1 layout" if dp1 and not some else "memory",
                           memory_per_rank=min((o["memory_per_rank"] for o in some),
                                               default=""))
            rows.append(row)
    for view in ("best", "one replica"):
        vr = [r for r in rows if r["view"] == view]
        base = next((r for r in vr if "images_per_s" in r), None)
        for r in vr:
            r["efficiency"] = (r["images_per_s_per_node"] / base["images_per_s_per_node"]
                               if base and "images_per_s" in r else "")
    return rows


def losses(r):
    """Where the period of r's slowest stage goes, in words."""
    p = r["period_s"]
    parts = [f"period {p * 1e3:.4g} ms: compute {100 * r['stage_compute_s'] / p:.0f}%"]
    if r["stage_tp_s"] > 0:
        parts.append(f"TP transfers {100 * r['stage_tp_s'] / p:.0f}%")
    if r["stage_send_s"] > 0:
        parts.append(f"send to the next stage {100 * r['stage_send_s'] / p:.0f}% (overlapped)")
    if r["pp"] > 1:
        parts.append(f"slowest stage {r['imbalance']:.2f}x the mean")
    return ", ".join(parts)


def where_it_stops(rows, view):
    """(first size that fits, the size it stops at or None, why) for one tower's view."""
    vr = [r for r in rows if r["view"] == view]
    fit = [r for r in vr if "images_per_s" in r]
    if not fit:
        return None, None, "fits on none of the sizes tried (" + vr[0]["bound"] + ")"
    start = fit[0]
    prev = None
    for r in vr[vr.index(start):]:
        lay = lambda r: (f"dp {r['dp']} x pp {r['pp']} x tp {r['tp']}, batch {r['batch']}, "
                         f"{r['ranks_per_node']} ranks per node; {losses(r)}")
        if "images_per_s" not in r:
            why = ("no dp = 1 layout of its ranks (pp up to the layers, tp up to the heads)"
                   if r["bound"] == "no dp=1 layout" else "no layout fits in memory")
            return start, r, why
        if r["efficiency"] < STOP_EFFICIENCY:
            return start, r, (f"efficiency {r['efficiency']:.2f} < {STOP_EFFICIENCY}; bound: "
                              f"{r['bound']} ({lay(r)})")
        if prev and r["images_per_s"] < STOP_GROWTH * prev["images_per_s"]:
            return start, r, (f"images/s {r['images_per_s']:.4g} after {prev['images_per_s']:.4g}"
                              f" on {prev['nodes']} nodes; bound: {r['bound']} ({lay(r)})")
        prev = r
    last = fit[-1]
    return start, None, (f"no stop up to {last['nodes']} nodes: efficiency "
                         f"{last['efficiency']:.2f}, bound {last['bound']} (dp {last['dp']} x "
                         f"pp {last['pp']} x tp {last['tp']})")


def plot(out, rows, towers, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2), sharey=True)
    colors = plt.get_cmap("tab10").colors
    for ax, view, what in ((axes[0], "best", "the planner's pick (replicas included)"),
                           (axes[1], "one replica", "one replica (dp = 1): pp x tp only")):
        for i, label in enumerate(towers):
            pts = [r for r in rows if r["tower"] == label and r["view"] == view and
                   "images_per_s" in r]
            if not pts:
                continue
            x = [r["nodes"] for r in pts]
            y = [r["images_per_s"] for r in pts]
            c = colors[i % 10]
            ax.plot(x, y, marker="o", ms=3.5, color=c, label=f"{label} (predicted)")
            # ideal scaling from the first size that fits
            ax.plot([x[0], max(x[-1], x[0] * 2)], [y[0], y[0] * max(x[-1], x[0] * 2) / x[0]],
                    ls=":", lw=1, color=c)
            _, stop, _ = where_it_stops([r for r in rows if r["tower"] == label], view)
            if stop and "images_per_s" in stop:
                ax.plot([stop["nodes"]], [stop["images_per_s"]], marker="x", ms=9, mew=2,
                        color=c)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ns = sorted({r["nodes"] for r in rows})
        ax.set_xticks(ns)
        ax.set_xticklabels([str(n) for n in ns], fontsize=8)
        ax.set_xlabel("nodes")
        ax.set_title(f"predicted: {what}", fontsize=10)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("images/s (predicted by the performance model, not measured)")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(title + "\ndotted: ideal scaling from the first size (on the left the "
                 "curves lie on it); x: where it stops scaling (efficiency < 50% or < 5% more "
                 "images/s)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(os.path.join(out, "predict.png"), dpi=110)
    plt.close(fig)


def fmt(v, spec):
    return format(v, spec) if v != "" else "-"


def main(a):
    if not os.access(a.vitrun, os.X_OK):
        raise SystemExit(f"scaling.py --predict: {a.vitrun} is not an executable: build first")
    if not os.path.exists(a.profile):
        raise SystemExit(f"scaling.py --predict: no profile {a.profile} (write one with "
                         f"vitrun --calibrate, or use docs/scaling/reference_node.json)")
    nodes = int_list(a.nodes, "--nodes")
    rpns = int_list(a.ranks_per_node, "--ranks-per-node")
    towers = [t for t in TOWERS if not a.towers or t[1] in a.towers.split(",")]
    if not towers:
        raise SystemExit(f"scaling.py --predict: --towers '{a.towers}' names none of "
                         f"{', '.join(t[1] for t in TOWERS)}")
    os.makedirs(a.out, exist_ok=True)
    rows = []
    for label, preset, extra in towers:
        spec = shape_spec(preset, extra)
        print(f"{label}: --shape {spec}", flush=True)
        rows += predict_tower(a, label, spec, nodes, rpns)
    with open(os.path.join(a.out, "predict.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{r[k]:.6g}" if isinstance(r.get(k), float) else r.get(k, ""))
                        for k in FIELDS})
    print(f"\npredicted ({a.precision}, {a.profile}; not measured)")
    print(f"{'tower':>19} {'view':>11} {'nodes':>5} {'R':>3} {'dp':>5} {'pp':>3} {'tp':>3} "
          f"{'batch':>5} {'images/s':>11} {'per node':>9} {'effic.':>6} {'GB/rank':>8}  bound")
    for r in rows:
        if r["nodes"] not in (nodes[0], nodes[len(nodes) // 2], nodes[-1]):
            continue
        print(f"{r['tower']:>19} {r['view']:>11} {r['nodes']:>5} {r.get('ranks_per_node', '-'):>3} "
              f"{r.get('dp', '-'):>5} {r.get('pp', '-'):>3} {r.get('tp', '-'):>3} "
              f"{r.get('batch', '-'):>5} {fmt(r.get('images_per_s', ''), '11.2f')} "
              f"{fmt(r.get('images_per_s_per_node', ''), '9.2f')} "
              f"{fmt(r['efficiency'], '6.2f')} "
              f"{fmt(r['memory_per_rank'] / 1e9 if r['memory_per_rank'] != '' else '', '8.1f')}"
              f"  {r['bound']}")
    print("\nwhere each stops scaling (predicted):")
    for label, _, _ in towers:
        tr = [r for r in rows if r["tower"] == label]
        for view in ("best", "one replica"):
            start, stop, why = where_it_stops(tr, view)
            first = f"fits from {start['nodes']} node(s); " if start else ""
            at = f"stops at {stop['nodes']} nodes: " if stop else ""
            print(f"  {label}, {view}: {first}{at}{why}")
        last = [r for r in tr if r["view"] == "best" and "images_per_s" in r][-1:]
        for r in last:
            print(f"  {label}: on {r['nodes']} nodes it reads {r['jpeg_gb_per_s']:.3g} GB/s of "
                  f"JPEGs at {a.image_kb:g} kB each (the file system is not in the model)")
    title = (f"Predicted images/s, {a.precision}, 224 px, reference node "
             f"({os.path.basename(a.profile)}), R = {a.ranks_per_node} ranks per node")
    plot(a.out, rows, [t[0] for t in towers], title)
    print(f"\npredict.csv and predict.png in {a.out}")
    return 0
