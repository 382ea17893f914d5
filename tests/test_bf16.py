#!/usr/bin/env python3
"""--precision bf16 on the default model: close to float32, same answers.

The demo's 10,000 Fashion-MNIST test JPEGs (as in test_fashion_model.py) are
scored by vitrun with models/fashion-vit.h5 in fp32 and in bf16 on one rank,
and in bf16 under mpirun pp=2 tp=2 (the tensor-parallel path), and compared
with PyTorch running models/fashion-vit.pth in float32 on Pillow's decoding.

Checked when `vitrun --version` says "bf16: yes":
  - top-1 of bf16 equals top-1 of vitrun fp32 and of PyTorch float32 on
    >= 99.5% of images (the issue's requirement);
  - per image, max |bf16 - PyTorch| / max |PyTorch logit|: the worst and the
    median under bounds set from measurement (below), and the median above
    1e-4, so that a run silently in fp32 does not pass as bf16;
  - bf16 rounds where it says it does: PyTorch emulating it (weights and the
    inputs of every linear layer rounded to bfloat16 as vitrun rounds them,
    float32 sums, LayerNorm, GELU, softmax and attention's two matmuls in
    float32, as runtime/attention.c does) gives the same logits to 1e-5 on
    most images; rounding in one place more or less leaves none that close;
  - the fallback: --gemm openblas --precision bf16 says "bf16 unavailable
    (...): running fp32" and gives the logits of --gemm openblas exactly.
When bf16 is not available (CPU without AVX512_BF16, vitrun without oneDNN)
the test says so and checks the fallback with the default GEMM on all the
images instead: the message, and logits identical to fp32.
"""
import os
import re
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from testlib import (Checker, fashion_jpegs, pillow_pixels,  # noqa: E402
                     precision_test_args, pytorch_logits, run, test_parser)

# Measured here (AVX512_BF16, oneDNN 2.6.3, 10,000 images), one rank and
# pp=2 tp=2 alike: top-1 agreement 99.89% with vitrun fp32 and with PyTorch;
# relative logit difference to PyTorch float32 worst 4.6e-2 (an image whose
# largest logit is 1.9), median 1.5e-3. PyTorch emulating bf16 is as far from
# float32 (worst 4.6e-2): that is bfloat16's 8-bit mantissa through 4
# layers, not vitrun. vitrun bf16 vs the emulation: 60% (1 rank) and 55%
# (pp=2 tp=2) of images within 1e-5; the others differ by an input rounded
# the other way after float32 sums in another order (worst 1e-2).
AGREE = 0.995          # the requirement
WORST_BOUND = 1e-1     # measured 4.6e-2
MEDIAN_BOUND = 5e-3    # measured 1.5e-3
MEDIAN_FLOOR = 1e-4    # fp32 gives 1.4e-7: below this, bf16 did not round
EMU_TOL, EMU_FRACTION = 1e-5, 0.25   # measured 0.60 / 0.55; wrong rounding: 0.00
FALLBACK = re.compile(r"bf16 unavailable \((.+?)\): running fp32")


def per_image(got, ref):
    """max |got - ref| / max |ref| of every row."""
    return np.abs(got - ref).max(1) / np.maximum(np.abs(ref).max(1), 1e-30)


