#!/usr/bin/env python3
"""Webdataset tar shards as vitrun's input (issue 18): the end-to-end rate
against synthetic input on the same model, what decoding the shards costs,
and peak memory against the number of shards.

1. speed: one ViT-B/16 at 224 px (make_model.py --preset vit-b16, 1000
   classes, seeded random weights) scoring S shards of P real photographs
   each, against --synthetic S*P on the same model, in the same run. The
   photographs are Debian's sample photos (tests/testlib.py's PHOTOS:
   matplotlib's grace_hopper.jpg, sklearn's china.jpg and flower.jpg), each
   image a seeded random crop resized to a web size (longest side 300-600 px,
   aspect 0.6-1.6) and re-encoded (JPEG quality 75-95), written with Python's
   tarfile in the webdataset layout (KEY.cls, KEY.jpg, KEY.json, the members
   of a key adjacent). The engines run alternately, R rounds, the order
   rotating every round, each a fresh process with the same --batch and
   --threads on 1 rank:

     synthetic     --synthetic N --no-output
     tar-out       --input 'DIR/{00000..000SS}.tar' --output OUT/ (a fresh
                   folder every run; its manifest is checked: S shards, N rows,
                   none failed), --decoders 1 (vitrun's default)
     tar-out-d2    as tar-out with --decoders 2
     tar-noout     the shards with --no-output (optional)
     tar-out-d0    as tar-out with --decoders 0, decoding inline (optional)

   Two rates per run: the report's images/s (vitrun's own, what its summary
   line prints: the scoring loop, from after the model load, the output
   folder's preparation and the buffers' allocation to the last micro-batch)
   and the whole command's (images / wall time of the process, model loading
   and the folder's setup included). It prints per engine the median, min and
   max of both, the ratios to synthetic (of the medians; the median and range
   of the per-round ratios: on a shared machine only runs side by side mean
   anything; of the best runs, the least disturbed; and over the steady
   rounds, those whose runs all have a GEMM time per image within 10% of the
   best run's), the process's CPU milliseconds per image beyond synthetic's
   (per round), and from the report (rank 0) the seconds the loop spent
   getting its input (read_s: tar members read on the loop's thread, decoded
   pixels waited for, normalisation), waiting for decoded pixels
   (decode_wait_s) and writing (write_s), its busy fraction, the GEMM
   milliseconds per image (how much other work slowed the run), and the
   process's CPU seconds. The issue's target: tar-out /
   synthetic >= 0.97 (the per-round median of the loop rates).

2. decode: what the shards cost when no compute hides it: the same shards
   and preprocessing (224 px, the same preset) on a model with next to no
   compute (width 64, 1 layer): synthetic, tar-out-d0 and tar-out, 3 rounds;
   milliseconds per image in the loop, read_s, decode_wait_s, write_s, and
   the process's CPU beyond synthetic's (the decoding's, which a decoding
   thread takes from the compute threads when the cores are busy).

3. rss: peak RSS (wait4's ru_maxrss of the vitrun process) scoring 100,
   1,000 and 10,000 tiny shards (one small JPEG each, 40-64 px) with a small
   model (32 px, patch 8, width 64, 3 layers) into an output folder, the
   shards named by a brace pattern and by a list file; and, for scale, the
   same model on --synthetic 8 --no-output. It prints the peak RSS, the
   growth from the smallest count, the run time and shards/s.

Every run goes into the JSON result (default CACHE/bench-shards.json). The
models and shards are made once into the cache (remade when the script's
settings or make_model.py change). OPENBLAS_CORETYPE and the thread
variables are taken out of every run's environment. Usage:

    /usr/bin/python3 bench/bench_shards.py [--quick] [--parts speed,decode,rss] [--rounds 4]
        [--shards 6] [--per-shard 24] [--batch 8] [--threads 2] [--decode-rounds 3]
        [--engines synthetic,tar-out,tar-out-d2[,tar-noout,tar-out-d0]]
        [--rss-counts 100,1000,10000] [--vitrun build/vitrun] [--cache out/bench-shards]
        [--json FILE]

A default run takes about 6 minutes on 2 mostly quiet cores, up to 12 when
other work holds one. --quick: 2 rounds of 4 shards, synthetic and tar-out only;
100 and 1,000 shards for the memory part (about 2 minutes).
"""
import argparse
import csv
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench import clean_env, cpu_info, log, run  # noqa: E402
from bench_family import prepare_model as family_model, stamp_it  # noqa: E402

