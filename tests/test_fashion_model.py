#!/usr/bin/env python3
"""The default model: vitrun on the demo's JPEG files agrees with PyTorch.

The committed models/fashion-vit.pth (torchvision state dict written by
scripts/train_default.py) is loaded into torchvision's VisionTransformer and
run on the same JPEG files the demo writes, decoded by Pillow and
normalised with the dataset's mean and std. vitrun scores the files with
models/fashion-vit.h5 (the converted model) under mpirun, pp=2 tp=2, with
--labels. Checked: the same top-1 on at least 99.9% of images (the issue's
bound), logits within 1e-4 of max |logit|, vitrun's reported top-1/top-5
accuracy equal to the accuracy of PyTorch's predictions, and the stored
class names. Needs python3-torch, Pillow and dataset-fashion-mnist
(scripts/install_deps.sh installs them).
"""
import os
import re
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from testlib import (SKIP, Checker, default_model_files, fashion_jpegs,  # noqa: E402
                     pillow_pixels, pytorch_logits, run, test_parser)


def main():
    ap = test_parser()
    ap.add_argument("--model", help="default: models/fashion-vit.h5 next to scripts/")
    ap.add_argument("--count", type=int, default=10000, help="test images to check")
    a = ap.parse_args()
    try:
        import torch  # noqa: F401
        from PIL import Image  # noqa: F401
    except ImportError as e:
        print(f"SKIPPED: needs python3-torch and python3-pil ({e})")
        return SKIP
    sys.path.insert(0, a.scripts)
    import fashion_mnist as fm
    files = default_model_files(a.scripts, a.model)
    if files is None:
        return 1
    model_h5, pth = files
    c = Checker(f"default model {os.path.basename(model_h5)} vs PyTorch on "
                f"{a.count} Fashion-MNIST test JPEGs")
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "fashion")
        got = fashion_jpegs(a.scripts, data, a.count)
        if got is None:
            return 1
        n, names, labels = got

        # PyTorch on Pillow's decoding of the same files
        ref = pytorch_logits(a.scripts, pth, pillow_pixels(os.path.join(data, "images"), names))

        out = os.path.join(tmp, "scores.h5")
        p = run([a.mpiexec, a.np_flag, "4"] + a.mpi_flags.split() +
                [a.vitrun, "--model", model_h5, "--input", os.path.join(data, "images"),
                 "--labels", os.path.join(data, "labels.txt"), "--output", out, "--logits",
                 "--pp", "2", "--tp", "2", "--batch", "64", "--threads", "1"], timeout=600)
        with h5py.File(out, "r") as f:
            paths = [s.decode() for s in f["path"][:]]
            ok = f["ok"][:]
            logits = f["logits"][:].astype(np.float64)
            top_label = [s.decode() for s in f["topk_label"][:, 0]]
        c.check("rows: every file, in order, all scored", paths == names and ok.all(),
                f"{len(paths)} rows, {int(ok.sum())} ok")
        got1, ref1 = logits.argmax(1), ref.argmax(1)
        same = float((got1 == ref1).mean())
        c.check("same top-1 as PyTorch on >= 99.9% of images", same >= 0.999,
                f"{100 * same:.2f}% ({int((got1 != ref1).sum())} differ)")
        c.close("logits vs PyTorch", logits, ref, 1e-4)
        top5 = np.argsort(-ref, 1)[:, :5]
        acc1 = int((ref1 == labels).sum())
        acc5 = int((top5 == labels[:, None]).any(1).sum())
        line = next((ln for ln in p.stderr.splitlines() if "accuracy" in ln), "")
        m = re.search(r"top-1 [\d.]+% \((\d+)\), top-5 [\d.]+% \((\d+)\)", line)
        c.check("vitrun's accuracy equals PyTorch's (top-1 and top-5 counts)",
                m is not None and (int(m.group(1)), int(m.group(2))) == (acc1, acc5),
                f"vitrun: {line.strip()!r}; PyTorch: top-1 {100 * acc1 / n:.2f}% ({acc1}), "
                f"top-5 {100 * acc5 / n:.2f}% ({acc5})")
        c.check("class names stored in the model",
                all(top_label[i] == fm.CLASSES[got1[i]] for i in range(n)),
                f"first row: {top_label[0]!r}")
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
