#!/usr/bin/env python3
"""The ViT family on vitrun: embedding towers next to the classifier, and the
classic ViT against the vitrun from before the family change.

Builds a BASELINE vitrun once from a git revision before the change (git
archive of --baseline into the cache, cmake Release, the vitrun target only),
makes each engine's model in the cache (seeded random weights) and runs the
engines alternately, R rounds, the order rotating every round, each run a
fresh process on --synthetic N --no-output inputs with --threads T:

  classic-base  the classic ViT-B/16 (make_model.py --preset vit-b16, 1000
                classes) on the baseline binary; the model is written by the
                baseline revision's own make_model.py (format 1, all it reads)
  classic       the same file, the same weights, on the new binary (--vitrun)
  clip-b16      make_model.py --preset vit-b16 --family clip --embed-dim 512:
                the CLIP image tower (ln_pre, quick_gelu, projection)
  dinov2-s14    make_model.py --preset vit-s16 --patch-size 14 --family dinov2
                --image-size 224: ViT-S/14, 4 registers, LayerScale, no head
  siglip-b16    make_model.py --preset vit-b16 --family siglip: no class
                token, tanh-GELU, attention-pool (MAP) head (optional)

and prints per engine the median, min and max images/s and GFLOP/s (the
report's gflop_per_image_run times images/s: the FLOPs the run computes,
the last block on the head's rows only where that is all the head reads),
the per-category milliseconds per image of the report (gemm, attention,
norm, activation, the rest of the wall time), the median CPU seconds of
the whole process (model loading included), and the ratios: of the medians,
the range of the per-round ratios (rounds paired), and of the best runs (on
a shared machine, the least disturbed): classic / classic-base (the issue's
goal: >= 0.98, the family's options cost the classic ViT nothing) and each
tower / classic. Every run goes to a CSV in the cache. images/s is the
report's (the whole scoring loop, first batch included). OPENBLAS_CORETYPE
and the thread variables are taken out of every run's environment. Usage:

    /usr/bin/python3 bench/bench_family.py [--rounds 5] [--threads 2] [--batch 8]
        [--images 48,dinov2-s14:128] [--baseline a6ac3c3] [--vitrun build/vitrun]
        [--engines classic-base,classic,clip-b16,dinov2-s14[,siglip-b16]]
        [--cache out/bench-family] [--csv FILE]
"""
import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench import clean_env, cpu_info, log, run, write_csv  # noqa: E402

PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
B16 = ["--preset", "vit-b16", "--classes", "1000"]
# engine -> (binary: "base" or "new", model name, make_model.py arguments)
ENGINES = {
    "classic-base": ("base", "classic-b16", B16),
    "classic": ("new", "classic-b16", B16),
    "clip-b16": ("new", "clip-b16", B16 + ["--family", "clip", "--embed-dim", "512"]),
    "dinov2-s14": ("new", "dinov2-s14", ["--preset", "vit-s16", "--patch-size", "14",
                                         "--family", "dinov2", "--image-size", "224"]),
    "siglip-b16": ("new", "siglip-b16", B16 + ["--family", "siglip"]),
}
# numerator, denominator, goal
PAIRS = [("classic", "classic-base", 0.98), ("clip-b16", "classic", None),
         ("dinov2-s14", "classic", None), ("siglip-b16", "classic", None)]
CATEGORIES = ("gemm", "attention", "norm", "activation")


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def stamped(path, stamp):
    """True when path exists and path.json holds this stamp."""
    try:
        with open(path + ".json") as f:
            return json.load(f) == stamp and os.path.exists(path)
    except (OSError, ValueError):
        return False


def stamp_it(path, stamp):
    with open(path + ".json", "w") as f:
        json.dump(stamp, f)


# ---- preparation ---------------------------------------------------------------------------