PHOTOS = [  # tests/testlib.py's
    "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg",
    "/usr/lib/python3/dist-packages/sklearn/datasets/images/china.jpg",
    "/usr/lib/python3/dist-packages/sklearn/datasets/images/flower.jpg",
]
B16 = ["--preset", "vit-b16", "--classes", "1000"]
# the decoding probe: ViT-B/16's input (224 px, the same preprocessing preset), next to no compute
PROBE = ["--image-size", "224", "--patch-size", "16", "--hidden", "64", "--layers", "1",
         "--heads", "4", "--mlp-dim", "128", "--classes", "1000"]
DECODE_ENGINES = ("synthetic", "tar-out-d0", "tar-out")
TINY = ["--image-size", "32", "--patch-size", "8", "--hidden", "64", "--layers", "3",
        "--heads", "4", "--mlp-dim", "128", "--classes", "10"]
ENGINES = {  # name -> (input: "synthetic" or "tar", output folder?, --decoders or None)
    "synthetic": ("synthetic", False, None),
    "tar-out": ("tar", True, None),
    "tar-noout": ("tar", False, None),
    "tar-out-d2": ("tar", True, 2),
    "tar-out-d0": ("tar", True, 0),
}
TARGET = 0.97  # tar-out / synthetic
STEADY = 0.10
RSS_KINDS = ("brace", "list")


def stamped(path, stamp, at_least=None):
    """True when path exists and path.json holds this stamp (with at_least: a
    stamp whose value of that key is at least this one's, the rest equal)."""
    try:
        with open(path + ".json") as f:
            had = json.load(f)
    except (OSError, ValueError):
        return False
    if at_least and isinstance(had, dict) and had.get(at_least, -1) >= stamp[at_least]:
        had = dict(had, **{at_least: stamp[at_least]})
    return had == stamp and os.path.exists(path)


# ---- preparation ---------------------------------------------------------------------------

def prepare_model(a, name, args):
    """CACHE/NAME.h5 from make_model.py ARGS (bench_family.py's, made again when
    the script changed)."""
    return family_model(a, name, args, os.path.join(ROOT, "scripts"))


def web_jpeg(rng, photos, lo, hi):
    """A seeded random crop of one photograph, resized so that its longest side
    is in [lo, hi] at aspect 0.6-1.6, re-encoded at JPEG quality 75-95."""
    from PIL import Image
    im = photos[rng.randrange(len(photos))]
    w, h = im.size
    cw, ch = int(w * rng.uniform(0.45, 1.0)), int(h * rng.uniform(0.45, 1.0))
    x, y = rng.randrange(w - cw + 1), rng.randrange(h - ch + 1)
    side, aspect = rng.randint(lo, hi), rng.uniform(0.6, 1.6)
    ow, oh = (side, max(1, round(side / aspect))) if aspect >= 1 else \
        (max(1, round(side * aspect)), side)
    crop = im.crop((x, y, x + cw, y + ch)).resize((ow, oh), Image.BICUBIC)
    buf = io.BytesIO()
    crop.save(buf, "JPEG", quality=rng.randint(75, 95))
    return buf.getvalue(), ow, oh


