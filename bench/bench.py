#!/usr/bin/env python3
"""vitrun side by side with ONNX Runtime and tuned PyTorch on one ViT-B/16.

Prepares one model for every engine in a cache folder (bench/export_onnx.py:
torchvision's vit_b_16 with seeded random weights as .pth and .onnx, checked
ORT against torch; scripts/convert_checkpoint.py: the same weights as .h5;
for ort-int8, bench/quantize_onnx.py: the .onnx dynamically quantized as
ORT's quantizer lays it out, checked against the fp32 graph in ORT), then
runs the engines alternately, R rounds, the order rotating every round, each
run a fresh process:

  vitrun        build/vitrun on one rank with --threads T; OPENBLAS_CORETYPE is
                taken out of its environment so it measures what users get
  vitrun-pp     mpirun -np T vitrun --pp T --threads 1 (--mpi-flags: Open MPI's
                default transport, single-copy shared memory where the kernel allows)
  vitrun-tp     mpirun -np T vitrun --tp T --threads 1
  vitrun-bf16   vitrun --precision bf16 (bfloat16 weights and GEMM inputs)
  vitrun-openblas  vitrun --gemm openblas (the back end of builds without oneDNN)
  vitrun-int8   vitrun --precision int8 (u8 x s8 weight GEMMs on oneDNN: weights
                int8 per output channel, activations uint8 per token, runtime/quant.h);
                vitrun-int8-pp and vitrun-int8-tp: the same on mpirun as vitrun-pp/-tp
  ort           ONNX Runtime (onnxruntime-node, bench/ort_bench.js), CPU provider,
                T intra-op threads, sequential, all graph optimisations
  ort-int8      the same ORT on vit_b_16_int8.onnx: every encoder linear layer as
                DynamicQuantizeLinear + MatMulInteger (uint8 activations per tensor,
                int8 weights per tensor, ORT's quantize_dynamic defaults), which ORT
                fuses into DynamicQuantizeMatMul; the head float
  torch[:P]     PyTorch (bench/torch_bench.py) with settings preset P
                (--list-presets); plain "torch" is the best preset found so far;
                vitrun/PyTorch uses the fastest preset of those run
  torch-int8[:P]  PyTorch's dynamic quantization (torch_bench.py --quantize dynamic:
                quantize_dynamic({nn.Linear}, qint8) of the same ViT-B/16 written with
                nn.Linear layers, its float logits checked against torchvision's),
                preset P as for torch; vitrun-int8/PyTorch int8 uses the fastest

and prints per batch size the median, min and max images/s of each engine,
the ratios vitrun/ORT and vitrun/PyTorch (ratio of the medians, and the range
of the per-round ratios), the distributed layouts against one-rank vitrun,
vitrun int8 against fp32 vitrun, ORT int8 and PyTorch int8, the int8 layouts
against one-rank int8, and writes every run to a CSV. vitrun's images/s is
its report's (the whole scoring loop, first batch included); ORT and PyTorch
time the iterations after --warmup untimed ones. Usage:

    /usr/bin/python3 bench/bench.py [--rounds 5] [--threads 2] [--batches 1,8]
        [--images 1:12,8:48] [--engines vitrun,vitrun-pp,vitrun-tp,vitrun-bf16,ort,torch]
        [--cache out/bench] [--csv FILE]

int8, issue 19's targets (not in the default list: with them a default run
would take about 20 minutes here):

    --engines vitrun,vitrun-int8,vitrun-int8-pp,vitrun-int8-tp,ort-int8,torch-int8

A preset sweep for PyTorch: --engines torch:plain,torch:coretype,torch:ompblas,...
(torch-int8:plain,... for the int8 model).
"""
import argparse
import csv
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
MODEL = "vit_b_16"
# vitrun engine: (the mpirun layout flag or None for one rank, vitrun's own options)
VITRUNS = {
    "vitrun": (None, []),
    "vitrun-pp": ("--pp", []),
    "vitrun-tp": ("--tp", []),
    "vitrun-bf16": (None, ["--precision", "bf16"]),
    "vitrun-openblas": (None, ["--gemm", "openblas"]),
    "vitrun-int8": (None, ["--precision", "int8"]),
    "vitrun-int8-pp": ("--pp", ["--precision", "int8"]),
    "vitrun-int8-tp": ("--tp", ["--precision", "int8"]),
}
# the performance issues' goals for vitrun: vitrun / ORT, vitrun / PyTorch, a vitrun
# engine / vitrun 1 rank, and for int8 (issue 19) vitrun-int8 / ort-int8, / torch-int8,
# vitrun-int8 / vitrun by batch size, the int8 layouts / vitrun-int8
TARGETS = {"ort": 1.10, "torch": 1.30, "vitrun-pp": 0.95, "vitrun-tp": 0.95, "vitrun-bf16": 1.7,
           "ort-int8": 1.5, "torch-int8": 1.5, "vitrun-int8": {1: 1.5, 8: 1.8},
           "vitrun-int8-pp": 0.95, "vitrun-int8-tp": 0.95}

