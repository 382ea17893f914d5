#!/usr/bin/env python3
"""--precision int8 against the numpy reference running the same quantisation.

A random ViT (timm names, converted; odd sizes: 5 heads of 12, MLP 100,
4 layers, 11 classes, 32 px, patch 8) scores 13 images on one rank in int8
with the activation dump. tests/reference/vit_ref.py computes the same model
twice in float64: as float32 runs it (forward) and as --precision int8
defines it (forward with precision "int8": weights per output channel,
activations per token, the heads float; runtime/quant.h has the
arithmetic). Checked:
  - every intermediate (embedding, each block, pooled, logits) against the
    int8 reference: the median difference within MEDIAN and the worst within
    BOUND, relative to the largest value (why two bounds: below);
  - that this closeness is the quantisation followed, not float32 by
    another name: the median is at least FOLLOW times smaller than the int8
    reference's distance to the float one, and int8 differs from float by
    more than FLOOR;
  - every MPI layout in int8 (dp 2, pp 2, tp 2, pp 2 x tp 2) against the
    one-process int8 run: bit for bit where the layout does not change the
    arithmetic (dp, pp); with tensor parallelism the TP ranks agree on the
    whole rows' ranges and weight scales, so their integers add up to one
    process's, and only the partial sums' float additions differ (then
    level flips as above: the same MEDIAN and BOUND); each layout twice,
    bit for bit run to run;
  - the refusals: --precision int8 with --gemm openblas exits 2 saying why.
Skipped (exit 77) when `vitrun --version` says int8 is not available here.
"""
import json
import os
import shlex
import shutil
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))
import checkpoints  # noqa: E402
import vit_ref  # noqa: E402
from testlib import PYTHON, SKIP, Checker, run, test_parser  # noqa: E402

HALF = (0.5, 0.5, 0.5)
# Where vitrun's float32 activations equal the reference's rounded to float32,
# the quantised integers are the same and the two agree to float32 rounding
# (the embedding: 8e-8). Elsewhere an activation 1 ulp away from the
# reference's can land on the other side of a rounding boundary: one level
# (s_a) moves one input of that token's next product, about 1/255 of the
# row's range times one weight. Those level flips are rare (0.7% of block
# 0's outputs move by more than 1e-4) but spread with depth (24% by block
# 3), so the median is the test of following the quantisation and the worst
# value is bounded by the flips' size. Measured here (relative to the
# largest value): medians 1e-8 to 3e-8, worst 8e-8 (embedding) to 5.7e-3
# (block 3), against int8 vs float medians of about 1e-3.
MEDIAN = 1e-6     # median |vitrun - int8 reference|
BOUND = 2e-2      # worst |vitrun - int8 reference|
FOLLOW = 1e3      # median |int8 ref - float ref| / median |vitrun - int8 ref|
FLOOR = 1e-3      # int8 must differ from float32 by at least this much


def rel(got, ref):
    return float(np.abs(np.asarray(got, np.float64) - ref).max() /
                 max(float(np.abs(ref).max()), 1e-30))


def reference_errors(P, pixels):
    """Each matrix's relative int8 error on the float reference's own inputs,
    as --int8-calibrate measures it: sqrt(sum (y8 - y32)^2 / sum y32^2) of the
    matrix's output (fc1's after its GELU, which runs in its epilogue; q, k
    and v together as the fused qkv; in the last block, whose only reader is
    the head, proj, fc1 and fc2 on the class tokens alone, as vitrun runs
    them)."""
    calls = []

    def lin(x, w, b=None):
        y = vit_ref.linear(x, w, b)
        calls.append((y, vit_ref.linear_int8(x, w, b)))
        return y
    x, _ = vit_ref.embed(vit_ref._f64(P), pixels, lin)
    names = ["patch"]
    PP = vit_ref._f64(P)
    for i, L in enumerate(PP["layers"]):
        x = vit_ref.block(x, L, PP["heads"], "gelu", PP["eps"], lin)
        names += [f"{i}.q", f"{i}.k", f"{i}.v", f"{i}.proj", f"{i}.fc1", f"{i}.fc2"]
    err = {}
    last = len(PP["layers"]) - 1
    for name, (y32, y8) in zip(names, calls):
        if name.endswith(".fc1"):
            y32, y8 = vit_ref.gelu(y32), vit_ref.gelu(y8)
        if name.split(".")[0] == str(last) and name[-2:] not in (".q", ".k", ".v"):
            y32, y8 = y32[:, :1], y8[:, :1]  # the last block computes the class tokens only
        key = name[:-2] + ".qkv" if name[-2:] in (".q", ".k", ".v") else name
        e, r = err.get(key, (0.0, 0.0))
        err[key] = (e + float(((y8 - y32) ** 2).sum()), r + float((y32 ** 2).sum()))
    return {k: (e / r) ** 0.5 for k, (e, r) in err.items()}


