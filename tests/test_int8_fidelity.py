#!/usr/bin/env python3
"""--precision int8 on the default model: the issue's fidelity targets.

The demo's 10,000 Fashion-MNIST test JPEGs (as in test_fashion_model.py) are
scored by vitrun with models/fashion-vit.h5 in fp32 and in int8 on one rank,
and in int8 under mpirun pp=2 tp=2, and compared with vitrun fp32 and with
PyTorch running models/fashion-vit.pth in float32 on Pillow's decoding.

Checked when `vitrun --version` says "int8: yes":
  - top-1 of int8 equals top-1 of vitrun fp32 and of PyTorch float32 on
    >= 99.5% of images (the issue's target);
  - accuracy against the true labels within 0.3 points of fp32's (the
    issue's target);
  - per image, max |int8 - PyTorch| / max |PyTorch logit|: the worst and the
    median under bounds set from measurement (below), and the median above a
    floor, so that a run silently in fp32 does not pass as int8.
When int8 is not available the test says so and checks the refusal instead.
"""
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from testlib import (Checker, fashion_jpegs, pillow_pixels,  # noqa: E402
                     precision_test_args, pytorch_logits, run, test_parser)

# Measured here (AVX-512 VNNI, oneDNN 2.6.3, 10,000 images): top-1 as fp32
# and as PyTorch on 99.83% (17 images differ), on 1 rank and pp=2 tp=2;
# accuracy 89.38% (1 rank) and 89.43% (pp=2 tp=2) against fp32's 89.41%;
# relative logit difference to PyTorch worst 6.6e-2 / 7.1e-2, median
# 3.7e-3 (99th percentile 2.6e-2).
AGREE = 0.995          # the target
ACCURACY_POINTS = 0.3  # the target
WORST_BOUND = 1e-1     # measured 7.1e-2
MEDIAN_BOUND = 1e-2    # measured 3.7e-3
MEDIAN_FLOOR = 1e-4    # fp32 gives 1.4e-7: below this, int8 did not quantise


def per_image(got, ref):
    """max |got - ref| / max |ref| of every row."""
    return np.abs(got - ref).max(1) / np.maximum(np.abs(ref).max(1), 1e-30)


def main():
    t0 = time.time()
    a, model_h5, pth, code = precision_test_args(test_parser())
    if a is None:
        return code
    import h5py
    line = next((ln for ln in run([a.vitrun, "--version"]).stdout.splitlines()
                 if ln.startswith("int8:")), None)
    if line is None:
        print("FAIL: vitrun --version prints no 'int8:' line")
        return 1
    have = "int8: yes" in line
    c = Checker(f"--precision int8 on {os.path.basename(model_h5)}, {a.count} Fashion-MNIST "
                f"test JPEGs" + ("" if have else ": int8 UNAVAILABLE, refusal only"))
    print(f"  vitrun --version: {line}")

    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "fashion")
        got = fashion_jpegs(a.scripts, data, a.count)
        if got is None:
            return 1
        n, names, labels = got
        images = os.path.join(data, "images")

        def score(tag, extra, ranks=1, check=True):
            out = os.path.join(tmp, f"scores-{len(os.listdir(tmp))}.h5")
            cmd = [a.vitrun, "--model", model_h5, "--input", images, "--output", out,
                   "--logits", "--batch", "64", "--threads", "1"] + extra
            if ranks > 1:
                cmd = [a.mpiexec, a.np_flag, str(ranks)] + a.mpi_flags.split() + cmd
            t = time.time()
            p = run(cmd, timeout=300, check=check)
            if not check:
                return None, p
            with h5py.File(out, "r") as f:
                paths = [os.path.basename(s.decode()) for s in f["path"][:]]
                ok = f["ok"][:]
                logits = f["logits"][:].astype(np.float64)
            c.check(f"{tag}: every file scored, in order", paths == names and ok.all(),
                    f"{len(paths)} rows, {int(ok.sum())} ok, {time.time() - t:.1f} s")
            return logits, p

        if not have:
            _, p = score("int8 requested", ["--precision", "int8"], check=False)
            c.check("--precision int8 refused where unavailable (exit 2, saying why)",
                    p.returncode == 2 and "int8" in p.stderr, p.stderr.strip()[-200:])
            return c.finish()

        f32, _ = score("fp32, 1 rank", [])
        runs = {"int8 1 rank": score("int8, 1 rank", ["--precision", "int8"])[0],
                "int8 pp=2 tp=2": score("int8, 4 ranks pp=2 tp=2",
                                        ["--precision", "int8", "--pp", "2", "--tp", "2"],
                                        ranks=4)[0]}
        ref = pytorch_logits(a.scripts, pth, pillow_pixels(images, names))
        top1 = lambda x: x.argmax(1)  # noqa: E731
        accuracy = lambda x: 100 * float((top1(x) == labels).mean())  # noqa: E731
        r = per_image(f32, ref)
        c.check("fp32 vs PyTorch float32 (the baseline)",
                (top1(f32) == top1(ref)).all() and r.max() <= 1e-4,
                f"worst relative logit difference {r.max():.2e}")
        for tag, q in runs.items():
            for what, other in (("vitrun fp32", f32), ("PyTorch float32", ref)):
                same = (top1(q) == top1(other)).mean()
                c.check(f"{tag}: same top-1 as {what} on >= {100 * AGREE:.1f}% of images",
                        same >= AGREE, f"{100 * same:.2f}% ({int((top1(q) != top1(other)).sum())}"
                        f" of {n} differ)")
            d = accuracy(q) - accuracy(f32)
            c.check(f"{tag}: accuracy within {ACCURACY_POINTS} points of fp32",
                    abs(d) <= ACCURACY_POINTS,
                    f"{accuracy(q):.2f}% vs {accuracy(f32):.2f}% ({d:+.2f})")
            r = per_image(q, ref)
            c.check(f"{tag}: logits vs PyTorch float32, worst image", r.max() <= WORST_BOUND,
                    f"relative difference {r.max():.2e} (bound {WORST_BOUND:.0e})")
            c.check(f"{tag}: logits vs PyTorch float32, median image",
                    MEDIAN_FLOOR <= np.median(r) <= MEDIAN_BOUND,
                    f"relative difference {np.median(r):.2e} (99th percentile "
                    f"{np.percentile(r, 99):.2e}; bounds {MEDIAN_FLOOR:.0e}, i.e. really "
                    f"quantised, to {MEDIAN_BOUND:.0e})")
    print(f"  test time {time.time() - t0:.1f} s")
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
