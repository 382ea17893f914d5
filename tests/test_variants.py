#!/usr/bin/env python3
"""The ViT family against the numpy reference, through the converters, on one
rank and on split layouts.

For one case (CASES: a variant of tests/reference/checkpoints.py written in
one library's names: timm for every variant; HF DeiT, CLIP, SigLIP and
DINOv2 folders; OpenCLIP/OpenAI CLIP and DINOv2's own files): random
parameters exported, converted with scripts/convert_checkpoint.py (what the
names cannot tell passed as --act/--eps/--heads/...), scored by vitrun with
the activation dump, and every intermediate compared with
tests/reference/vit_ref.py: the embedding, each block, the embedding or
projection (L2-normalised for CLIP and SigLIP towers, whose default that is;
also raw and as float16), the logits. Then the same on pp 2 x tp 2 and on an
uneven pipeline cut inside layers (--pp 3 --layers 1.5,2,0.5 of 4: the last
stage holds only the last block's MLP), whose outputs must also match.
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
import vit_ref  # noqa: E402
from testlib import PYTHON, Checker, run, test_parser, topk_ok  # noqa: E402

HALF = (0.5, 0.5, 0.5)
GELU = ["--act", "gelu", "--eps", "1e-6"]
# case: (variant, its options, eps, source format, exporter(P, folder) -> path,
#        converter options the names cannot tell (beyond --heads))
CASES = {
    # timm's names: every variant
    "vit": ("vit", {}, 1e-6, "timm", None, GELU),
    "deit_distilled": ("deit_distilled", {}, 1e-6, "timm", None, GELU),
    "deit3": ("deit3", {}, 1e-6, "timm", None, GELU),
    "clip": ("clip", {}, 1e-5, "timm", None, ["--act", "quick_gelu", "--eps", "1e-5",
                                              "--head", "projection"]),
    "siglip": ("siglip", {}, 1e-6, "timm", None, ["--act", "gelu_tanh", "--eps", "1e-6"]),
    "dinov2_reg": ("dinov2_reg", {}, 1e-6, "timm", None, GELU + ["--pooling", "cls_avg"]),
    "avg_fcnorm": ("avg_fcnorm", {}, 1e-6, "timm", None, GELU),
    "qknorm": ("qknorm", {}, 1e-6, "timm", None, GELU),
    "swiglu": ("swiglu", {}, 1e-6, "timm", None, ["--eps", "1e-6"]),
    "swiglu_split": ("swiglu", {}, 1e-6, "timm",
                     lambda P, d: checkpoints.export_timm(P, os.path.join(d, "s.safetensors"),
                                                          swiglu="split"), ["--eps", "1e-6"]),
    # ViT-22B's parallel block (timm ParallelScalingBlock), with separate and
    # fused (fuse_out_proj) output projections
    "parallel": ("parallel", {}, 1e-6, "timm", None, GELU),
    "parallel_fused": ("parallel", dict(class_token=False, pos_mode="patches", pool="avg",
                                        head="none"), 1e-6, "timm",
                       lambda P, d: checkpoints.export_timm(P, os.path.join(d, "p.safetensors"),
                                                            out_proj="fused"), GELU),
    # HF transformers folders: everything from config.json
    "hf_deit_distilled": ("deit_distilled", {}, 1e-12, "hf",
                          lambda P, d: checkpoints.export_hf_deit(P, d, LABELS), []),
    "hf_deit_linear": ("deit_distilled", dict(head="linear"), 1e-12, "hf",
                       lambda P, d: checkpoints.export_hf_deit(P, d, LABELS), []),
    "hf_clip": ("clip", {}, 1e-5, "hf", lambda P, d: checkpoints.export_hf_clip(P, d, full=True),
                []),
    "hf_clip_vision": ("clip", dict(head="none"), 1e-5, "hf",
                       lambda P, d: checkpoints.export_hf_clip(P, d, position_ids=True,
                                                               weights_file="pytorch_model.bin"),
                       []),
    "hf_siglip": ("siglip", {}, 1e-6, "hf",
                  lambda P, d: checkpoints.export_hf_siglip(P, d, full=True), []),
    "hf_dinov2_reg": ("dinov2_reg", {}, 1e-6, "hf",
                      lambda P, d: checkpoints.export_hf_dinov2(P, d, LABELS), []),
    "hf_dinov2": ("dinov2_reg", dict(reg_tokens=0, pos_mode="all", pool="cls", head="none"),
                  1e-6, "hf", lambda P, d: checkpoints.export_hf_dinov2(P, d, head=False), []),
    # OpenCLIP / OpenAI CLIP files: the activation is not in them
    "openclip": ("clip", {}, 1e-5, "openclip",
                 lambda P, d: checkpoints.export_open_clip(P, os.path.join(d, "oc.pt"),
                                                           module_prefix=True, wrap=True),
                 ["--act", "quick_gelu"]),
    "openclip_siglip": ("siglip", {}, 1e-6, "openclip",
                        lambda P, d: checkpoints.export_open_clip(P, os.path.join(d, "sig.pt")),
                        ["--act", "gelu_tanh", "--eps", "1e-6"]),
    # DINOv2's own files: a training teacher with chunked blocks, and SwiGLU
    "dinov2": ("dinov2_reg", dict(pool="cls", head="none"), 1e-6, "dinov2",
               lambda P, d: checkpoints.export_dinov2(P, os.path.join(d, "t.pth"), block_chunks=2,
                                                      wrap=True), []),
    "dinov2_swiglu": ("swiglu", dict(reg_tokens=4, pos_mode="patches", head="none"), 1e-6,
                      "dinov2", lambda P, d: checkpoints.export_dinov2(P, os.path.join(d, "g.pth")),
                      []),
}
LABELS = [f"class {i}" for i in range(11)]


def main():
    ap = test_parser()
    ap.add_argument("--case", choices=sorted(CASES), required=True)
    ap.add_argument("--bound", type=float, default=2e-5)  # issue: 1e-4
    ap.add_argument("--gemm", default="auto", help="vitrun's GEMM back end")
    a = ap.parse_args()
    variant, options, eps, fmt, export, convert = CASES[a.case]
    mpi = lambda n: [a.mpiexec, a.np_flag, str(n)] + shlex.split(a.mpi_flags)

    # 5 heads of 12, MLP 104, 11 classes (or a projection to 16), batch 2 over 5 images
    image, patch, C, H, hd, M, L, K, N = 32, 8, 3, 5, 12, 104, 4, 11, 5
    D = H * hd
    if variant == "clip":
        K = 16
    P = checkpoints.random_params(image, patch, C, D, L, H, M, K, eps, seed=11, variant=variant,
                                  **options)
    ck = Checker(f"{a.case}: {fmt} names, {', '.join(checkpoints.non_classic(P)) or 'classic'}; "
                 f"GEMM {a.gemm}, kernels {os.environ.get('VITRUN_MAX_ISA', 'the CPU best')}")
    with tempfile.TemporaryDirectory() as tmp:
        if export is None:
            src = checkpoints.export_timm(P, os.path.join(tmp, "vit.safetensors"))
        else:
            os.makedirs(os.path.join(tmp, "src"))
            src = export(P, os.path.join(tmp, "src"))
        model = os.path.join(tmp, "model.h5")
        heads = [] if fmt == "hf" else ["--heads", str(H)]
        run([PYTHON, os.path.join(a.scripts, "convert_checkpoint.py"), "--format", fmt, src,
             model, "--shards", "2"] + heads + convert)

        rng = np.random.default_rng(5)
        images = rng.integers(0, 256, size=(N, image, image, C), dtype=np.uint8)
        pixels = vit_ref.normalize_u8(images, HALF, HALF)
        inp = os.path.join(tmp, "images.h5")
        with h5py.File(inp, "w") as f:  # normalised already: each family has its preset
            f["images"] = pixels.astype(np.float32)
        ref = vit_ref.forward(P, pixels)
        classify = "logits" in ref
        with h5py.File(model) as f:
            normalized = int(f["config"].attrs["normalize_embedding"])
        tower = P.get("head") == "projection" or (P.get("pool") == "map" and
                                                  P.get("head") == "none")
        ck.check("CLIP and SigLIP towers write unit-norm embeddings by default, others not",
                 normalized == int(tower), str(normalized))
        if normalized:  # vitrun's embedding output, L2-normalised
            emb = ref["embedding"]
            ref["embedding"] = emb / np.linalg.norm(emb, axis=1, keepdims=True)

        out, dump = os.path.join(tmp, "out.h5"), os.path.join(tmp, "dump.h5")
        extra = ["--logits", "--topk", "3"] if classify else []
        run([a.vitrun, "--model", model, "--input", inp, "--output", out, "--batch", "2",
             "--embeddings", "--dump-activations", dump, "--quiet", "--gemm", a.gemm] + extra)
        with h5py.File(dump) as d:
            ck.close("embedding output: input to block 0 (N,T,D)", d["embed"][:], ref["embed"],
                     a.bound)
            for i in range(L):
                ck.close(f"block {i} output (N,T,D)", d[f"block_{i:02d}"][:], ref["blocks"][i],
                         a.bound)
        with h5py.File(out) as f:
            ck.close("embedding (N,E)", f["embedding"][:], ref["embedding"], a.bound)
            if classify:
                ck.close("logits (N,K)", f["logits"][:], ref["logits"], a.bound)
                ck.check("top-3 indices match the reference",
                         topk_ok(f["topk_index"][:], ref["logits"], 3))
            else:
                ck.check("no classifier: no top-k or logits columns",
                         "topk_index" not in f and "logits" not in f, str(list(f)))
            ck.check("every row ok", bool(np.all(f["ok"][:] == 1)))

        if normalized:  # the pooled feature as the model computes it, and float16
            o = os.path.join(tmp, "raw.h5")
            run([a.vitrun, "--model", model, "--input", inp, "--output", o, "--quiet",
                 "--no-normalize", "--embedding-dtype", "f16", "--gemm", a.gemm])
            o32 = os.path.join(tmp, "raw32.h5")
            run([a.vitrun, "--model", model, "--input", inp, "--output", o32, "--quiet",
                 "--no-normalize", "--gemm", a.gemm])
            with h5py.File(o) as f, h5py.File(o32) as f32:
                got = f["embedding"]
                ck.check("--embedding-dtype f16 stores float16", got.dtype == np.float16,
                         str(got.dtype))
                ck.close("--no-normalize: the pooled feature as computed", f32["embedding"][:],
                         emb, a.bound)
                ck.check("f16: numpy's rounding (nearest even) of the float32 embedding",
                         np.array_equal(got[:].view(np.uint16),
                                        f32["embedding"][:].astype(np.float16).view(np.uint16)))
        layouts = [("pp 2 x tp 2", 4, ["--pp", "2", "--tp", "2"]),
                   ("pp 3 uneven, cut inside layers 1 and 3", 3,
                    ["--pp", "3", "--layers", "1.5,2,0.5"])]
        if P.get("block") == "parallel":  # whole blocks only: a cut inside one is refused
            p = run(mpi(3) + [a.vitrun, "--model", model, "--input", inp, "--output",
                              os.path.join(tmp, "refused.h5"), "--pp", "3", "--layers",
                              "1.5,2,0.5"], check=False)
            ck.check("a parallel block cut between attention and MLP is refused (exit 2, "
                     "naming the parallel blocks), nothing written",
                     p.returncode == 2 and "parallel" in p.stderr and
                     not os.path.exists(os.path.join(tmp, "refused.h5")),
                     f"exit {p.returncode}: {p.stderr.strip()[-300:]}")
            layouts[1] = ("pp 3 uneven, whole blocks", 3, ["--pp", "3", "--layers", "2,1,1"])
        for name, n, layout in layouts:
            o = os.path.join(tmp, f"out_{n}.h5")
            run(mpi(n) + [a.vitrun, "--model", model, "--input", inp, "--output", o, "--batch", "2",
                       "--embeddings", "--quiet", "--gemm", a.gemm] + layout + extra)
            with h5py.File(o) as f:
                ck.close(f"{name}: embedding", f["embedding"][:], ref["embedding"], a.bound)
                if classify:
                    ck.close(f"{name}: logits", f["logits"][:], ref["logits"], a.bound)
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