def calibration(ck, a, P, pixels, common, tmp):
    """--int8-calibrate's errors against the reference's, the file it writes,
    --int8-keep with it and by hand, and the keep list's refusals."""
    cal, rep = os.path.join(tmp, "cal.txt"), os.path.join(tmp, "cal.json")
    base = [x for x in common if x not in ("--precision", "int8")]
    out = os.path.join(tmp, "cal.h5")
    run([a.vitrun] + base + ["--int8-calibrate", cal, "--output", out])
    lines = [ln.split() for ln in open(cal) if not ln.startswith("#")]
    got = {ln[0]: float(ln[1]) for ln in lines}
    ref = reference_errors(P, pixels)
    ck.check("--int8-calibrate lists every matrix once", sorted(got) == sorted(ref),
             f"{len(got)} of {len(ref)}")
    worst = max(abs(got[k] - ref[k]) / ref[k] for k in ref if k in got)
    ck.check("--int8-calibrate's errors are the reference's (within 3%)", worst <= 0.03,
             f"worst {worst:.1%}; errors {min(got.values()):.2e} to {max(got.values()):.2e}")
    fp32 = os.path.join(tmp, "fp32.h5")
    run([a.vitrun] + base + ["--output", fp32])
    with h5py.File(out) as c, h5py.File(fp32) as f:
        e = rel(c["logits"][:], f["logits"][:])
        ck.check("--int8-calibrate scores with float32 outputs", e <= 1e-5, f"{e:.1e} from fp32")
    # a threshold between the errors: some matrices are marked fp32
    t = sorted(got.values())[len(got) // 2]
    run([a.vitrun] + base + ["--int8-calibrate", cal, "--int8-threshold", f"{t:.6e}", "--output",
                             out])
    marked = {ln.split()[0] for ln in open(cal) if ln.strip().endswith(" fp32")}
    p = run([a.vitrun] + common + ["--int8-keep", "@" + cal, "--output", out, "--report", rep])
    with open(rep) as f:
        r = json.load(f)
    kept = {m["matrix"] for m in r["ranks"][0]["int8"] if m["precision"] == "fp32"}
    ck.check("--int8-keep @FILE keeps exactly the matrices the file marks fp32",
             kept == marked and 0 < len(kept) < len(got), f"{len(kept)} of {len(got)}")
    model = common[common.index("--model") + 1]
    shutil.copy(cal, model + ".int8")
    loud = [x for x in common if x != "--quiet"]
    p = run([a.vitrun] + loud + ["--output", out, "--report", rep])
    with open(rep) as f:
        r = json.load(f)
    auto = {m["matrix"] for m in r["ranks"][0]["int8"] if m["precision"] == "fp32"}
    ck.check("MODEL.int8 applies by itself, and says so",
             auto == marked and "applying the calibration" in p.stderr, f"{len(auto)} kept")
    run([a.vitrun] + common + ["--int8-keep", "none", "--output", out, "--report", rep])
    with open(rep) as f:
        r = json.load(f)
    ck.check("--int8-keep none: every matrix in int8 despite MODEL.int8",
             all(m["precision"] == "int8" for m in r["ranks"][0]["int8"]))
    os.remove(model + ".int8")
    p = run([a.vitrun] + common + ["--int8-keep", "*,patch", "--output", out])
    with h5py.File(out) as c, h5py.File(fp32) as f:
        ck.check("--int8-keep '*,patch' computes float32's logits exactly",
                 np.array_equal(c["logits"][:], f["logits"][:]))
    for bad, why in (("4.qkv", "no matrix"), ("1.fc3", "no matrix"), ("x", "no matrix")):
        p = run([a.vitrun] + common + ["--int8-keep", bad, "--output", out], check=False)
        ck.check(f"--int8-keep {bad} refused (exit 2, naming it)",
                 p.returncode == 2 and bad in p.stderr and why in p.stderr,
                 p.stderr.strip()[-120:])
    broken = os.path.join(tmp, "broken.int8")
    with open(broken, "w") as f:
        f.write("# vitrun int8 calibration\npatch 1.0e-02 int8\n0.qkv nan-ish fp32\n")
    p = run([a.vitrun] + common + ["--int8-keep", "@" + broken, "--output", out], check=False)
    ck.check("a broken calibration file refused, naming it and the line",
             p.returncode == 2 and broken in p.stderr and "line 3" in p.stderr,
             p.stderr.strip()[-160:])
    p = run([a.vitrun] + base + ["--int8-keep", "1", "--output", out], check=False)
    ck.check("--int8-keep without --precision int8 refused", p.returncode == 2,
             p.stderr.strip()[-120:])
    cal = os.path.join(tmp, "refused.int8")
    p = run([a.vitrun] + base + ["--precision", "bf16", "--int8-calibrate", cal, "--output",
                                 out], check=False)
    ck.check("--int8-calibrate with --precision bf16 refused, nothing written",
             p.returncode == 2 and "--int8-calibrate" in p.stderr and "bf16" in p.stderr and
             not os.path.exists(cal), p.stderr.strip()[-120:])
    for t in ("0", "-1", "11", "nan", "0.05x"):
        p = run([a.vitrun] + common + ["--int8-threshold", t, "--output", out], check=False)
        ck.check(f"--int8-threshold {t} refused (exit 2, naming the option)",
                 p.returncode == 2 and "--int8-threshold" in p.stderr, p.stderr.strip()[-120:])


def report_script(ck, a, model, inp, tmp):
    """scripts/int8_report.py's figures against the test's own from the same
    runs' files."""
    out = os.path.join(tmp, "report")
    run([PYTHON, os.path.join(a.scripts, "int8_report.py"), "--model", model, "--input", inp,
         "--out", out, "--vitrun", a.vitrun, "--json", "--", "--threads", "1", "--batch", "3"])
    with open(os.path.join(out, "report.json")) as f:
        r = json.load(f)
    with h5py.File(os.path.join(out, "fp32.h5")) as f, h5py.File(os.path.join(out, "int8.h5")) as g:
        e32, e8 = f["embedding"][:].astype(np.float64), g["embedding"][:].astype(np.float64)
        same = float((f["logits"][:].argmax(1) == g["logits"][:].argmax(1)).mean())
    cos = (e32 * e8).sum(1) / np.linalg.norm(e32, axis=1) / np.linalg.norm(e8, axis=1)
    ck.check("int8_report.py: cosine and top-1 agreement as computed here",
             abs(r["embedding_cosine"]["mean"] - cos.mean()) < 1e-12 and
             abs(r["embedding_cosine"]["min"] - cos.min()) < 1e-12 and
             abs(r["top1_agreement"] - same) < 1e-12 and len(r["layers"]) == 17,
             f"cosine mean {cos.mean():.6f}, worst {cos.min():.6f}; top-1 {same:.1%}")


def main():
    ap = test_parser()
    a = ap.parse_args()
    version = run([a.vitrun, "--version"]).stdout
    line = next((ln for ln in version.splitlines() if ln.startswith("int8:")), "int8: ?")
    if "yes" not in line:
        print(f"SKIPPED: {line.strip()}")
        return SKIP
    mpi = [a.mpiexec, a.np_flag]
    flags = shlex.split(a.mpi_flags)
    ck = Checker("int8: vitrun --precision int8 vs the numpy int8 reference; MPI layouts")
    image, patch, C, H, M, L, K, N = 32, 8, 3, 5, 100, 4, 11, 13
    D = H * 12
    P = checkpoints.random_params(image, patch, C, D, L, H, M, K, 1e-6, seed=19)
    with tempfile.TemporaryDirectory() as tmp:
        src = checkpoints.export_timm(P, os.path.join(tmp, "vit.safetensors"))
        model = os.path.join(tmp, "model.h5")
        run([PYTHON, os.path.join(a.scripts, "convert_checkpoint.py"), "--format", "timm", src,
             model, "--heads", str(H), "--shards", "2", "--act", "gelu", "--eps", "1e-6"])
        images = np.random.default_rng(4).integers(0, 256, (N, image, image, C), np.uint8)
        inp = os.path.join(tmp, "in.h5")
        with h5py.File(inp, "w") as f:
            f["images"] = images
        common = ["--model", model, "--input", inp, "--batch", "3", "--logits", "--embeddings",
                  "--topk", "3", "--threads", "1", "--quiet", "--precision", "int8"]
        single, dump = os.path.join(tmp, "single.h5"), os.path.join(tmp, "dump.h5")
        run([a.vitrun] + common + ["--output", single, "--dump-activations", dump])
        # (the dump changes the order of a few float32 sums: layouts are
        # compared with a run without it)
        plain = os.path.join(tmp, "plain.h5")
        run([a.vitrun] + common + ["--output", plain])

        # (the float32 pixels vitrun computes: see vit_ref.uint8_rows)
        pixels = vit_ref.normalize_u8_f32(images, HALF, HALF)
        q = vit_ref.forward(P, pixels, precision="int8")
        f = vit_ref.forward(P, pixels)
        with h5py.File(dump) as d, h5py.File(single) as s:
            got = [("embedding output", d["embed"][:], "embed")]
            got += [(f"block {i} output", d[f"block_{i:02d}"][:], i) for i in range(L)]
            got += [("pooled embedding", s["embedding"][:], "embedding"),
                    ("logits", s["logits"][:], "logits")]
            for what, g, key in got:
                rq = q["blocks"][key] if isinstance(key, int) else q[key]
                rf = f["blocks"][key] if isinstance(key, int) else f[key]
                scale = float(np.abs(rq).max())
                e = np.abs(np.asarray(g, np.float64) - rq) / scale
                sep = np.abs(rq - rf) / scale
                ck.check(f"{what}: median vs int8 reference", np.median(e) <= MEDIAN,
                         f"{np.median(e):.1e} (bound {MEDIAN:.0e}); int8 reference vs float "
                         f"{np.median(sep):.1e}; {np.mean(e > 1e-4):.1%} of values beyond 1e-4")
                ck.check(f"{what}: worst vs int8 reference", e.max() <= BOUND,
                         f"{e.max():.2e} (bound {BOUND:.0e}); int8 reference vs float "
                         f"{sep.max():.2e}")
                ck.check(f"{what}: follows the quantisation",
                         np.median(sep) >= FOLLOW * np.median(e),
                         f"median {np.median(sep) / max(np.median(e), 1e-30):.0f}x closer to the "
                         "int8 reference than it is to float")
            ck.check("int8 is not float32", rel(q["logits"], f["logits"]) > FLOOR,
                     f"{rel(q['logits'], f['logits']):.2e}")
            ck.check("all rows ok", bool(np.all(s["ok"][:] == 1)))
        with h5py.File(plain) as s:
            base = {k: s[k][:] for k in ("logits", "embedding")}

        for dp, pp, tp in ((2, 1, 1), (1, 2, 1), (1, 1, 2), (1, 2, 2)):
            n = dp * pp * tp
            outs = []
            for i in range(2):
                out = os.path.join(tmp, f"l{dp}{pp}{tp}_{i}.h5")
                run(mpi + [str(n)] + flags + [a.vitrun] + common +
                    ["--dp", str(dp), "--pp", str(pp), "--tp", str(tp), "--output", out],
                    timeout=300)
                with h5py.File(out) as o:
                    outs.append({k: o[k][:] for k in ("logits", "embedding")})
            name = f"dp {dp} x pp {pp} x tp {tp}"
            ck.check(f"{name}: two runs bit for bit",
                     all(np.array_equal(outs[0][k], outs[1][k]) for k in base))
            if tp == 1:
                ck.check(f"{name}: bit for bit one process's int8",
                         all(np.array_equal(outs[0][k], base[k]) for k in base),
                         f"{rel(outs[0]['logits'], base['logits']):.2e}")
            else:  # the same integers; partial sums in float, then level flips
                for k in base:
                    sc = float(np.abs(base[k]).max())
                    e = np.abs(outs[0][k].astype(np.float64) - base[k]) / sc
                    ck.check(f"{name}: {k} vs one process's int8",
                             np.median(e) <= MEDIAN and e.max() <= BOUND,
                             f"median {np.median(e):.1e} (bound {MEDIAN:.0e}), worst "
                             f"{e.max():.2e} (bound {BOUND:.0e})")

        calibration(ck, a, P, pixels, common, tmp)
        report_script(ck, a, model, inp, tmp)

        p = run([a.vitrun] + common + ["--gemm", "openblas", "--output",
                                       os.path.join(tmp, "x.h5")], check=False)
        ck.check("--gemm openblas --precision int8 refused (exit 2, saying why)",
                 p.returncode == 2 and "oneDNN" in p.stderr, p.stderr.strip()[-160:])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