# PyTorch settings. "ompblas" loads Debian's OpenMP build of the same OpenBLAS
# (libopenblas0-openmp, fetched with apt-get download into the cache and put
# first with LD_LIBRARY_PATH): with the default pthreads build, OpenBLAS's
# threads and torch's spinning OpenMP threads fight over the 2 cores.
PRESETS = {
    "plain": dict(coretype=False, spin=None, ompblas=False, mode="eager",
                  doc="Debian's torch as installed, set_num_threads(T), inference_mode"),
    "coretype": dict(coretype=True, spin=None, ompblas=False, mode="eager",
                     doc="+ OPENBLAS_CORETYPE for the CPU (Debian's OpenBLAS picks SSE3 kernels)"),
    "coretype-nospin": dict(coretype=True, spin="0", ompblas=False, mode="eager",
                            doc="+ GOMP_SPINCOUNT=0: idle OpenMP threads sleep, OpenBLAS "
                                "pthreads get the cores"),
    "ompblas": dict(coretype=True, spin=None, ompblas=True, mode="eager",
                    doc="OPENBLAS_CORETYPE + OpenBLAS's OpenMP build (one thread pool)"),
    "ompblas-freeze": dict(coretype=True, spin=None, ompblas=True, mode="freeze",
                           doc="+ torch.jit.trace and torch.jit.freeze"),
    "ompblas-optimize": dict(coretype=True, spin=None, ompblas=True, mode="optimize",
                             doc="+ torch.jit.optimize_for_inference"),
}
TUNED = "ompblas-freeze"  # best in the smoke runs; confirm with a preset sweep


def log(msg):
    print(msg, flush=True)


def run(cmd, env=None, cwd=None):
    r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"bench.py: {' '.join(cmd)} failed (exit {r.returncode}):\n"
                         f"{r.stderr.strip()[-3000:]}")
    return r.stdout


def cpu_info():
    model, flags = platform.processor() or "?", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k.strip() == "model name":
                    model = v.strip()
                elif k.strip() == "flags":
                    flags = set(v.split())
                    break
    except OSError:
        pass
    return model, flags


def coretype(flags):
    """The OpenBLAS kernels vitrun would choose for this CPU (runtime/gemm.c's rule)."""
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        return "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Haswell"
    return None


def target(key, batch):
    t = TARGETS.get(key)
    return t.get(batch) if isinstance(t, dict) else t


