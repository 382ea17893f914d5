#!/usr/bin/env python3
"""Writes the one ViT-B/16 that bench/bench.py runs on every engine.

torchvision's vit_b_16 with seeded random weights (no pretrained weights can
be fetched here; speed does not depend on their values) is saved twice:

    OUT.pth   the state dict, for scripts/convert_checkpoint.py --format torchvision
    OUT.onnx  an ONNX graph exported by this torch, batch axis dynamic

and, with --check, ONNX Runtime (bench/ort_bench.js, node) runs the ONNX file
on one batch that torch also runs; the largest relative difference of the
logits (relative to the largest) is printed and must be under --tol. Usage:

    /usr/bin/python3 bench/export_onnx.py out/bench/vit_b_16 [--seed 0] [--check]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))


def build(seed, classes):
    torch.manual_seed(seed)
    m = torchvision.models.vit_b_16(weights=None, num_classes=classes)
    # torchvision starts the head at zero, which would make every logit 0 and the
    # output comparison empty: give it weights like the rest of the model.
    with torch.no_grad():
        m.heads.head.weight.normal_(0.0, 0.02)
        m.heads.head.bias.normal_(0.0, 0.02)
    return m.eval()


def export(m, path, opset):
    x = torch.randn(1, 3, 224, 224)
    # torchvision's input-size assert is traced as a constant; fine for 224 inputs.
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    tmp = path + ".tmp"
    # Traced with gradients on: under no_grad torch 1.13 takes nn.MultiheadAttention's
    # fast path, aten::_native_multi_head_attention, which has no ONNX export.
    with torch.enable_grad():
        torch.onnx.export(m, x, tmp, opset_version=opset, input_names=["images"],
                          output_names=["logits"], do_constant_folding=True,
                          dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
    os.replace(tmp, path)


def check(m, onnx_path, batch, threads, seed):
    """Runs one batch through torch and through ORT; returns the worst relative difference."""
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(batch, 3, 224, 224, generator=g)
    with torch.inference_mode():
        ref = m(x).numpy().astype(np.float64)
    with tempfile.TemporaryDirectory() as tmp:
        xin, yout = os.path.join(tmp, "x.f32"), os.path.join(tmp, "y.f32")
        x.numpy().astype("<f4").tofile(xin)
        r = subprocess.run(["node", os.path.join(HERE, "ort_bench.js"), "--model", onnx_path,
                            "--batch", str(batch), "--threads", str(threads), "--input", xin,
                            "--output", yout], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"ort_bench.js failed:\n{r.stderr}")
        info = json.loads(r.stdout.strip().splitlines()[-1])
        got = np.fromfile(yout, dtype="<f4").astype(np.float64).reshape(ref.shape)
    rel = float(np.abs(got - ref).max() / np.abs(ref).max())  # relative to the largest logit
    same_top5 = bool((np.argsort(-ref, 1)[:, :5] == np.argsort(-got, 1)[:, :5]).all())
    return rel, float(np.abs(got - ref).max()), same_top5, info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="path prefix: writes OUT.pth and OUT.onnx")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--opset", type=int, default=17, help="17 is the newest torch 1.13 writes")
    ap.add_argument("--check", action="store_true", help="compare ORT's logits with torch's")
    ap.add_argument("--check-batch", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tol", type=float, default=1e-4)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    m = build(a.seed, a.classes)
    torch.save(m.state_dict(), a.out + ".pth.tmp")
    os.replace(a.out + ".pth.tmp", a.out + ".pth")
    export(m, a.out + ".onnx", a.opset)
    print(f"wrote {a.out}.pth and {a.out}.onnx (torch {torch.__version__}, torchvision "
          f"{torchvision.__version__}, opset {a.opset}, seed {a.seed})")
    if a.check:
        rel, diff, top5, info = check(m, a.out + ".onnx", a.check_batch, a.threads, a.seed)
        print(f"ORT {info['version']} vs torch on {a.check_batch} images: max relative "
              f"difference {rel:.2e} (max abs {diff:.2e}), same top-5: {top5}")
        if rel > a.tol or not top5:
            print(f"export_onnx.py: ORT and torch disagree (bound {a.tol:g})", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