def add_member(t, name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = 1700000000
    t.addfile(ti, io.BytesIO(data))


def write_shards(folder, count, per_shard, lo, hi, seed):
    """count shards DIR/00000.tar ... of per_shard samples (KEY.cls, KEY.jpg,
    KEY.json), written to a temporary folder renamed when complete."""
    from PIL import Image
    photos = [Image.open(p).convert("RGB") for p in PHOTOS]
    rng = random.Random(seed)
    tmp = folder + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    nbytes = 0
    for s in range(count):
        with tarfile.open(os.path.join(tmp, f"{s:05d}.tar"), "w",
                          format=tarfile.USTAR_FORMAT) as t:
            for i in range(per_shard):
                key = f"{s:05d}{i:04d}"
                jpg, w, h = web_jpeg(rng, photos, lo, hi)
                nbytes += len(jpg)
                cls = rng.randrange(1000)
                add_member(t, key + ".cls", str(cls).encode())
                add_member(t, key + ".jpg", jpg)
                add_member(t, key + ".json", json.dumps(
                    {"key": key, "width": w, "height": h, "caption": "a photograph"}).encode())
    shutil.rmtree(folder, ignore_errors=True)
    os.rename(tmp, folder)
    return nbytes


def prepare_shards(a, name, count, per_shard, lo, hi):
    folder = os.path.join(a.cache, name)
    stamp = {"count": count, "per_shard": per_shard, "size": [lo, hi], "seed": a.seed,
             "photos": PHOTOS, "layout": 1}
    if not stamped(folder, stamp, "count"):  # more shards than needed will do
        t0 = time.time()
        log(f"writing {count} shards of {per_shard} JPEG(s) ({lo}-{hi} px) to "
            f"{os.path.relpath(folder)}")
        n = write_shards(folder, count, per_shard, lo, hi, a.seed)
        log(f"  {n / 1e6:.1f} MB of JPEG in {time.time() - t0:.1f} s")
        stamp_it(folder, stamp)
    return folder


def pattern(folder, n):
    return os.path.join(folder, "{%05d..%05d}.tar" % (0, n - 1))


def list_file(a, folder, n):
    path = os.path.join(a.cache, f"{os.path.basename(folder)}-list-{n}.txt")
    if not os.path.exists(path):
        with open(path + ".tmp", "w") as f:
            for s in range(n):
                f.write(os.path.join(folder, f"{s:05d}.tar") + "\n")
        os.replace(path + ".tmp", path)
    return path


# ---- runs ----------------------------------------------------------------------------------

def spawn(cmd, errlog):
    """Runs cmd; (exit code, wall seconds, rusage of the process) via wait4."""
    with open(errlog, "wb") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, env=clean_env(), stdout=subprocess.DEVNULL, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, wall, ru


def check_exit(code, cmd, errlog):
    if code != 0:
        with open(errlog, errors="replace") as f:
            tail = f.read()[-3000:]
        raise SystemExit(f"bench_shards.py: {' '.join(cmd)} failed (exit {code}):\n{tail}")


def read_manifest(folder):
    """(shards, rows, failed rows, non-ok shards) from OUT/manifest.csv."""
    shards = rows = failed = bad = 0
    with open(os.path.join(folder, "manifest.csv"), newline="") as f:
        for r in csv.DictReader(f):
            shards += 1
            bad += r["status"] != "ok"
            rows += int(r["rows"])
            failed += int(r["failed_rows"])
    return shards, rows, failed, bad


def run_speed(a, engine, tmp, tag, model=None):
    kind, out, dec = ENGINES[engine]
    rep, errlog = os.path.join(tmp, "report.json"), os.path.join(tmp, "stderr.txt")
    if os.path.exists(rep):
        os.remove(rep)
    n = a.shards * a.per_shard
    cmd = [a.vitrun, "--model", model or a.big_model, "--batch", str(a.batch), "--threads",
           str(a.threads), "--progress", "off", "--report", rep]
    cmd += ["--synthetic", str(n)] if kind == "synthetic" else ["--input", a.speed_input]
    outdir = os.path.join(tmp, f"out-{tag}-{engine}") + "/"
    cmd += ["--output", outdir] if out else ["--no-output"]
    if dec is not None:
        cmd += ["--decoders", str(dec)]
    code, wall, ru = spawn(cmd, errlog)
    check_exit(code, cmd, errlog)
    with open(rep) as f:
        j = json.load(f)
    r0 = j["ranks"][0]
    if j["images"] != n:
        raise SystemExit(f"bench_shards.py: {engine} scored {j['images']} images, not {n}")
    if out:
        got = read_manifest(outdir)
        if got != (a.shards, n, 0, 0):
            raise SystemExit(f"bench_shards.py: {outdir}manifest.csv says (shards, rows, failed, "
                             f"broken) = {got}, expected ({a.shards}, {n}, 0, 0)")
        shutil.rmtree(outdir)
    with open(errlog, errors="replace") as f:
        summary = [x.strip() for x in f if "images/s" in x]
    return {"images": n, "loop_s": j["wall_s"], "images_per_s": j["images_per_s"],
            "command_s": wall, "command_images_per_s": n / wall,
            "startup_s": wall - j["wall_s"],
            "cpu_s": ru.ru_utime + ru.ru_stime, "maxrss_mb": ru.ru_maxrss * 1024 / 1e6,
            "read_s": r0["read_s"], "decode_wait_s": r0["decode_wait_s"],
            "write_s": r0["write_s"], "gemm_s": r0["gemm_s"], "idle_s": r0["idle_s"],
            "busy_fraction": r0["busy_fraction"],
            "summary": summary[-1] if summary else "", "command": cmd}


def run_rss(a, kind, n, tmp):
    errlog = os.path.join(tmp, "stderr.txt")
    cmd = [a.vitrun, "--model", a.tiny_model, "--batch", str(a.batch), "--threads",
           str(a.threads), "--progress", "off"]
    outdir = os.path.join(tmp, f"rss-{kind}-{n}") + "/"
    if kind == "synthetic":
        cmd += ["--synthetic", str(n), "--no-output"]
    else:
        src = pattern(a.tiny_shards, n) if kind == "brace" else list_file(a, a.tiny_shards, n)
        cmd += ["--input", src, "--output", outdir]
    code, wall, ru = spawn(cmd, errlog)
    check_exit(code, cmd, errlog)
    row = {"kind": kind, "shards": n if kind != "synthetic" else 0, "seconds": wall,
           "maxrss_mb": ru.ru_maxrss * 1024 / 1e6, "cpu_s": ru.ru_utime + ru.ru_stime,
           "minflt": ru.ru_minflt, "command": cmd}
    if kind != "synthetic":
        got = read_manifest(outdir)
        if got != (n, n, 0, 0):
            raise SystemExit(f"bench_shards.py: {outdir}manifest.csv says (shards, rows, failed, "
                             f"broken) = {got}, expected ({n}, {n}, 0, 0)")
        row["shards_per_s"] = n / wall
        shutil.rmtree(outdir)
    return row


# ---- summaries -----------------------------------------------------------------------------

def med(xs):
    return statistics.median(xs)


def summarise_speed(a, rows, engines):
    res = {e: [r for r in rows if r["engine"] == e] for e in engines}
    n = a.shards * a.per_shard
    log(f"\nspeed: ViT-B/16 at 224, batch {a.batch}, {a.threads} threads, 1 rank; {n} images "
        f"a run ({a.shards} shards x {a.per_shard}); {a.rounds} round(s)")
    log("  images/s: the report's (scoring loop) and the whole command's (model load "
        "included); median (min-max)")
    log(f"  {'engine':11s} {'loop images/s':>24s} {'command images/s':>24s} {'start-up s':>10s}"
        f" {'read s':>7s} {'dec.wait s':>10s} {'write s':>7s} {'busy':>5s} {'GEMM ms/img':>11s}"
        f" {'CPU s':>6s} {'RSS MB':>7s}")
    out = {"engines": {}, "ratios": {}}
    for e, v in res.items():
        li, ci = [r["images_per_s"] for r in v], [r["command_images_per_s"] for r in v]
        s = {k: med([r[k] for r in v]) for k in ("startup_s", "read_s", "decode_wait_s",
                                                 "write_s", "gemm_s", "cpu_s", "maxrss_mb",
                                                 "loop_s", "command_s", "busy_fraction")}
        log(f"  {e:11s} {med(li):8.3f} ({min(li):6.3f}-{max(li):6.3f}) {med(ci):8.3f} "
            f"({min(ci):6.3f}-{max(ci):6.3f}) {s['startup_s']:10.2f} {s['read_s']:7.3f} "
            f"{s['decode_wait_s']:10.3f} {s['write_s']:7.3f} {s['busy_fraction']:5.3f} "
            f"{1e3 * s['gemm_s'] / n:11.1f} "
            f"{s['cpu_s']:6.1f} "
            f"{s['maxrss_mb']:7.0f}")
        out["engines"][e] = dict(s, images_per_s=[med(li), min(li), max(li)],
                                 command_images_per_s=[med(ci), min(ci), max(ci)], runs=len(v))
    log("  ratios to synthetic (and tar-out-d2 / tar-out): of the medians; per round: "
        "median (min-max)")
    pairs = [(e, "synthetic") for e in engines if e != "synthetic" and "synthetic" in res]
    if "tar-out-d2" in res and "tar-out" in res:
        pairs.append(("tar-out-d2", "tar-out"))
    # steady rounds: every run's GEMM ms per image within STEADY of the best
    # run's (other work on the cores shows there first). Steady, not quiet:
    # in a run that is busy throughout every round may be steady.
    best = min(r["gemm_s"] for r in rows)
    steady = {k: all(r["gemm_s"] <= (1 + STEADY) * best for r in rows if r["round"] == k)
              for k in {r["round"] for r in rows}}
    log(f"  steady rounds (every run's GEMM ms/image within {STEADY:.0%} of the best run's, "
        f"{1e3 * best / n:.1f}): {sum(steady.values())} of {len(steady)}")
    out["steady_rounds"] = sorted(k for k, q in steady.items() if q)
    for x, y in pairs:
        line, entry = f"  {x + ' / ' + y:24s}", {}
        for key, label in (("images_per_s", "loop"), ("command_images_per_s", "command")):
            xs = {r["round"]: r[key] for r in res[x]}
            ys = {r["round"]: r[key] for r in res[y]}
            per = [xs[k] / ys[k] for k in xs if k in ys]
            m = med(xs.values()) / med(ys.values())
            line += f" {label} {m:.3f}, per round {med(per):.3f} ({min(per):.3f}-{max(per):.3f})"
            entry[label] = {"of_medians": m, "per_round_median": med(per), "min": min(per),
                            "max": max(per), "per_round": per}
        xs = {r["round"]: r["images_per_s"] for r in res[x]}
        ys = {r["round"]: r["images_per_s"] for r in res[y]}
        entry["best_runs"] = max(xs.values()) / max(ys.values())
        line += f" best runs {entry['best_runs']:.3f}"
        per = [xs[k] / ys[k] for k in xs if k in ys and steady[k]]
        if per:
            entry["steady"] = {"per_round_median": med(per), "min": min(per), "max": max(per),
                               "per_round": per}
            line += f"; steady rounds {med(per):.3f} ({min(per):.3f}-{max(per):.3f})"
        # CPU seconds of the whole process, more per image than the other's:
        # what the machine's other load moves least
        xs = {r["round"]: r["cpu_s"] for r in res[x]}
        ys = {r["round"]: r["cpu_s"] for r in res[y]}
        per = [1e3 * (xs[k] - ys[k]) / n for k in xs if k in ys]
        entry["extra_cpu_ms_per_image"] = {"per_round_median": med(per), "min": min(per),
                                           "max": max(per)}
        line += f"; CPU {med(per):+.1f} ms/image ({min(per):+.1f} to {max(per):+.1f})"
        if x == "tar-out" and y == "synthetic":
            got = entry["loop"]["per_round_median"]
            line += f"   target >= {TARGET}: {'met' if got >= TARGET else 'NOT met'} (loop)"
        log(line)
        out["ratios"][f"{x}/{y}"] = entry
    return out


def summarise_decode(a, rows):
    n = a.shards * a.per_shard
    log(f"\ndecode: the same shards and preprocessing on a model with next to no compute "
        f"(224 px, width 64, 1 layer); {n} images a run, {a.decode_rounds} round(s); ms per "
        f"image, medians")
    log(f"  {'engine':11s} {'loop':>7s} {'read':>7s} {'dec.wait':>9s} {'write':>7s} "
        f"{'CPU (process)':>14s} {'CPU - synthetic':>16s}")
    out = {}
    base = {r["round"]: r["cpu_s"] for r in rows if r["engine"] == "synthetic"}
    for e in DECODE_ENGINES:
        v = [r for r in rows if r["engine"] == e]
        if not v:
            continue
        ms = {k: 1e3 * med([r[k] for r in v]) / n for k in ("loop_s", "read_s", "decode_wait_s",
                                                            "write_s", "cpu_s")}
        extra = [1e3 * (r["cpu_s"] - base[r["round"]]) / n for r in v if r["round"] in base]
        ms["extra_cpu"] = med(extra) if extra else 0.0
        log(f"  {e:11s} {ms['loop_s']:7.2f} {ms['read_s']:7.2f} {ms['decode_wait_s']:9.2f} "
            f"{ms['write_s']:7.2f} {ms['cpu_s']:14.2f} {ms['extra_cpu']:+16.2f}")
        out[e] = ms
    return out


def summarise_rss(a, rows):
    log(f"\nrss: tiny model (32 px, width 64, 3 layers), 1 JPEG a shard, --output DIR/, "
        f"batch {a.batch}, {a.threads} threads; peak RSS of the vitrun process")
    base = [r for r in rows if r["kind"] == "synthetic"]
    if base:
        log(f"  --synthetic {a.batch} --no-output (the same model, no shards): "
            f"{med([r['maxrss_mb'] for r in base]):.1f} MB")
    log(f"  {'input':7s} {'shards':>7s} {'peak RSS MB':>12s} {'growth MB':>10s} {'seconds':>8s} "
        f"{'shards/s':>9s} {'CPU s':>6s}")
    out = {}
    for kind in RSS_KINDS:
        v = sorted((r for r in rows if r["kind"] == kind), key=lambda r: r["shards"])
        if not v:
            continue
        counts = sorted({r["shards"] for r in v})
        first = med([r["maxrss_mb"] for r in v if r["shards"] == counts[0]])
        out[kind] = {}
        for c in counts:
            w = [r for r in v if r["shards"] == c]
            rss = med([r["maxrss_mb"] for r in w])
            secs = med([r["seconds"] for r in w])
            log(f"  {kind:7s} {c:7d} {rss:12.1f} {rss - first:+10.1f} {secs:8.1f} "
                f"{c / secs:9.0f} {med([r['cpu_s'] for r in w]):6.1f}")
            out[kind][str(c)] = {"maxrss_mb": rss, "growth_mb": rss - first, "seconds": secs,
                                 "shards_per_s": c / secs}
    return out


# ---- main ----------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vitrun", default=os.path.join(ROOT, "build", "vitrun"))
    ap.add_argument("--cache", default=os.path.join(ROOT, "out", "bench-shards"),
                    help="models, shards, the JSON result")
    ap.add_argument("--json", help="the result (default CACHE/bench-shards.json)")
    ap.add_argument("--parts", default="speed,decode,rss")
    ap.add_argument("--decode-rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true",
                    help="2 rounds of 4 shards, synthetic and tar-out; 100 and 1,000 shards")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--shards", type=int, default=6, help="speed: shards a run")
    ap.add_argument("--per-shard", type=int, default=24, help="speed: images a shard")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--engines", default="synthetic,tar-out,tar-out-d2")
    ap.add_argument("--rss-counts", default="100,1000,10000")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tmp", help="where outputs are written (default: a folder in the cache)")
    a = ap.parse_args()
    if a.quick:
        a.rounds, a.shards, a.decode_rounds = 2, 4, 2
        a.engines, a.rss_counts = "synthetic,tar-out", "100,1000"
    parts = [p.strip() for p in a.parts.split(",") if p.strip()]
    engines = [e.strip() for e in a.engines.split(",") if e.strip()]
    for p in parts:
        if p not in ("speed", "decode", "rss"):
            ap.error(f"unknown part '{p}' (speed, decode, rss)")
    for e in engines:
        if e not in ENGINES:
            ap.error(f"unknown engine '{e}' ({', '.join(ENGINES)})")
    counts = sorted({int(x) for x in a.rss_counts.split(",") if x.strip()})
    if a.rounds < 1 or a.shards < 1 or a.per_shard < 1 or a.batch < 1 or a.threads < 1 or \
            not counts or counts[0] < 1 or counts[-1] > 99999:
        ap.error("--rounds, --shards, --per-shard, --batch, --threads must be at least 1, "
                 "--rss-counts 1..99999")
    if not os.access(a.vitrun, os.X_OK):
        ap.error(f"{a.vitrun} is not an executable; build vitrun first")
    missing = [p for p in PHOTOS if not os.path.exists(p)]
    if missing:
        ap.error(f"photographs missing: {missing} (python-matplotlib-data, python3-sklearn)")
    a.cache = os.path.abspath(a.cache)
    os.makedirs(a.cache, exist_ok=True)
    a.json = a.json or os.path.join(a.cache, "bench-shards.json")

    t_start = time.time()
    model, _ = cpu_info()
    load = os.getloadavg()
    log(f"machine: {model}; {os.cpu_count()} logical CPUs ({len(os.sched_getaffinity(0))} "
        f"usable); load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    version = run([a.vitrun, "--version"]).split("\n")[0]
    log(f"  {os.path.relpath(a.vitrun)}: {version}")
    result = {"vitrun": version, "machine": model, "load_start": load[:3], "options": {
        k: getattr(a, k) for k in ("rounds", "shards", "per_shard", "batch", "threads",
                                   "seed", "quick")}, "engines": engines, "rss_counts": counts}
    speed_rows, decode_rows, rss_rows = [], [], []
    if "speed" in parts:
        a.big_model = prepare_model(a, "vit-b16", B16)
    if "decode" in parts:
        a.probe_model = prepare_model(a, "probe224", PROBE)
    if "speed" in parts or "decode" in parts:
        folder = prepare_shards(a, "web-photos", a.shards, a.per_shard, 300, 600)
        a.speed_input = pattern(folder, a.shards)
    if "rss" in parts:
        a.tiny_model = prepare_model(a, "tiny32", TINY)
        a.tiny_shards = prepare_shards(a, "tiny-shards", counts[-1], 1, 40, 64)
    os.makedirs(os.path.join(a.cache, "tmp"), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=a.tmp or os.path.join(a.cache, "tmp")) as tmp:
        if "speed" in parts:
            log(f"speed: {', '.join(engines)}; {a.rounds} round(s), order rotating; input "
                f"{os.path.relpath(a.speed_input)}")
            for r in range(a.rounds):
                k = r % len(engines)
                for e in engines[k:] + engines[:k]:
                    row = run_speed(a, e, tmp, f"r{r + 1}")
                    row.update(round=r + 1, engine=e, load1=round(os.getloadavg()[0], 2))
                    speed_rows.append(row)
                    log(f"  round {r + 1} {e:11s} {row['images_per_s']:7.3f} images/s (loop) "
                        f"{row['command_images_per_s']:7.3f} (command, {row['command_s']:.1f} s) "
                        f"read {row['read_s']:.3f} s, decode wait {row['decode_wait_s']:.3f} s")
            result["speed"] = summarise_speed(a, speed_rows, engines)
        if "decode" in parts:
            log(f"decode: {', '.join(DECODE_ENGINES)} on {os.path.relpath(a.probe_model)}; "
                f"{a.decode_rounds} round(s)")
            for r in range(a.decode_rounds):
                for e in DECODE_ENGINES:
                    row = run_speed(a, e, tmp, f"d{r + 1}", a.probe_model)
                    row.update(round=r + 1, engine=e)
                    decode_rows.append(row)
            result["decode"] = summarise_decode(a, decode_rows)
        if "rss" in parts:
            log(f"rss: {', '.join(RSS_KINDS)} x {', '.join(map(str, counts))} shards")
            rss_rows.append(run_rss(a, "synthetic", a.batch, tmp))
            for c in counts:
                for kind in RSS_KINDS:
                    row = run_rss(a, kind, c, tmp)
                    rss_rows.append(row)
                    log(f"  {kind:6s} {c:6d} shards: peak RSS {row['maxrss_mb']:.1f} MB, "
                        f"{row['seconds']:.1f} s")
            result["rss"] = summarise_rss(a, rss_rows)
    result["runs"] = {"speed": speed_rows, "decode": decode_rows, "rss": rss_rows}
    result["seconds"] = time.time() - t_start
    result["load_end"] = os.getloadavg()[:3]
    with open(a.json + ".tmp", "w") as f:
        json.dump(result, f, indent=1)
    os.replace(a.json + ".tmp", a.json)
    runs = len(speed_rows) + len(decode_rows) + len(rss_rows)
    log(f"\n{runs} runs in {result['seconds']:.0f} s; result in {a.json}; load average at the "
        f"end {os.getloadavg()[0]:.2f} (other work on the machine lowers and scatters every "
        f"rate above)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
