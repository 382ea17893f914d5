#!/usr/bin/env python3
"""`convert_checkpoint.py --format timm --arch NAME` on checkpoints of the
real shapes those names build, against the numpy reference.

Random weights of timm's deit_tiny_distilled_patch16_224 (distillation
token, 12 blocks of width 192) and vit_small_patch14_reg4_dinov2 (4
registers, positions over the patches, LayerScale, 37x37 patches of 14
pixels at 518) in timm's names, converted with only --arch: the settings
(activation, eps, heads, positions, head kind, preprocessing) come from
scripts/vit_archs.py. Also: an --arch of another depth is refused.
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))
import checkpoints  # noqa: E402
import vit_ref  # noqa: E402
from testlib import PYTHON, Checker, run, test_parser  # noqa: E402

# arch: (image, patch, D, layers, heads, MLP, classes, eps, variant, options)
ARCHS = {
    "deit_tiny_distilled_patch16_224": (224, 16, 192, 12, 3, 768, 1000, 1e-6, "deit_distilled",
                                        {}),
    "vit_small_patch14_reg4_dinov2": (518, 14, 384, 12, 6, 1536, 0, 1e-6, "dinov2_reg",
                                      dict(pool="cls", head="none")),
}


def main():
    a = test_parser(mpi=False).parse_args()
    ck = Checker("--arch NAME on the shapes it names")
    with tempfile.TemporaryDirectory() as tmp:
        for arch, (S, p, D, L, H, M, K, eps, variant, opts) in ARCHS.items():
            P = checkpoints.random_params(S, p, 3, D, L, H, M, K, eps, seed=3, variant=variant,
                                          **opts)
            src = checkpoints.export_timm(P, os.path.join(tmp, arch + ".safetensors"))
            model = os.path.join(tmp, arch + ".h5")
            run([PYTHON, os.path.join(a.scripts, "convert_checkpoint.py"), "--format", "timm",
                 src, model, "--arch", arch])
            px = np.random.default_rng(1).standard_normal((2, 3, S, S)).astype(np.float32)
            inp, out = os.path.join(tmp, "in.h5"), os.path.join(tmp, arch + ".out.h5")
            with h5py.File(inp, "w") as f:
                f["images"] = px
            run([a.vitrun, "--model", model, "--input", inp, "--output", out, "--quiet",
                 "--embeddings"] + (["--logits"] if K else []))
            ref = vit_ref.forward(P, px.astype(np.float64))
            with h5py.File(out) as f:
                ck.close(f"{arch}: embedding", f["embedding"][:], ref["embedding"], 2e-5)
                if K:
                    ck.close(f"{arch}: logits", f["logits"][:], ref["logits"], 2e-5)
            with h5py.File(model) as f:
                c = f["config"].attrs
                ck.check(f"{arch}: settings from the name", c["num_heads"] == H and
                         c["layer_norm_eps"] == eps and c["activation"] == b"gelu",
                         f"heads {c['num_heads']}, eps {c['layer_norm_eps']}")
        other = subprocess.run([PYTHON, os.path.join(a.scripts, "convert_checkpoint.py"),
                                "--format", "timm", src, os.path.join(tmp, "x.h5"), "--arch",
                                "vit_base_patch14_reg4_dinov2"], capture_output=True, text=True)
        ck.check("an --arch of another width is refused", other.returncode == 2 and
                 "is it the right --arch?" in other.stderr, other.stderr.strip()[-160:])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