def versions(a):
    v = {"vitrun": run([a.vitrun, "--version"]).strip()}
    v["torch"] = run([PYTHON, "-c", "import torch, torchvision; "
                      "print('torch', torch.__version__, 'torchvision', torchvision.__version__, "
                      "'quantized engine', torch.backends.quantized.engine)"]).strip()
    try:
        with open(os.path.join(HERE, "node_modules", "onnxruntime-node", "package.json")) as f:
            v["ort"] = "onnxruntime-node " + json.load(f)["version"]
        v["node"] = run(["node", "--version"]).strip()
    except (OSError, SystemExit):
        pass
    if getattr(a, "int8_onnx", None):
        v["onnx"] = run([PYTHON, "-c", "import onnx; print('onnx', onnx.__version__, "
                         "'(bench/quantize_onnx.py)')"]).strip()
    q = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\n",
                        "libopenblas0-pthread", "libopenblas0-openmp", "openmpi-bin"],
                       capture_output=True, text=True)
    v["debian"] = ", ".join(x for x in q.stdout.split("\n") if len(x.split()) == 2)
    if getattr(a, "ompblas", None):
        v["debian"] += f"; libopenblas0-openmp unpacked in {os.path.relpath(a.ompblas)}"
    return v


def print_machine(a, flags, model):
    load = os.getloadavg()
    log(f"machine: {model}; {os.cpu_count()} logical CPUs ({len(os.sched_getaffinity(0))} usable); "
        + " ".join(f"{x}={'yes' if x in flags else 'no'}"
                   for x in ("avx2", "fma", "avx512f", "avx512_bf16")))
    log(f"         {platform.platform()}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for k, v in versions(a).items():
        log(f"  {k}: {v}")
    if getattr(a, "int8_onnx", None):
        log(f"  ort-int8 graph: {a.int8_onnx}")


# ---- preparation ---------------------------------------------------------------------------

def prepare_models(a):
    """MODEL.pth, .onnx and .h5 in the cache, made again when the seed or a script changed."""
    base = os.path.join(a.cache, MODEL)
    scripts = [os.path.join(HERE, "export_onnx.py"),
               os.path.join(ROOT, "scripts", "convert_checkpoint.py")]
    stamp = {"seed": a.seed, "scripts": [hashlib.sha256(open(p, "rb").read()).hexdigest()
                                         for p in scripts]}
    try:
        with open(base + ".json") as f:
            fresh = json.load(f) == stamp
    except (OSError, ValueError):
        fresh = False
    if not fresh or not all(os.path.exists(base + x) for x in (".pth", ".onnx", ".h5")):
        for x in (".json", ".h5"):
            if os.path.exists(base + x):
                os.remove(base + x)
        log(f"exporting {base}.pth and .onnx (seed {a.seed}) and checking ORT against torch")
        log(run([PYTHON, os.path.join(HERE, "export_onnx.py"), base, "--seed", str(a.seed),
                 "--check"]).strip())
    if not os.path.exists(base + ".h5"):
        log(f"converting {base}.pth to {base}.h5")
        run([PYTHON, os.path.join(ROOT, "scripts", "convert_checkpoint.py"), "--format",
             "torchvision", base + ".pth", base + ".h5"])  # complete once the stamp is written
        with open(base + ".json", "w") as f:
            json.dump(stamp, f)
    return base


def prepare_int8_onnx(a):
    """MODEL_int8.onnx next to MODEL.onnx, made again when either or quantize_onnx.py changed."""
    src, dst = a.model + ".onnx", a.model + "_int8.onnx"
    script = os.path.join(HERE, "quantize_onnx.py")
    stamp = {"src": [os.path.getsize(src), os.path.getmtime(src)],
             "script": hashlib.sha256(open(script, "rb").read()).hexdigest()}
    try:
        with open(a.model + "_int8.json") as f:
            fresh = json.load(f) == stamp and os.path.exists(dst)
    except (OSError, ValueError):
        fresh = False
    if not fresh:
        log(f"quantizing {src} to {dst} as ORT's quantize_dynamic does, checking ORT on both")
        log(run([PYTHON, script, src, dst, "--check", "--threads", str(a.threads)]).strip())
        with open(a.model + "_int8.json", "w") as f:
            json.dump(stamp, f)
    return dst


def prepare_node():
    if os.path.exists(os.path.join(HERE, "node_modules", "onnxruntime-node", "package.json")):
        return
    log("installing onnxruntime-node (npm ci --ignore-scripts in bench/)")
    run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=HERE)


