#!/usr/bin/env python3
"""Writes a randomly initialised ViT in the vitrun format, one layer at a time.

    make_model.py --preset vit-b16 [--classes 1000] [--shards 4] OUT.h5
    make_model.py --image-size 32 --patch-size 8 --hidden 64 --layers 3 \
                  --heads 4 --mlp-dim 128 --classes 10 OUT.h5
    make_model.py --preset vit-b16 --family clip OUT.h5

--family picks a family's variant settings (FAMILIES below); the single
options (--reg-tokens, --act, --pooling, --head, ...) override them.

For tests and benchmarks: the weights are seeded Gaussian noise of ViT-like
scale, so the activations exercise every code path.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vitrun_model as vm  # noqa: E402


# The variant settings of each family (docs/MODEL_FORMAT.md), as the
# converters write them for real checkpoints of it.
FAMILIES = {
    "vit": {},
    "deit": dict(dist_token=1, head="distilled"),
    "clip": dict(norm_pre=1, activation="quick_gelu", head="projection", layer_norm_eps=1e-5,
                 normalize_embedding=1),
    "siglip": dict(class_token=0, pos_embed="patches", activation="gelu_tanh", pooling="map",
                   head="none", normalize_embedding=1),
    "dinov2": dict(reg_tokens=4, pos_embed="patches", layer_scale=1, head="none"),
    "dinov2-linear": dict(layer_scale=1, pooling="cls_avg"),
    "avg": dict(pooling="avg", final_norm="post_pool"),
    # ViT-22B (Dehghani et al. 2023; timm ParallelScalingBlock): attention and MLP
    # in parallel on one LayerNorm, q/k norm, no qkv biases; an embedding tower
    "vit22b": dict(block="parallel", qk_norm=1, qkv_bias=0, pooling="avg", final_norm="pre_pool",
                   head="none", class_token=0, pos_embed="patches"),
}


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
    ap.add_argument("--classes", type=int, default=1000, help="ignored by heads without a classifier")
    ap.add_argument("--ln-eps", type=float, default=1e-6)
    ap.add_argument("--preprocess", choices=["hf", "torchvision", "timm"], default="torchvision")
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--labels", action="store_true", help="store names class_0, class_1, ...")
    ap.add_argument("--family", choices=sorted(FAMILIES), default="vit")
    ap.add_argument("--no-class-token", action="store_true")
    ap.add_argument("--dist-token", action="store_true", help="DeiT (implies --head distilled)")
    ap.add_argument("--reg-tokens", type=int)
    ap.add_argument("--pos-embed", choices=vm.CHOICES["pos_embed"])
    ap.add_argument("--norm-pre", action="store_true")
    ap.add_argument("--no-qkv-bias", action="store_true")
    ap.add_argument("--qk-norm", action="store_true")
    ap.add_argument("--layer-scale", action="store_true")
    ap.add_argument("--block", choices=("sequential", "parallel"),
                    help="parallel: ViT-22B's block, x + attn(ln1(x)) + mlp(ln1(x))")
    ap.add_argument("--act", choices=vm.CHOICES["activation"])
    ap.add_argument("--final-norm", choices=vm.CHOICES["final_norm"])
    ap.add_argument("--pooling", choices=vm.CHOICES["pooling"])
    ap.add_argument("--pool-mlp-dim", type=int, help="the attention-pool head's MLP (default: --mlp-dim)")
    ap.add_argument("--head", choices=vm.CHOICES["head"])
    ap.add_argument("--embed-dim", type=int, help="projection width (--head projection; default: hidden)")
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
    cfg.update(FAMILIES[a.family])
    cfg["pos_resample"] = "bicubic_antialias"  # as timm does it
    for key, val in (("class_token", 0 if a.no_class_token else None),
                     ("dist_token", 1 if a.dist_token else None),
                     ("head", "distilled" if a.dist_token else None),
                     ("reg_tokens", a.reg_tokens), ("pos_embed", a.pos_embed),
                     ("norm_pre", 1 if a.norm_pre else None),
                     ("qkv_bias", 0 if a.no_qkv_bias else None),
                     ("qk_norm", 1 if a.qk_norm else None),
                     ("layer_scale", 1 if a.layer_scale else None), ("block", a.block),
                     ("activation", a.act),
                     ("final_norm", a.final_norm), ("pooling", a.pooling), ("head", a.head)):
        if val is not None:
            cfg[key] = val
    if cfg.get("pooling") == "map":
        cfg["pool_mlp_dim"] = a.pool_mlp_dim or cfg["mlp_dim"]
    if cfg.get("head") == "projection":
        cfg["embed_dim"] = a.embed_dim or cfg["hidden_size"]
    try:
        cfg = vm.check_config(cfg)
    except ValueError as e:
        print(f"make_model.py: {a.out}: {e}", file=sys.stderr)
        return 2
    D, M, L = cfg["hidden_size"], cfg["mlp_dim"], cfg["num_layers"]
    C, p, K, hd = cfg["num_channels"], cfg["patch_size"], cfg["num_classes"], cfg["head_dim"]
    rng = np.random.default_rng(a.seed)

    def normal(*shape, std=0.02):
        return (rng.standard_normal(shape, dtype=np.float32) * np.float32(std))

    labels = [f"class_{i}" for i in range(K)] if a.labels and K else None
    try:
        w = vm.ModelWriter(a.out, cfg, vm.preprocess_preset(a.preprocess, a.image_size),
                           labels=labels, shards=a.shards, source=f"random seed {a.seed}")
    except ValueError as e:
        print(f"make_model.py: {a.out}: {e}", file=sys.stderr)
        return 2
    Pw = vm.pooled_width(cfg)
    on = lambda key, make: make() if cfg[key] else None
    try:
        w.write_embed(normal(D, C, p, p, std=(1.0 / (C * p * p)) ** 0.5), normal(D),
                      on("class_token", lambda: normal(D)), normal(vm.pos_count(cfg), D, std=0.1),
                      dist_token=on("dist_token", lambda: normal(D)),
                      reg_tokens=on("reg_tokens", lambda: normal(cfg["reg_tokens"], D, std=0.1)),
                      norm_pre=on("norm_pre", lambda: (1 + normal(D, std=0.1), normal(D))))
        for i in range(L):
            t = dict(
                ln1_w=1 + normal(D, std=0.1), ln1_b=normal(D),
                q_w=normal(D, D, std=D ** -0.5), q_b=normal(D),
                k_w=normal(D, D, std=D ** -0.5), k_b=normal(D),
                v_w=normal(D, D, std=D ** -0.5), v_b=normal(D),
                proj_w=normal(D, D, std=D ** -0.5), proj_b=normal(D),
                ln2_w=1 + normal(D, std=0.1), ln2_b=normal(D),
                fc1_w=normal(M, D, std=D ** -0.5), fc1_b=normal(M),
                fc2_w=normal(D, M, std=M ** -0.5), fc2_b=normal(D))
            if cfg["qk_norm"]:
                t.update(q_norm_w=1 + normal(hd, std=0.1), q_norm_b=normal(hd),
                         k_norm_w=1 + normal(hd, std=0.1), k_norm_b=normal(hd))
            if cfg["layer_scale"]:
                t.update(ls1=0.5 + normal(D, std=0.2), ls2=0.5 + normal(D, std=0.2))
            if cfg["activation"] == "swiglu":
                t.update(fc1g_w=normal(M, D, std=D ** -0.5), fc1g_b=normal(M))
            w.write_layer(i, t)
        pool = None
        if cfg["pooling"] == "map":
            Mp = cfg["pool_mlp_dim"]
            pool = dict(latent=normal(D, std=0.5), norm_w=1 + normal(D, std=0.1), norm_b=normal(D),
                        fc1_w=normal(Mp, D, std=D ** -0.5), fc1_b=normal(Mp),
                        fc2_w=normal(D, Mp, std=Mp ** -0.5), fc2_b=normal(D))
            for n in ("q", "k", "v", "proj"):
                pool[n + "_w"], pool[n + "_b"] = normal(D, D, std=D ** -0.5), normal(D)
        nw = Pw if cfg["final_norm"] == "post_pool" else D
        rows = cfg.get("embed_dim", K)
        w.write_head(1 + normal(nw, std=0.1), normal(nw), normal(rows, Pw, std=Pw ** -0.5),
                     normal(K), dist_weight=normal(K, D, std=D ** -0.5), dist_bias=normal(K),
                     pool=pool)
        w.close()
    except BaseException as e:
        w.abort()
        print(f"make_model.py: {a.out}: {e}", file=sys.stderr)
        return 2
    print(f"make_model.py: wrote {', '.join(w.files_written())}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
