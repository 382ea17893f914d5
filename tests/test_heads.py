#!/usr/bin/env python3
"""Zero-shot classification and score heads in the same pass, against numpy.

CLIP (a full CLIPModel folder: logit_scale kept by the converter) and SigLIP
(a full SiglipModel: logit_scale and logit_bias) towers from HF names:
- --zero-shot with class text embeddings as HDF5 and as .npy + names: the
  logits scale * cos(image, class) (+ bias), top-k indices, probabilities
  (softmax for CLIP, a sigmoid per class for SigLIP) and labels;
- --score-heads: an aesthetic-predictor-shaped MLP 768 -> 1024 -> 128 -> 64
  -> 16 -> 1 on the L2-normalised embedding and a linear + sigmoid head, as
  score_aesthetic and score_nsfw columns, in HDF5 and CSV;
- the same on pp 2 x tp 2, and a run killed and resumed bit-identical;
- refusals: class embeddings of another width, a .npy without names, a
  head of another input width, zero-shot on a model with a classifier,
  --logit-scale without --zero-shot, --embedding-dtype with no embedding.
"""
import csv
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))
import checkpoints  # noqa: E402
import vit_ref  # noqa: E402
from testlib import PYTHON, Checker, run, test_parser, topk_ok  # noqa: E402

E = 768  # the projection width: the aesthetic predictor's input


