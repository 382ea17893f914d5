#!/usr/bin/env python3
"""Writes a randomly initialised ViT in the vitrun format, one layer at a time.

    make_model.py --preset vit-b16 [--classes 1000] [--shards 4] OUT.h5
    make_model.py --image-size 32 --patch-size 8 --hidden 64 --layers 3 \
                  --heads 4 --mlp-dim 128 --classes 10 OUT.h5

For tests and benchmarks: the weights are seeded Gaussian noise of ViT-like
scale, so the activations exercise every code path.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vitrun_model as vm  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--preset", choices=sorted(vm.PRESETS))
    ap.add_argument("--image-size", type=int, default=224)
    ap.add_argument("--patch-size", type=int)
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--hidden", type=int)
    ap.add_argument("--layers", type=int)
    ap.add_argument("--heads", type=int)
    ap.add_argument("--mlp-dim", type=int)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--ln-eps", type=float, default=1e-6)
    ap.add_argument("--preprocess", choices=["hf", "torchvision", "timm"], default="torchvision")
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--labels", action="store_true", help="store names class_0, class_1, ...")
    a = ap.parse_args(argv)

    shape = dict(vm.PRESETS[a.preset]) if a.preset else {}
    for key, val in (("patch_size", a.patch_size), ("hidden_size", a.hidden),
                     ("num_layers", a.layers), ("num_heads", a.heads), ("mlp_dim", a.mlp_dim)):
        if val is not None:
            shape[key] = val
    missing = [k for k in ("patch_size", "hidden_size", "num_layers", "num_heads", "mlp_dim")
               if k not in shape]
    if missing:
        ap.error(f"give --preset or all of the explicit shapes (missing: {missing})")
    cfg = dict(shape, image_size=a.image_size, num_channels=a.channels,
               num_classes=a.classes, layer_norm_eps=a.ln_eps)
    D, M, L = cfg["hidden_size"], cfg["mlp_dim"], cfg["num_layers"]
    C, p = cfg["num_channels"], cfg["patch_size"]
    T = (cfg["image_size"] // p) ** 2 + 1
    rng = np.random.default_rng(a.seed)

    def normal(*shape, std=0.02):
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(std))

    labels = [f"class_{i}" for i in range(a.classes)] if a.labels else None
    try:
        w = vm.ModelWriter(a.out, cfg, vm.preprocess_preset(a.preprocess, a.image_size),
                           labels=labels, shards=a.shards, source=f"random seed {a.seed}")
    except ValueError as e:
        print(f"make_model.py: {a.out}: {e}", file=sys.stderr)
        return 2
    try:
        w.write_embed(normal(D, C, p, p, std=(1.0 / (C * p * p)) ** 0.5), normal(D),
                      normal(D), normal(T, D, std=0.1))
        for i in range(L):
            w.write_layer(i, dict(
                ln1_w=1 + normal(D, std=0.1), ln1_b=normal(D),
                q_w=normal(D, D, std=D ** -0.5), q_b=normal(D),
                k_w=normal(D, D, std=D ** -0.5), k_b=normal(D),
                v_w=normal(D, D, std=D ** -0.5), v_b=normal(D),
                proj_w=normal(D, D, std=D ** -0.5), proj_b=normal(D),
                ln2_w=1 + normal(D, std=0.1), ln2_b=normal(D),
                fc1_w=normal(M, D, std=D ** -0.5), fc1_b=normal(M),
                fc2_w=normal(D, M, std=M ** -0.5), fc2_b=normal(D)))
        w.write_head(1 + normal(D, std=0.1), normal(D), normal(a.classes, D, std=D ** -0.5),
                     normal(a.classes))
        w.close()
    except BaseException as e:
        w.abort()
        print(f"make_model.py: {a.out}: {e}", file=sys.stderr)
        return 2
    print(f"make_model.py: wrote {', '.join(w.files_written())}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
