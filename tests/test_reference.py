#!/usr/bin/env python3
"""vitrun against the independent numpy reference, through the real converter.

Random parameters are written in one library's naming scheme, converted with
scripts/convert_checkpoint.py, scored by vitrun (with the activation dump),
and every intermediate is compared with tests/reference/vit_ref.py:
the embedding, each block's output, the pooled features and the logits, plus
the top-k rows of the HDF5 and CSV outputs.
"""
import argparse
import csv
import os
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))
import checkpoints  # noqa: E402
import vit_ref  # noqa: E402
from testlib import PYTHON, SKIP, Checker, run, topk_ok  # noqa: E402

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
HALF = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
# scheme: (exporter, file name, needs torch, LayerNorm eps, mean/std the library uses)
SCHEMES = {
    "hf": ("hf", "hf_model", False, 1e-12, HALF),
    "hf-bin": ("hf", "hf_model_bin", True, 1e-12, HALF),
    "torchvision": ("torchvision", "vit.pth", True, 1e-6, IMAGENET),
    "torchvision-old": ("torchvision", "vit_old.pth", True, 1e-6, IMAGENET),
    "timm": ("timm", "vit.safetensors", False, 1e-6, HALF),
    "timm-pth": ("timm", "vit_timm.pth", True, 1e-6, HALF),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vitrun", required=True)
    ap.add_argument("--scripts", required=True)
    ap.add_argument("--scheme", choices=sorted(SCHEMES), required=True)
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--input", choices=["uint8", "float32"], default="uint8")
    ap.add_argument("--bound", type=float, default=2e-5)  # issue: 1e-4; seen: 4e-7
    ap.add_argument("--gemm", default="auto", help="vitrun's GEMM back end")
    ap.add_argument("--head-dim", type=int, default=12,
                    help="12 by default; 16 takes the fused AVX-512 attention")
    a = ap.parse_args()
    fmt, fname, needs_torch, eps, (mean, std) = SCHEMES[a.scheme]
    if needs_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print(f"SKIPPED: scheme {a.scheme} writes a pickle and needs python3-torch")
            return SKIP

    # Odd sizes on purpose: 5 heads of 12, MLP 100, 11 classes, batch 2 over 5 images.
    image, patch, C, H, M, L, K, N = 32, 8, 3, 5, 100, 3, 11, 5
    D = H * a.head_dim
    P = checkpoints.random_params(image, patch, C, D, L, H, M, K, eps, seed=7)
    labels = [f"label {i}, \"quoted\"" for i in range(K)]
    ck = Checker(f"reference: scheme {a.scheme}, {a.shards} shard(s), {a.input} input, "
                 f"GEMM {a.gemm}, heads of {a.head_dim}, kernels "
                 f"{os.environ.get('VITRUN_MAX_ISA', 'the CPU best')}")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, fname)
        if fmt == "hf":
            checkpoints.export_hf(P, src, labels, "pytorch_model.bin" if a.scheme == "hf-bin"
                                  else "model.safetensors")
        elif fmt == "torchvision":
            checkpoints.export_torchvision(P, src, old_mlp_names=a.scheme.endswith("old"))
        else:
            checkpoints.export_timm(P, src)
        model = os.path.join(tmp, "model.h5")
        cmd = [PYTHON, os.path.join(a.scripts, "convert_checkpoint.py"), "--format", fmt,
               src, model, "--shards", str(a.shards)]
        if fmt != "hf":
            cmd += ["--heads", str(H)]
        if fmt == "timm":  # what timm's names cannot tell (or --arch NAME)
            cmd += ["--act", "gelu", "--eps", str(eps)]
        run(cmd)
        with h5py.File(model) as f:
            c, pre = f["config"].attrs, f["preprocess"].attrs
            # eps 1e-12 vs 1e-6 moves the logits by only ~1e-6: check it directly
            ck.check("LayerNorm eps follows the source library", c["layer_norm_eps"] == eps,
                     f"{c['layer_norm_eps']} vs {eps}")
            ck.check("preprocessing mean/std follow the source library",
                     np.allclose(pre["mean"], mean) and np.allclose(pre["std"], std))
        ck.check("converter wrote the shards asked for",
                 all(os.path.exists(os.path.join(tmp, f"model.shard-{k:02d}.h5"))
                     for k in range(a.shards)) if a.shards > 1 else os.path.exists(model))

        rng = np.random.default_rng(3)
        images = rng.integers(0, 256, size=(N, image, image, C), dtype=np.uint8)
        pixels = vit_ref.normalize_u8(images, mean, std)
        inp = os.path.join(tmp, "images.h5")
        with h5py.File(inp, "w") as f:
            if a.input == "uint8":
                f["images"] = images
            else:
                f["images"] = pixels.astype(np.float32)
            f.create_dataset("paths", data=np.array([f"img/{i}.jpg" for i in range(N)],
                                                    dtype=object), dtype=h5py.string_dtype())
        out, dump, out_csv = (os.path.join(tmp, n) for n in ("out.h5", "dump.h5", "out.csv"))
        run([a.vitrun, "--model", model, "--input", inp, "--output", out, "--batch", "2",
             "--topk", "3", "--logits", "--embeddings", "--dump-activations", dump, "--quiet",
             "--gemm", a.gemm])
        run([a.vitrun, "--model", model, "--input", inp, "--output", out_csv, "--batch", "3",
             "--topk", "3", "--logits", "--quiet", "--gemm", a.gemm])

        ref = vit_ref.forward(P, pixels)
        with h5py.File(dump) as d:
            ck.close("embedding output (N,T,D)", d["embed"][:], ref["embed"], a.bound)
            for i in range(L):
                ck.close(f"block {i} output (N,T,D)", d[f"block_{i:02d}"][:], ref["blocks"][i],
                         a.bound)
        with h5py.File(out) as f:
            ck.close("pooled embedding (N,D)", f["embedding"][:], ref["embedding"], a.bound)
            ck.close("logits (N,K)", f["logits"][:], ref["logits"], a.bound)
            probs = vit_ref.softmax(ref["logits"])
            idx = f["topk_index"][:]
            ck.check("top-3 indices match the reference", topk_ok(idx, ref["logits"], 3))
            ck.close("top-3 probabilities", f["topk_prob"][:],
                     np.take_along_axis(probs, idx.astype(np.int64), 1), a.bound)
            ck.check("every row ok, no error text",
                     bool(np.all(f["ok"][:] == 1)) and all(e in (b"", "") for e in f["error"][:]))
            paths = [p.decode() for p in f["path"][:]]
            ck.check("rows keep input order and names", paths == [f"img/{i}.jpg" for i in range(N)],
                     str(paths))
            if fmt == "hf":
                got = [s.decode() for s in f["topk_label"][:, 0]]
                ck.check("labels from id2label", got == [labels[i] for i in idx[:, 0]], str(got[:2]))
        with open(out_csv, newline="") as fh:
            rows = list(csv.DictReader(fh))
        lg = np.array([[float(r[f"logit_{j}"]) for j in range(K)] for r in rows])
        ck.close("CSV logits", lg, ref["logits"], a.bound)
        ck.check("CSV top-1 matches the reference",
                 topk_ok(np.array([[int(r["top1_index"])] for r in rows]), ref["logits"], 1))
        if fmt == "hf":
            ck.check("CSV label quoting survives", rows[0]["top1_label"] ==
                     labels[int(rows[0]["top1_index"])], rows[0]["top1_label"])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