def normalize(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def mlp(x, layers):
    """layers: [(W, b, act)] in float64."""
    for W, b, act in layers:
        x = x @ W.T + b
        x = {"none": x, "relu": np.maximum(x, 0), "sigmoid": 1 / (1 + np.exp(-x))}[act]
    return x


def write_heads(path, heads):
    with h5py.File(path, "w") as f:
        for name, (norm, layers) in heads.items():
            g = f.create_group(f"heads/{name}")
            g.attrs["normalize_input"] = norm
            for i, (W, b, act) in enumerate(layers):
                lg = g.create_group(f"layer_{i:02d}")
                lg["weight"], lg["bias"] = W.astype(np.float32), b.astype(np.float32)
                lg.attrs["activation"] = np.array(act.encode(), dtype=h5py.string_dtype("utf-8",
                                                                                          len(act)))


def main():
    a = test_parser().parse_args()
    mpi = [a.mpiexec, a.np_flag, "4"] + shlex.split(a.mpi_flags)
    ck = Checker("zero-shot and score heads")
    rng = np.random.default_rng(4)
    image, N, K = 32, 7, 9
    names = [f"a photo of thing {i}" for i in range(K)]
    text = rng.standard_normal((K, E)).astype(np.float32)
    widths = [E, 1024, 128, 64, 16, 1]
    aesthetic = [(rng.standard_normal((widths[i + 1], widths[i])) * widths[i] ** -0.5,
                  rng.standard_normal(widths[i + 1]) * 0.1, "none") for i in range(5)]
    nsfw = [(rng.standard_normal((1, E)) * 0.05, np.array([0.3]), "sigmoid")]
    heads = {"aesthetic": (1, aesthetic), "nsfw": (0, nsfw)}
    with tempfile.TemporaryDirectory() as tmp:
        zs_h5, zs_npy, zs_names = (os.path.join(tmp, n) for n in ("c.h5", "c.npy", "c.txt"))
        with h5py.File(zs_h5, "w") as f:
            f["embeddings"] = text
            f.create_dataset("names", data=np.array(names, dtype=object),
                             dtype=h5py.string_dtype())
        np.save(zs_npy, text.astype(np.float64))
        with open(zs_names, "w") as f:
            f.write("\n".join(names) + "\n")
        head_file = os.path.join(tmp, "heads.h5")
        write_heads(head_file, heads)
        px = rng.standard_normal((N, 3, image, image)).astype(np.float32)
        inp = os.path.join(tmp, "in.h5")
        with h5py.File(inp, "w") as f:
            f["images"] = px

        for family, export, scale, bias in (
                ("clip", lambda P, d: checkpoints.export_hf_clip(P, d, full=True), 1 / 0.07, None),
                ("siglip", lambda P, d: checkpoints.export_hf_siglip(P, d, full=True), 10.0,
                 -10.0)):
            P = checkpoints.random_params(image, 8, 3, 60, 2, 5, 104, E, 1e-6, seed=9,
                                          variant=family)
            if family == "siglip":  # SigLIP's embedding is its width: project it for the heads
                P = checkpoints.random_params(image, 8, 3, E, 2, 12, 128, 1, 1e-6, seed=9,
                                              variant=family)
            src = export(P, os.path.join(tmp, family))
            model = os.path.join(tmp, family + ".h5")
            run([PYTHON, os.path.join(a.scripts, "convert_checkpoint.py"), "--format", "hf", src,
                 model])
            ref = vit_ref.forward(P, px.astype(np.float64))["embedding"]
            logits = scale * normalize(ref) @ normalize(text.astype(np.float64)).T
            if bias is not None:
                logits = logits + bias
                probs = 1 / (1 + np.exp(-logits))
            else:
                probs = vit_ref.softmax(logits)
            score = {n: mlp(normalize(ref) if norm else ref, layers)[:, 0]
                     for n, (norm, layers) in heads.items()}
            for zs in ([zs_h5], [zs_npy, "--zero-shot-names", zs_names]):
                for layout in ([], ["--pp", "2", "--tp", "2"]):
                    out = os.path.join(tmp, "o.h5")
                    what = (f"{family}, {os.path.basename(zs[0])}"
                            f"{', pp 2 x tp 2' if layout else ''}")
                    run((mpi if layout else []) + [a.vitrun, "--model", model, "--input", inp,
                                                   "--output", out, "--quiet", "--topk", "3",
                                                   "--logits", "--zero-shot"] + zs +
                        ["--score-heads", head_file, "--batch", "3"] + layout)
                    with h5py.File(out) as f:
                        ck.close(f"{what}: zero-shot logits", f["logits"][:], logits, 2e-5)
                        idx = f["topk_index"][:]
                        ck.check(f"{what}: top-3 classes", topk_ok(idx, logits, 3))
                        ck.close(f"{what}: top-3 probabilities", f["topk_prob"][:],
                                 np.take_along_axis(probs, idx.astype(np.int64), 1), 2e-5)
                        got = [s.decode() for s in f["topk_label"][:, 0]]
                        ck.check(f"{what}: labels are the class names",
                                 got == [names[i] for i in idx[:, 0]])
                        for n in heads:
                            ck.close(f"{what}: score_{n}", f[f"score_{n}"][:], score[n], 2e-5)
                    os.remove(out)
            out_csv = os.path.join(tmp, "o.csv")
            run([a.vitrun, "--model", model, "--input", inp, "--output", out_csv, "--quiet",
                 "--score-heads", head_file])
            with open(out_csv, newline="") as fh:
                rows = list(csv.DictReader(fh))
            ck.close(f"{family}: CSV score_aesthetic",
                     np.array([float(r["score_aesthetic"]) for r in rows]), score["aesthetic"],
                     2e-5)
            os.remove(out_csv)

        # killed and resumed: the same rows, scores included
        many = os.path.join(tmp, "many.h5")
        with h5py.File(many, "w") as f:
            f["images"] = rng.standard_normal((400, 3, image, image)).astype(np.float32)
        cmd = [a.vitrun, "--model", model, "--input", many, "--batch", "1", "--quiet",
               "--zero-shot", zs_h5, "--score-heads", head_file, "--logits"]
        full, part = os.path.join(tmp, "full.h5"), os.path.join(tmp, "part.h5")
        run(cmd + ["--output", full])
        p = subprocess.Popen(cmd + ["--output", part])
        for _ in range(400):
            time.sleep(0.02)
            if os.path.exists(part + ".journal") and os.path.getsize(part + ".journal") > 20000:
                break
        p.send_signal(signal.SIGKILL)
        p.wait()
        run(cmd + ["--output", part, "--resume"])
        with h5py.File(full) as f, h5py.File(part) as g:
            ck.check("killed and resumed: every column bit-identical",
                     all(np.array_equal(f[k][:], g[k][:]) for k in
                         ("logits", "topk_index", "topk_prob", "score_aesthetic", "score_nsfw")))

        def refused(what, extra, needle, m=model):
            r = subprocess.run([a.vitrun, "--model", m, "--input", inp, "--no-output"] + extra,
                               capture_output=True, text=True)
            ck.check(what, r.returncode == 2 and needle in r.stderr, r.stderr.strip()[-200:])

        bad = os.path.join(tmp, "bad.h5")
        with h5py.File(bad, "w") as f:
            f["embeddings"] = text[:, :100]
            f.create_dataset("names", data=np.array(names, dtype=object),
                             dtype=h5py.string_dtype())
        refused("class embeddings of another width", ["--zero-shot", bad], "expected float [K, 768]")
        refused("a .npy without names", ["--zero-shot", zs_npy], "--zero-shot-names")
        write_heads(bad, {"h": (0, [(np.ones((1, 100)), np.zeros(1), "none")])})
        refused("a head of another input width", ["--score-heads", bad], "(outputs, 768)")
        classifier = os.path.join(tmp, "vit.h5")
        run([PYTHON, os.path.join(a.scripts, "make_model.py"), "--image-size", "32",
             "--patch-size", "8", "--hidden", "48", "--layers", "1", "--heads", "4",
             "--mlp-dim", "64", "--classes", "5", classifier])
        refused("zero-shot on a model with a classifier", ["--zero-shot", zs_h5],
                "classifies itself", m=classifier)
        refused("--logit-scale without --zero-shot", ["--logit-scale", "100"],
                "go with --zero-shot")
        refused("--embedding-dtype f16 where no embedding is written",
                ["--embedding-dtype", "f16"], "add --embeddings", m=classifier)
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