def prepare_ompblas(a):
    """Debian's OpenMP OpenBLAS matching the installed one, unpacked into the cache."""
    libdir = os.path.join(a.cache, "openblas-openmp", "usr", "lib", "x86_64-linux-gnu",
                          "openblas-openmp")
    if os.path.exists(os.path.join(libdir, "libblas.so.3")):
        return libdir
    q = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libopenblas0-pthread"],
                       capture_output=True, text=True)
    pkg = "libopenblas0-openmp" + (f"={q.stdout.strip()}" if q.returncode == 0 else "")
    dest = os.path.join(a.cache, "openblas-openmp")
    with tempfile.TemporaryDirectory(dir=a.cache) as tmp:
        os.chmod(tmp, 0o755)  # apt's _apt user writes the download
        log(f"fetching {pkg} (apt-get download) for the ompblas PyTorch presets")
        r = subprocess.run(["apt-get", "download", pkg], cwd=tmp, capture_output=True, text=True)
        debs = [f for f in os.listdir(tmp) if f.endswith(".deb")]
        if r.returncode != 0 or not debs:
            log(f"  cannot fetch it ({r.stderr.strip()[-300:]}); ompblas presets skipped")
            return None
        run(["dpkg-deb", "-x", os.path.join(tmp, debs[0]), dest])
    return libdir if os.path.exists(os.path.join(libdir, "libblas.so.3")) else None


# ---- engines -------------------------------------------------------------------------------

def clean_env():
    env = dict(os.environ)
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "GOMP_SPINCOUNT",
              "OMP_WAIT_POLICY", "LD_LIBRARY_PATH", "LD_PRELOAD"):
        env.pop(k, None)
    return env


def run_vitrun(a, engine, batch, images, tmp):
    rep, out = os.path.join(tmp, "report.json"), os.path.join(tmp, "scores.csv")
    for f in (rep, out):
        if os.path.exists(f):
            os.remove(f)
    cmd = [a.vitrun, "--model", a.model + ".h5", "--synthetic", str(images), "--batch",
           str(batch), "--quiet", "--report", rep, "--output", out]
    env = clean_env()
    flag, options = VITRUNS[engine]
    if flag is None:
        cmd += ["--threads", str(a.threads)] + options
    else:
        cmd = ([a.mpiexec, "-np", str(a.threads)] + a.mpi_flags.split() + cmd + options +
               ["--threads", "1", flag, str(a.threads)])
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    run(cmd, env=env)
    with open(rep) as f:
        j = json.load(f)
    return {"images_per_s": j["images_per_s"], "seconds": j["wall_s"], "images": j["images"],
            "after_first": after_first(j, batch), "detail": j["blas"]}


def after_first(rep, batch):
    """images/s after the first batch left the last stage (the peers' warm-up analogue)."""
    last = [r for r in rep["ranks"] if r["stage"] == rep["layout"]["pp"] - 1 and r["tp"] == 0
            and r["replica"] == 0]
    if not last or rep["layout"]["dp"] != 1:
        return None
    ends = [s[3] for s in last[0]["timeline"]]
    n = int(last[0]["micro_batches"])
    if n < 2 or len(ends) < n:
        return None
    rest = rep["images"] - batch
    return rest / (ends[n - 1] - ends[0]) if ends[n - 1] > ends[0] else None