def bf16_forward(heads, eps):
    """torchvision's ViT forward with vitrun's bf16 rounding points, on the
    state dict: every linear layer (patch embedding, qkv, attention output,
    MLP in and out, head) takes bfloat16-rounded inputs and weights and sums
    in float32 with a float32 bias; the rest is float32."""
    import torch
    import torch.nn.functional as F

    def bf(t):
        return t.to(torch.bfloat16).float()  # round to nearest even, as vr_to_bf16

    def linear(x, w, b):
        return bf(x) @ bf(w).T + b

    def forward(sd, x):
        w = sd["conv_proj.weight"]
        D, p = w.shape[0], w.shape[-1]
        B, C, H, _ = x.shape
        g = H // p
        patches = x.reshape(B, C, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(B, g * g, -1)
        h = linear(patches, w.reshape(D, -1), sd["conv_proj.bias"])
        h = torch.cat([sd["class_token"].expand(B, 1, D), h], 1) + sd["encoder.pos_embedding"]
        T, hd = h.shape[1], D // heads
        i = 0
        while f"encoder.layers.encoder_layer_{i}.ln_1.weight" in sd:
            P = {k.split(f"encoder_layer_{i}.", 1)[1]: v for k, v in sd.items()
                 if k.startswith(f"encoder.layers.encoder_layer_{i}.")}
            y = F.layer_norm(h, (D,), P["ln_1.weight"], P["ln_1.bias"], eps)
            qkv = linear(y, P["self_attention.in_proj_weight"], P["self_attention.in_proj_bias"])
            q, k, v = (t.reshape(B, T, heads, hd).transpose(1, 2) for t in qkv.split(D, -1))
            o = (torch.softmax(q @ k.transpose(-1, -2) / hd ** 0.5, -1) @ v)
            o = o.transpose(1, 2).reshape(B, T, D)
            h = h + linear(o, P["self_attention.out_proj.weight"], P["self_attention.out_proj.bias"])
            y = F.layer_norm(h, (D,), P["ln_2.weight"], P["ln_2.bias"], eps)
            y = F.gelu(linear(y, P["mlp.0.weight"], P["mlp.0.bias"]))
            h = h + linear(y, P["mlp.3.weight"], P["mlp.3.bias"])
            i += 1
        y = F.layer_norm(h[:, 0], (D,), sd["encoder.ln.weight"], sd["encoder.ln.bias"], eps)
        return linear(y, sd["heads.head.weight"], sd["heads.head.bias"])
    return forward


def main():
    t0 = time.time()
    ap = test_parser()
    ap.add_argument("--fallback-count", type=int, default=2000,
                    help="images for the --gemm openblas fallback check")
    a, model_h5, pth, code = precision_test_args(ap)
    if a is None:
        return code
    import h5py

    gemm = next((ln for ln in run([a.vitrun, "--version"]).stdout.splitlines()
                 if ln.startswith("GEMM:")), None)
    if gemm is None:
        print("FAIL: vitrun --version prints no 'GEMM:' line (bf16: yes/no)")
        return 1
    have_bf16 = "bf16: yes" in gemm
    c = Checker(f"--precision bf16 on {os.path.basename(model_h5)}, {a.count} Fashion-MNIST "
                f"test JPEGs" + ("" if have_bf16 else ": bf16 UNAVAILABLE, fallback only"))
    print(f"  vitrun --version: {gemm}")

    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "fashion")
        got = fashion_jpegs(a.scripts, data, a.count)
        if got is None:
            return 1
        n, names, labels = got
        images = os.path.join(data, "images")

        def score(tag, extra, inp=images, rows=names, ranks=1):
            """vitrun's logits and stderr; checks the rows."""
            out = os.path.join(tmp, f"scores-{len(os.listdir(tmp))}.h5")
            cmd = [a.vitrun, "--model", model_h5, "--input", inp, "--output", out, "--logits",
                   "--batch", "64", "--threads", "1"] + extra
            if ranks > 1:
                cmd = [a.mpiexec, a.np_flag, str(ranks)] + a.mpi_flags.split() + cmd
            t = time.time()
            p = run(cmd, timeout=300)
            with h5py.File(out, "r") as f:
                paths = [os.path.basename(s.decode()) for s in f["path"][:]]
                ok = f["ok"][:]
                logits = f["logits"][:].astype(np.float64)
            c.check(f"{tag}: every file scored, in order", paths == rows and ok.all(),
                    f"{len(paths)} rows, {int(ok.sum())} ok, {time.time() - t:.1f} s")
            return logits, p.stderr

        def fallback(tag, gemm_args, inp, rows):
            f32, _ = score(f"fp32{tag}", gemm_args, inp, rows)
            b, err = score(f"bf16 requested{tag}", gemm_args + ["--precision", "bf16"], inp, rows)
            m = FALLBACK.search(err)
            c.check(f"--precision bf16{tag} says it runs fp32", m is not None,
                    repr(m.group(0)) if m else f"stderr: {err.strip()[-400:]!r}")
            c.check(f"--precision bf16{tag}: logits identical to fp32", np.array_equal(b, f32),
                    f"max |difference| {np.abs(b - f32).max():.3e}")

        if not have_bf16:
            print("  NOTE: bf16 is not available with this CPU/build: only the fp32 fallback is "
                  "checked; bf16 accuracy is NOT tested here")
            fallback("", [], images, names)
            print(f"  test time {time.time() - t0:.1f} s")
            return c.finish()

        f32, _ = score("fp32, 1 rank", [])
        runs = {}
        b, err = score("bf16, 1 rank", ["--precision", "bf16"])
        runs["bf16 1 rank"] = (b, err)
        b, err = score("bf16, 4 ranks pp=2 tp=2",
                       ["--precision", "bf16", "--pp", "2", "--tp", "2"], ranks=4)
        runs["bf16 pp=2 tp=2"] = (b, err)

        px = pillow_pixels(images, names)
        ref = pytorch_logits(a.scripts, pth, px)
        sys.path.insert(0, a.scripts)
        import train_default
        net = train_default.build_model()
        emu = pytorch_logits(a.scripts, pth, px, forward=bf16_forward(
            net.encoder.layers[0].self_attention.num_heads, net.encoder.ln.eps))

        top1 = lambda x: x.argmax(1)  # noqa: E731
        r = per_image(f32, ref)
        c.check("fp32 vs PyTorch float32 (the baseline)",
                (top1(f32) == top1(ref)).all() and r.max() <= 1e-4,
                f"same top-1 on {100 * (top1(f32) == top1(ref)).mean():.2f}%, worst relative "
                f"logit difference {r.max():.2e} (bound 1e-04)")
        worst_seen = 0.0
        for tag, (b, err) in runs.items():
            c.check(f"{tag}: bf16 used (no fallback message)", not FALLBACK.search(err),
                    "" if not FALLBACK.search(err) else FALLBACK.search(err).group(0))
            for what, other in (("vitrun fp32", f32), ("PyTorch float32", ref)):
                same = (top1(b) == top1(other)).mean()
                c.check(f"{tag}: same top-1 as {what} on >= {100 * AGREE:.1f}% of images",
                        same >= AGREE, f"{100 * same:.2f}% ({int((top1(b) != top1(other)).sum())}"
                        f" of {n} differ)")
            r = per_image(b, ref)
            worst_seen = max(worst_seen, r.max())
            c.check(f"{tag}: logits vs PyTorch float32, worst image", r.max() <= WORST_BOUND,
                    f"relative difference {r.max():.2e} (image {names[r.argmax()]}, max |logit| "
                    f"{np.abs(ref[r.argmax()]).max():.2f}; bound {WORST_BOUND:.0e})")
            c.check(f"{tag}: logits vs PyTorch float32, median image",
                    MEDIAN_FLOOR <= np.median(r) <= MEDIAN_BOUND,
                    f"relative difference {np.median(r):.2e} (99th percentile "
                    f"{np.percentile(r, 99):.2e}; bounds {MEDIAN_FLOOR:.0e}, i.e. really rounded, "
                    f"to {MEDIAN_BOUND:.0e})")
            e = per_image(b, emu)
            close = (e <= EMU_TOL).mean()
            c.check(f"{tag}: rounds where PyTorch's bf16 emulation does", close >= EMU_FRACTION,
                    f"{100 * close:.1f}% of images within {EMU_TOL:.0e} (bound "
                    f"{100 * EMU_FRACTION:.0f}%), median {np.median(e):.1e}, worst {e.max():.1e}")
        r = per_image(emu, ref)
        print(f"  PyTorch's bf16 emulation vs float32: worst {r.max():.2e}, median "
              f"{np.median(r):.2e} (bf16 itself, not vitrun)")
        print(f"  worst relative logit difference bf16 vs PyTorch float32 seen: {worst_seen:.2e}")

        def acc(x):
            t5 = (np.argsort(-x, 1)[:, :5] == labels[:, None]).any(1).mean()
            return f"top-1 {100 * (top1(x) == labels).mean():.2f}%, top-5 {100 * t5:.2f}%"
        print(f"  accuracy: PyTorch float32 {acc(ref)}; vitrun fp32 {acc(f32)}")
        for tag, (b, _) in runs.items():
            print(f"  accuracy: vitrun {tag} {acc(b)}")

        # the fallback path, forced: OpenBLAS has no bfloat16 GEMM
        k = min(a.fallback_count, n)
        listing = os.path.join(data, "subset.txt")
        with open(listing, "w") as f:
            f.writelines(f"images/{name}\n" for name in names[:k])
        fallback(f" with --gemm openblas ({k} images)", ["--gemm", "openblas"], listing, names[:k])
    print(f"  test time {time.time() - t0:.1f} s")
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