def prepare_baseline(a):
    """vitrun of the baseline revision: sources and build in CACHE/baseline-REV."""
    commit = run(["git", "-C", ROOT, "rev-parse", "--verify", a.baseline + "^{commit}"]).strip()
    top = os.path.join(a.cache, f"baseline-{commit[:7]}")
    src, build = os.path.join(top, "src"), os.path.join(top, "build")
    binary = os.path.join(build, "vitrun")
    stamp = {"commit": commit}
    if not stamped(binary, stamp):
        log(f"building the baseline vitrun of {commit[:7]} in {os.path.relpath(top)}")
        if not os.path.exists(os.path.join(src, "CMakeLists.txt")):
            os.makedirs(src, exist_ok=True)
            tar = subprocess.run(["git", "-C", ROOT, "archive", "--format=tar", commit],
                                 capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", src], input=tar, check=True)
        run(["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=Release",
             "-DVITRUN_BUILD_TESTS=OFF"])
        run(["cmake", "--build", build, "--target", "vitrun", "-j", str(os.cpu_count() or 2)])
        stamp_it(binary, stamp)
    return binary, src, commit


def prepare_model(a, name, args, scripts):
    """CACHE/NAME.h5 from SCRIPTS/make_model.py ARGS, made again when a script changed."""
    path = os.path.join(a.cache, name + ".h5")
    stamp = {"args": args + ["--seed", str(a.seed)],
             "scripts": [sha(os.path.join(scripts, f)) for f in ("make_model.py",
                                                                 "vitrun_model.py")]}
    if not stamped(path, stamp):
        log(f"making {os.path.relpath(path)}: make_model.py {' '.join(stamp['args'])}"
            f" ({os.path.relpath(scripts, a.cache) if scripts.startswith(a.cache) else 'HEAD'})")
        if os.path.exists(path + ".json"):
            os.remove(path + ".json")
        run([PYTHON, os.path.join(scripts, "make_model.py")] + stamp["args"] + [path])
        stamp_it(path, stamp)
    return path


# ---- runs ----------------------------------------------------------------------------------

def run_vitrun(a, engine, images, rep):
    if os.path.exists(rep):
        os.remove(rep)
    which, name, _ = ENGINES[engine]
    cmd = [a.binaries[which], "--model", a.models[name], "--synthetic", str(images),
           "--no-output", "--batch", str(a.batch), "--threads", str(a.threads), "--quiet",
           "--report", rep]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    run(cmd, env=clean_env())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(rep) as f:
        j = json.load(f)
    r0, n = j["ranks"][0], j["images"]
    row = {"images": n, "seconds": j["wall_s"], "images_per_s": j["images_per_s"],
           # CPU seconds of the whole process, model loading included: less
           # moved than the wall time by other work taking the cores
           "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
           "gflop_per_image": j["model"].get("gflop_per_image_run",
                                             j["model"]["gflop_per_image"]),
           "tokens": j["model"]["tokens"]}
    row["gflop_per_s"] = row["gflop_per_image"] * row["images_per_s"]
    busy = 0.0
    for c in CATEGORIES:
        row[f"{c}_ms"] = 1e3 * r0[f"{c}_s"] / n
        busy += r0[f"{c}_s"]
    row["other_ms"] = 1e3 * (r0["wall_s"] - busy) / n
    return row


# ---- summary -------------------------------------------------------------------------------

def summarise(a, rows, engines):
    res = {e: [r for r in rows if r["engine"] == e] for e in engines}
    n = max(len(v) for v in res.values())
    log(f"\nbatch {a.batch}, {a.threads} threads, {n} round(s); images per run: "
        + ", ".join(f"{e} {a.images[e]}" for e in engines))
    log(f"  {'engine':13s} {'tokens':>6s} {'median':>7s} {'min':>7s} {'max':>7s}  images/s   "
        f"GFLOP/s median (min-max)   CPU s median (whole process)")
    summary = []
    for e, v in res.items():
        ips, gfs = [r["images_per_s"] for r in v], [r["gflop_per_s"] for r in v]
        cpu = statistics.median(r["cpu_s"] for r in v)
        log(f"  {e:13s} {v[0]['tokens']:6d} {statistics.median(ips):7.2f} {min(ips):7.2f} "
            f"{max(ips):7.2f}            {statistics.median(gfs):6.1f} ({min(gfs):.1f}-"
            f"{max(gfs):.1f})   {cpu:6.2f}   ({v[0]['gflop_per_image']:.2f} GFLOP/image)")
        summary.append({"engine": e, "median": statistics.median(ips), "min": min(ips),
                        "max": max(ips), "gflop_per_s": statistics.median(gfs), "cpu_s": cpu,
                        "runs": len(v)})
    log("  ms per image, medians (rank 0 of the report):")
    log("  " + f"{'engine':13s}" + "".join(f"{c:>11s}" for c in CATEGORIES + ("other",)))
    for e, v in res.items():
        log("  " + f"{e:13s}" + "".join(f"{statistics.median(r[c + '_ms'] for r in v):11.2f}"
                                        for c in CATEGORIES + ("other",)))
    log("  ratios: of the median images/s; the per-round ratios (rounds paired): median and "
        "range; of the best runs (the least disturbed on a shared machine)")
    for x, y, goal in PAIRS:
        if x in res and y in res:
            xs = {r["round"]: r["images_per_s"] for r in res[x]}
            ys = {r["round"]: r["images_per_s"] for r in res[y]}
            per = [xs[k] / ys[k] for k in xs if k in ys]
            r = statistics.median(xs.values()) / statistics.median(ys.values())
            verdict = (f"   goal >= {goal:.2f}: {'met' if r >= goal else 'NOT met'} by the "
                       f"medians" if goal else "")
            log(f"  {x + ' / ' + y:24s} {r:6.3f}   per round {statistics.median(per):.3f} "
                f"({min(per):.3f}-{max(per):.3f})   best runs "
                f"{max(xs.values()) / max(ys.values()):.3f}{verdict}")
            summary.append({"engine": f"{x}/{y}", "median": r, "min": min(per),
                            "max": max(per), "per_round": statistics.median(per),
                            "runs": len(per)})
    return summary


# ---- main ----------------------------------------------------------------------------------

def parse_images(text, engines, ap):
    given, default = {}, 48
    for part in filter(None, text.split(",")):
        e, _, n = part.rpartition(":")
        if e and e not in ENGINES:
            ap.error(f"--images: unknown engine '{e}'")
        if e:
            given[e] = int(n)
        else:
            default = int(n)
    return {e: given.get(e, default) for e in engines}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vitrun", default=os.path.join(ROOT, "build", "vitrun"),
                    help="the new binary")
    ap.add_argument("--baseline", default="a6ac3c3",
                    help="git revision before the change, built into the cache")
    ap.add_argument("--cache", default=os.path.join(ROOT, "out", "bench-family"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--images", default="48,dinov2-s14:128",
                    help="images per run: N for every engine, ENGINE:N for one")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--engines", default="classic-base,classic,clip-b16,dinov2-s14")
    ap.add_argument("--seed", type=int, default=0, help="model weights")
    ap.add_argument("--csv", help="every run (default CACHE/bench-family.csv; "
                    "CACHE/bench-family-summary.csv)")
    a = ap.parse_args()
    engines = [e.strip() for e in a.engines.split(",") if e.strip()]
    for e in engines:
        if e not in ENGINES:
            ap.error(f"unknown engine '{e}' ({', '.join(ENGINES)})")
    if a.threads < 1 or a.rounds < 1 or a.batch < 1 or not engines:
        ap.error("--threads, --rounds and --batch must be at least 1, --engines not empty")
    a.images = parse_images(a.images, engines, ap)
    for e, n in a.images.items():
        if n < a.batch or n % a.batch:
            ap.error(f"--images for {e} must be a multiple of --batch {a.batch}, got {n}")
    if not os.access(a.vitrun, os.X_OK):
        ap.error(f"{a.vitrun} is not an executable; build vitrun first (scripts/test.sh does)")
    a.cache = os.path.abspath(a.cache)
    os.makedirs(a.cache, exist_ok=True)
    a.csv = a.csv or os.path.join(a.cache, "bench-family.csv")

    a.binaries, a.models, base_scripts = {"new": a.vitrun}, {}, None
    if any(ENGINES[e][0] == "base" for e in engines):
        a.binaries["base"], src, commit = prepare_baseline(a)
        base_scripts = os.path.join(src, "scripts")
    for e in engines:
        _, name, args = ENGINES[e]
        if name not in a.models:
            # the classic model from the baseline's scripts (format 1) when the
            # baseline runs it, so both binaries read one file
            classic = name == "classic-b16" and base_scripts
            a.models[name] = prepare_model(a, name, args, base_scripts if classic
                                           else os.path.join(ROOT, "scripts"))

    model, flags = cpu_info()
    load = os.getloadavg()
    log(f"machine: {model}; {os.cpu_count()} logical CPUs ({len(os.sched_getaffinity(0))} "
        f"usable); load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for k, b in a.binaries.items():
        log(f"  {k}: {os.path.relpath(b)}: " + run([b, "--version"]).split("\n")[0])
    log(f"engines: {', '.join(engines)}; {a.rounds} round(s), order rotating")

    rows, t0 = [], time.time()
    with tempfile.TemporaryDirectory() as tmp:
        rep = os.path.join(tmp, "report.json")
        for r in range(a.rounds):
            k = r % len(engines)
            for e in engines[k:] + engines[:k]:
                res = run_vitrun(a, e, a.images[e], rep)
                rows.append(dict(res, round=r + 1, engine=e, batch=a.batch, threads=a.threads,
                                 load1=round(os.getloadavg()[0], 2)))
                log(f"  round {r + 1} {e:13s} {res['images_per_s']:7.2f} images/s "
                    f"{res['gflop_per_s']:6.1f} GFLOP/s")
    summary = summarise(a, rows, engines)
    columns = ["round", "engine", "batch", "threads", "images", "tokens", "seconds",
               "cpu_s", "images_per_s", "gflop_per_image", "gflop_per_s"]
    columns += [c + "_ms" for c in CATEGORIES + ("other",)] + ["load1"]
    write_csv(a.csv, rows, columns)
    totals = os.path.splitext(a.csv)[0] + "-summary.csv"
    write_csv(totals, summary, ["engine", "median", "min", "max", "per_round", "gflop_per_s",
                                 "cpu_s", "runs"])
    log(f"\n{len(rows)} runs in {time.time() - t0:.0f} s to {a.csv}, medians and ratios to "
        f"{totals}; load average at the end {os.getloadavg()[0]:.2f} (other work on the "
        f"machine lowers and scatters every number above)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
