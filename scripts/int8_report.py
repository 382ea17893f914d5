#!/usr/bin/env python3
"""int8 fidelity report: how far --precision int8 is from float32 on real
images, layer by layer and end to end.

Runs vitrun three times on the same input (any input that gives one output
file: a folder of images, a list file, an HDF5 image file): --int8-calibrate (every int8 matrix beside its float32 twin on float32
inputs: each matrix's relative output error), fp32, and int8 (with the keep
list the calibration gives at --threshold, unless --no-keep). Then it writes
a report (Markdown, and JSON with --json) with:

  - per matrix: relative error sqrt(sum (y8 - y32)^2 / sum y32^2), and
    whether it stays float32 at the threshold;
  - end to end, int8 against fp32: the cosine of each image's embedding
    (mean, 1st percentile, worst), top-1 agreement of the logits (models with
    a classifier head), the relative logit difference (median, worst);
  - with --labels FILE (vitrun's format: CLASS_INDEX PATH per line, in the
    rows' order): top-1 accuracy of both and the difference in points.

Extra vitrun options (a layout, --threads, --batch, --image-size) go after
`--`; they apply to all three runs. Example:

    /usr/bin/python3 scripts/int8_report.py --model vit.h5 --input calib/ \\
        --out out/int8-report [--labels labels.txt] [--threshold 0.05] \\
        [--keep-file vit.h5.int8] -- --threads 2 --batch 8

--keep-file writes the calibration where later int8 runs take it up
(MODEL.int8 applies by itself). Exit status: 0, or vitrun's on failure.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def find_vitrun(given):
    if given:
        return given
    for cand in (os.path.join(HERE, "..", "build", "vitrun"), shutil.which("vitrun")):
        if cand and os.path.exists(cand):
            return cand
    sys.exit("int8_report.py: no vitrun found: give --vitrun (or build it: cmake --build build)")


def run(cmd):
    print("+ " + " ".join(cmd), flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sys.stderr.write(p.stderr)
    if p.returncode:
        sys.exit(p.returncode)
    return p


def read_calibration(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, err, prec = line.split()
            rows.append((name, float(err), prec))
    return rows


def cosine(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    return (a * b).sum(1) / np.maximum(na * nb, 1e-300)


def read_labels(path, n):
    labels = []
    with open(path) as f:
        for line in f:
            if line.strip():
                labels.append(int(line.split()[0]))
    if len(labels) != n:
        sys.exit(f"int8_report.py: {path} has {len(labels)} labels for {n} rows")
    return np.array(labels)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--out", required=True, help="folder for the report and the runs' files")
    ap.add_argument("--vitrun", help="default: build/vitrun, else vitrun on PATH")
    ap.add_argument("--labels", help="CLASS_INDEX PATH lines in the rows' order")
    ap.add_argument("--threshold", type=float, default=0.05)
    ap.add_argument("--no-keep", action="store_true",
                    help="run int8 with every matrix quantised, whatever the calibration says")
    ap.add_argument("--keep-file", help="also copy the calibration here (e.g. MODEL.int8)")
    ap.add_argument("--json", action="store_true", help="also write report.json")
    ap.add_argument("extra", nargs="*", help="after --: options for every vitrun run")
    a = ap.parse_args()
    vitrun = find_vitrun(a.vitrun)
    os.makedirs(a.out, exist_ok=True)
    cal = os.path.join(a.out, "calibration.int8")
    f32, i8, calh5 = (os.path.join(a.out, n) for n in ("fp32.h5", "int8.h5", "calibrate.h5"))
    base = [vitrun, "--model", a.model, "--input", a.input, "--embeddings", "--logits",
            "--quiet"] + a.extra
    run(base + ["--int8-calibrate", cal, "--int8-threshold", str(a.threshold), "--output", calh5])
    run(base + ["--output", f32])
    keep = ["--int8-keep", "none" if a.no_keep else "@" + cal]
    run(base + ["--precision", "int8", "--output", i8] + keep)
    if a.keep_file:
        shutil.copy(cal, a.keep_file)

    layers = read_calibration(cal)
    with h5py.File(f32) as f, h5py.File(i8) as g:
        ok = f["ok"][:].astype(bool) & g["ok"][:].astype(bool)
        emb32, emb8 = f["embedding"][:][ok], g["embedding"][:][ok]
        lg32 = f["logits"][:][ok] if "logits" in f else None
        lg8 = g["logits"][:][ok] if "logits" in g else None
    n = int(ok.sum())
    cos = cosine(emb8, emb32)
    rep = {"model": a.model, "input": a.input, "images": n, "threshold": a.threshold,
           "kept_fp32": [] if a.no_keep else [r[0] for r in layers if r[2] == "fp32"],
           "layers": [{"matrix": r[0], "error": r[1], "precision": r[2]} for r in layers],
           "embedding_cosine": {"mean": float(cos.mean()), "p1": float(np.percentile(cos, 1)),
                                "min": float(cos.min())}}
    if lg32 is not None and lg32.shape[1] > 0:
        rel = np.abs(lg8 - lg32).max(1) / np.maximum(np.abs(lg32).max(1), 1e-30)
        rep["top1_agreement"] = float((lg8.argmax(1) == lg32.argmax(1)).mean())
        rep["logit_difference"] = {"median": float(np.median(rel)), "max": float(rel.max())}
        if a.labels:
            y = read_labels(a.labels, len(ok))[ok]
            acc32, acc8 = (float((x.argmax(1) == y).mean()) for x in (lg32, lg8))
            rep["accuracy"] = {"fp32": acc32, "int8": acc8, "points": 100 * (acc8 - acc32)}

    lines = [f"# int8 fidelity: {os.path.basename(a.model)}", "",
             f"{n} images from `{a.input}`; matrices over {a.threshold} kept float32: "
             f"{', '.join(rep['kept_fp32']) or 'none'}.", "",
             "| end to end (int8 vs fp32) | value |", "|---|---|",
             f"| embedding cosine, mean | {cos.mean():.6f} |",
             f"| embedding cosine, 1st percentile | {np.percentile(cos, 1):.6f} |",
             f"| embedding cosine, worst | {cos.min():.6f} |"]
    if "top1_agreement" in rep:
        lines += [f"| top-1 agreement | {100 * rep['top1_agreement']:.2f}% |",
                  f"| logit difference / largest logit, median | "
                  f"{rep['logit_difference']['median']:.2e} |",
                  f"| logit difference / largest logit, worst | "
                  f"{rep['logit_difference']['max']:.2e} |"]
    if "accuracy" in rep:
        acc = rep["accuracy"]
        lines += [f"| top-1 accuracy fp32 / int8 | {100 * acc['fp32']:.2f}% / "
                  f"{100 * acc['int8']:.2f}% ({acc['points']:+.2f} points) |"]
    lines += ["", "| matrix | relative error | precision |", "|---|---|---|"]
    lines += [f"| {m} | {e:.4f} | {p} |" for m, e, p in layers]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "report.md"), "w") as f:
        f.write(text)
    if a.json:
        with open(os.path.join(a.out, "report.json"), "w") as f:
            json.dump(rep, f, indent=1)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
