#!/usr/bin/env python3
"""A model run at another resolution than its checkpoint's, against the
reference's own resampling (tests/reference/resample_ref.py, itself checked
against torch's F.interpolate by check_resample.py).

For each library's rule: random parameters at 32x32 pixels (a 4x4 grid of
8-pixel patches) in that library's names, converted, then scored by vitrun
with --image-size 48 (6x6) and 56x40 (7x5: not square) (and, as the issue
asks, a model converted at 224 at 288 and 320x256), compared with
vit_ref on the same parameters whose position table resample_ref resampled
with the library's own arguments:
  timm         bicubic, antialias (class token kept; DINOv2-reg: patches only)
  hf           bicubic, size= (HF ViT; SigLIP without a class token)
  dinov2       bicubic, scale_factor (g + 0.1) / g0 (DINOv2's own files)
  torchvision  bicubic, align_corners
Also: the converter's --image-size gives the same numbers as vitrun's, the
layout pp 2 x tp 2 at the new size, and --plan shows the resampling.
"""
import os
import shlex
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))
import checkpoints  # noqa: E402
import resample_ref  # noqa: E402
import vit_ref  # noqa: E402
from testlib import PYTHON, Checker, run, test_parser  # noqa: E402


def torchvision_pos(pos, prefix, old, new):
    D = pos.shape[1]
    grid = np.asarray(pos[prefix:], np.float64).reshape(old[0], old[1], D).transpose(2, 0, 1)
    out = resample_ref.interpolate(grid, new[0], new[1], "bicubic", False, align_corners=True)
    return np.concatenate([pos[:prefix], out.transpose(1, 2, 0).reshape(-1, D)])


# case: (variant, options, eps, format, exporter(P, dir) -> path, converter options,
#        resample(pos, prefix, old_hw, new_hw) with the library's arguments)
CASES = {
    "timm": ("vit", {}, 1e-6, "timm", None, ["--act", "gelu", "--eps", "1e-6"],
             lambda p, n, o, w: resample_ref.resample_pos_embed(p, n, o, w, "timm")),
    # the sizes: a model converted at 224 (14x14 patches of 16) at 288 and 320x256
    "timm_224": ("vit", {}, 1e-6, "timm", None, ["--act", "gelu", "--eps", "1e-6"],
                 lambda p, n, o, w: resample_ref.resample_pos_embed(p, n, o, w, "timm")),
    "timm_dinov2_reg": ("dinov2_reg", {}, 1e-6, "timm", None,
                        ["--act", "gelu", "--eps", "1e-6", "--pooling", "cls_avg"],
                        lambda p, n, o, w: resample_ref.resample_pos_embed(p, n, o, w, "timm")),
    "hf_vit": ("vit", {}, 1e-12, "hf",
               lambda P, d: checkpoints.export_hf(P, d, [str(i) for i in range(11)]), [],
               lambda p, n, o, w: resample_ref.resample_pos_embed(p, n, o, w, "hf_vit")),
    "hf_siglip": ("siglip", {}, 1e-6, "hf", lambda P, d: checkpoints.export_hf_siglip(P, d), [],
                  lambda p, n, o, w: resample_ref.resample_pos_embed(p, n, o, w, "hf_siglip")),
    "dinov2": ("dinov2_reg", dict(reg_tokens=0, pos_mode="all", pool="cls", head="none"), 1e-6,
               "dinov2", lambda P, d: checkpoints.export_dinov2(P, os.path.join(d, "d.pth")),
               [], lambda p, n, o, w: resample_ref.resample_pos_embed(p, n, o, w, "dinov2")),
    "torchvision": ("vit", {}, 1e-6, "torchvision",
                    lambda P, d: checkpoints.export_torchvision(P, os.path.join(d, "v.pth")), [],
                    torchvision_pos),
}


def main():
    ap = test_parser()
    ap.add_argument("--case", choices=sorted(CASES), required=True)
    a = ap.parse_args()
    variant, options, eps, fmt, export, convert, resample = CASES[a.case]
    mpi = [a.mpiexec, a.np_flag, "4"] + shlex.split(a.mpi_flags)
    image, patch, C, H, hd, M, L, K, N = 32, 8, 3, 5, 12, 100, 3, 11, 3
    sizes = ((48, 48), (56, 40))
    if a.case == "timm_224":
        image, patch, L, N, sizes = 224, 16, 2, 2, ((288, 288), (320, 256))
    D = H * hd
    P = checkpoints.random_params(image, patch, C, D, L, H, M, K, eps, seed=21, variant=variant,
                                  **options)
    ck = Checker(f"resolution: {a.case} ({fmt} names)")
    with tempfile.TemporaryDirectory() as tmp:
        if export is None:
            src = checkpoints.export_timm(P, os.path.join(tmp, "vit.safetensors"))
        else:
            os.makedirs(os.path.join(tmp, "src"))
            src = export(P, os.path.join(tmp, "src"))
        model = os.path.join(tmp, "model.h5")
        conv = [PYTHON, os.path.join(a.scripts, "convert_checkpoint.py"), "--format", fmt, src]
        heads = [] if fmt == "hf" else ["--heads", str(H)]
        run(conv + [model] + heads + convert)
        prefix = 0 if P.get("pos_mode") == "patches" else \
            int(P.get("cls") is not None) + int(P.get("dist") is not None)
        for size in sizes:
            h, w = size
            old, new = (image // patch,) * 2, (h // patch, w // patch)
            Q = dict(P, pos=resample(P["pos"], prefix, old, new))
            px = np.random.default_rng(h).standard_normal((N, C, h, w)).astype(np.float32)
            inp = os.path.join(tmp, f"in{h}x{w}.h5")
            with h5py.File(inp, "w") as f:
                f["images"] = px
            ref = vit_ref.forward(Q, px.astype(np.float64))
            key = "logits" if "logits" in ref else "embedding"
            arg = f"{h}x{w}" if h != w else str(h)
            runs = [("vitrun --image-size", model, ["--image-size", arg], [])]
            conv_model = os.path.join(tmp, f"model{h}x{w}.h5")
            run(conv + [conv_model, "--image-size", arg] + heads + convert)
            runs.append(("convert_checkpoint.py --image-size", conv_model, [], []))
            if size == sizes[1]:
                runs.append(("pp 2 x tp 2", model, ["--image-size", arg],
                             mpi + []))
            for what, m, extra, launcher in runs:
                out = os.path.join(tmp, "out.h5")
                run(launcher + [a.vitrun, "--model", m, "--input", inp, "--output", out,
                                "--quiet", "--embeddings", "--no-normalize", "--batch", "2"] +
                    (["--logits"] if key == "logits" else []) + extra +
                    (["--pp", "2", "--tp", "2"] if launcher else []))
                with h5py.File(out) as f:
                    ck.close(f"{h}x{w}, {what}: {key}", f[key][:], ref[key], 2e-5)
                os.remove(out)
        h, w = sizes[1]
        plan = run([a.vitrun, "--model", model, "--plan", "--image-size", f"{h}x{w}"]).stdout
        g = image // patch
        ck.check("--plan names the resampling", f"position table resampled from {g}x{g}" in plan,
                 [ln for ln in plan.splitlines() if ln.startswith("input")][0])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