def run_ort(a, model, batch, images):
    j = json.loads(run(["node", os.path.join(HERE, "ort_bench.js"), "--model", model,
                        "--batch", str(batch), "--threads", str(a.threads), "--iters",
                        str(max(1, images // batch)), "--warmup", str(a.warmup)],
                       env=clean_env()).strip().splitlines()[-1])
    return {"images_per_s": j["images_per_s"], "seconds": j["seconds"], "images": j["images"],
            "after_first": None, "detail": f"onnxruntime-node {j['version']} {j['model']}"}


def torch_env(a, preset):
    p, env = PRESETS[preset], clean_env()
    if p["coretype"] and a.coretype:
        env["OPENBLAS_CORETYPE"] = a.coretype
    if p["spin"] is not None:
        env["GOMP_SPINCOUNT"] = p["spin"]
    if p["ompblas"]:
        env["LD_LIBRARY_PATH"] = a.ompblas
    return env


def run_torch(a, preset, batch, images, int8=False):
    j = json.loads(run([PYTHON, os.path.join(HERE, "torch_bench.py"), "--pth", a.model + ".pth",
                        "--batch", str(batch), "--threads", str(a.threads), "--iters",
                        str(max(1, images // batch)), "--warmup", str(a.warmup), "--mode",
                        PRESETS[preset]["mode"], "--quantize", "dynamic" if int8 else "none"],
                       env=torch_env(a, preset)).strip().splitlines()[-1])
    detail = f"{preset}: {j['blas']}"
    if int8:
        detail += (f"; quantized engine {j['quantized_engine']}, float vs torchvision "
                   f"{j['check']['float_vs_torchvision']:.1e}, int8 vs float "
                   f"{j['check']['int8_vs_float']:.1e}")
    return {"images_per_s": j["images_per_s"], "seconds": j["seconds"], "images": j["images"],
            "after_first": None, "detail": detail}


def run_engine(a, engine, batch, images, tmp):
    if engine in VITRUNS:
        return run_vitrun(a, engine, batch, images, tmp)
    if engine in ("ort", "ort-int8"):
        return run_ort(a, a.int8_onnx if engine == "ort-int8" else a.model + ".onnx", batch,
                       images)
    kind, preset = engine.split(":", 1)
    return run_torch(a, preset, batch, images, int8=kind == "torch-int8")


# ---- summary -------------------------------------------------------------------------------

def label(a, e):
    return {"vitrun": f"vitrun 1 rank x {a.threads} threads",
            "vitrun-pp": f"vitrun pp={a.threads} (1 thread each)",
            "vitrun-tp": f"vitrun tp={a.threads} (1 thread each)",
            "vitrun-bf16": f"vitrun bf16, 1 rank x {a.threads} threads",
            "vitrun-openblas": f"vitrun on OpenBLAS, 1 rank x {a.threads} threads",
            "vitrun-int8": f"vitrun int8, 1 rank x {a.threads} threads",
            "vitrun-int8-pp": f"vitrun int8 pp={a.threads} (1 thread each)",
            "vitrun-int8-tp": f"vitrun int8 tp={a.threads} (1 thread each)",
            "ort": "ONNX Runtime", "ort-int8": "ONNX Runtime int8"}.get(
                e, ("PyTorch int8 " if e.startswith("torch-int8") else "PyTorch ")
                + e.split(":", 1)[-1])


def ratio_line(name, num, den, target=None):
    """Ratio of the medians and the range of the per-round ratios (rounds paired)."""
    per = [x / y for x, y in zip(num, den) if y > 0]
    r = statistics.median(num) / statistics.median(den)
    goal = f"   target >= {target:.2f}: {'met' if r >= target else 'NOT met'}" if target else ""
    return (f"  {name:44s} {r:6.3f}  (per round {min(per):.3f} - {max(per):.3f}){goal}", r,
            min(per), max(per))


def fastest(res, kind):
    """The fastest (by median) of the torch presets of kind ('torch' or 'torch-int8') run."""
    runs = [e for e in res if e.split(":", 1)[0] == kind]
    return max(runs, key=lambda e: statistics.median(res[e])) if runs else None


def summarise(a, rows, batches, engines):
    summary = []
    for b in batches:
        res = {e: [r["images_per_s"] for r in rows if r["batch"] == b and r["engine"] == e]
               for e in engines}
        res = {e: v for e, v in res.items() if v}
        if not res:
            continue
        n = max(len(v) for v in res.values())
        log(f"\nbatch {b}: {a.threads} threads, {a.images[b]} images per run, {n} round(s)")
        log(f"  {'engine':44s} {'median':>7s} {'min':>7s} {'max':>7s}   images/s")
        for e, v in res.items():
            extra = [r["after_first"] for r in rows if r["batch"] == b and r["engine"] == e
                     and r["after_first"]]
            note = (f"   (after the 1st batch: median {statistics.median(extra):.2f})"
                    if extra else "")
            log(f"  {label(a, e):44s} {statistics.median(v):7.2f} {min(v):7.2f} {max(v):7.2f}"
                f"{note}")
            summary.append({"batch": b, "engine": e, "median": statistics.median(v),
                            "min": min(v), "max": max(v), "runs": len(v)})
        best_torch, best_torch_int8 = fastest(res, "torch"), fastest(res, "torch-int8")
        pairs = []
        if "vitrun" in res:
            if "ort" in res:
                pairs.append(("vitrun / ONNX Runtime", "vitrun", "ort", TARGETS["ort"]))
            if best_torch:
                pairs.append((f"vitrun / PyTorch ({best_torch.split(':', 1)[-1]})", "vitrun",
                              best_torch, TARGETS["torch"]))
            for d in ("vitrun-pp", "vitrun-tp", "vitrun-bf16", "vitrun-openblas", "vitrun-int8"):
                if d in res:
                    pairs.append((f"{label(a, d).split(' (')[0].split(',')[0]} / vitrun 1 rank",
                                  d, "vitrun", target(d, b)))
        if "vitrun-int8" in res:
            if "ort-int8" in res:
                pairs.append(("vitrun int8 / ONNX Runtime int8", "vitrun-int8", "ort-int8",
                              target("ort-int8", b)))
            if best_torch_int8:
                pairs.append((f"vitrun int8 / PyTorch int8 ({best_torch_int8.split(':', 1)[-1]})",
                              "vitrun-int8", best_torch_int8, target("torch-int8", b)))
            for d in ("vitrun-int8-pp", "vitrun-int8-tp"):
                if d in res:
                    pairs.append((f"{label(a, d).split(' (')[0]} / vitrun int8 1 rank", d,
                                  "vitrun-int8", target(d, b)))
        if pairs:
            log("  ratios (of medians; range of the per-round ratios):")
        for name, x, y, goal in pairs:
            text, r, lo, hi = ratio_line(name, res[x], res[y], goal)
            log(text)
            summary.append({"batch": b, "engine": f"{x}/{y}", "median": r, "min": lo, "max": hi,
                            "runs": min(len(res[x]), len(res[y]))})
    return summary


def write_csv(path, rows, fields):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        w.writerows({k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}
                    for r in rows)
    os.replace(tmp, path)


# ---- main ----------------------------------------------------------------------------------

def parse_images(text, batches):
    given = {}
    for part in filter(None, text.split(",")):
        b, _, n = part.partition(":")
        given[int(b)] = int(n)
    return {b: given.get(b, 6 * b if b > 1 else 12) for b in batches}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vitrun", default=os.path.join(ROOT, "build", "vitrun"))
    ap.add_argument("--cache", default=os.path.join(ROOT, "out", "bench"),
                    help="model files, the OpenMP OpenBLAS, the CSVs")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--images", default="1:12,8:48",
                    help="images per run, per batch (others: 6 batches)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2,
                    help="untimed iterations before ORT's and PyTorch's timed ones (the jit "
                         "presets optimise during the first two)")
    ap.add_argument("--engines", default="vitrun,vitrun-pp,vitrun-tp,vitrun-bf16,ort,torch")
    ap.add_argument("--seed", type=int, default=0, help="model weights")
    ap.add_argument("--csv", help="every run (default CACHE/bench.csv; CACHE/bench-summary.csv)")
    ap.add_argument("--mpiexec", default="mpirun")
    # Open MPI's own shared-memory transport settings, as a user's mpirun has
    # them: with single-copy (CMA) off, as the test suite runs, a stage's
    # first micro-batch reached the next stage 1.4 s late (docs/PERFORMANCE.md).
    ap.add_argument("--mpi-flags", default="--oversubscribe --bind-to none",
                    help="mpirun flags for vitrun-pp and vitrun-tp")
    ap.add_argument("--list-presets", action="store_true", help="PyTorch presets, then exit")
    a = ap.parse_args()
    if a.list_presets:
        for k, p in PRESETS.items():
            log(f"{k:17s} {p['doc']}{'  (engines torch, torch-int8)' if k == TUNED else ''}")
        return 0
    batches = [int(x) for x in a.batches.split(",") if x]
    engines = [e.strip() for e in a.engines.split(",") if e.strip()]
    engines = [f"{e.split(':', 1)[0]}:{TUNED}" if e in ("torch", "torch:tuned", "torch-int8",
                                                        "torch-int8:tuned") else e
               for e in engines]
    for e in engines:
        if not (e in tuple(VITRUNS) + ("ort", "ort-int8") or
                (e.split(":", 1)[0] in ("torch", "torch-int8") and ":" in e and
                 e.split(":", 1)[1] in PRESETS)):
            ap.error(f"unknown engine '{e}' ({', '.join(VITRUNS)}, ort, ort-int8, torch, "
                     f"torch-int8, torch[-int8]:PRESET with a preset from --list-presets)")
    if a.threads < 1 or a.rounds < 1 or not batches or min(batches) < 1:
        ap.error("--threads, --rounds and the batches must be at least 1")
    a.images = parse_images(a.images, batches)
    for b in batches:
        if a.images[b] < b or a.images[b] % b:
            ap.error(f"--images for batch {b} must be a multiple of it, got {a.images[b]}")
    if not os.access(a.vitrun, os.X_OK):
        ap.error(f"{a.vitrun} is not an executable; build vitrun first (scripts/test.sh does)")
    os.makedirs(a.cache, exist_ok=True)
    a.csv = a.csv or os.path.join(a.cache, "bench.csv")

    model, flags = cpu_info()
    a.ompblas = None
    a.coretype = coretype(flags)
    if any(e.startswith("ort") for e in engines):
        prepare_node()
    a.model = prepare_models(a)
    a.int8_onnx = prepare_int8_onnx(a) if "ort-int8" in engines else None
    torch_presets = {e: e.split(":", 1) for e in engines if e.startswith("torch")}
    if any(PRESETS[p]["ompblas"] for _, p in torch_presets.values()):
        a.ompblas = prepare_ompblas(a)
        if not a.ompblas:  # fall back to the best preset without it
            kept = [e for e in engines if not (e in torch_presets and
                                               PRESETS[torch_presets[e][1]]["ompblas"])]
            for kind in sorted({k for k, _ in torch_presets.values()}):
                if not any(e.split(":", 1)[0] == kind for e in kept):
                    kept.append(f"{kind}:coretype-nospin")
            engines = kept
    print_machine(a, flags, model)
    log(f"engines: {', '.join(engines)}; batches {batches}; {a.rounds} round(s), order rotating")

    rows, t0 = [], time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.rounds):
            for b in batches:
                k = (r * len(batches) + batches.index(b)) % len(engines)
                for e in engines[k:] + engines[:k]:
                    res = run_engine(a, e, b, a.images[b], tmp)
                    rows.append(dict(res, round=r + 1, batch=b, engine=e, threads=a.threads,
                                     load1=round(os.getloadavg()[0], 2)))
                    log(f"  round {r + 1} batch {b} {e:22s} {res['images_per_s']:7.2f} images/s")
    summary = summarise(a, rows, batches, engines)
    write_csv(a.csv, rows, ["round", "batch", "engine", "threads", "images", "seconds",
                            "images_per_s", "after_first", "load1", "detail"])
    spath = os.path.splitext(a.csv)[0] + "-summary.csv"
    write_csv(spath, summary, ["batch", "engine", "median", "min", "max", "runs"])
    load = os.getloadavg()
    log(f"\nwrote {a.csv} and {spath}; {time.time() - t0:.0f} s; load average now "
        f"{load[0]:.2f} (a loaded machine makes every number above lower and noisier)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
