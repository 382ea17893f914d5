"""Random ViT parameters, written out the way each library names them.

This is the inverse of scripts/convert_checkpoint.py, written separately from
it: parameters in vit_ref's terms go out as a HuggingFace folder, a
torchvision state dict or a timm state dict, so a test can run the real
converter on them and compare vitrun with the reference on the same numbers.
random_params(..., variant=...) also makes the ViT family's variants (DeiT
distilled, DeiT III, CLIP, SigLIP, DINOv2 with registers, avg pool with
fc_norm, qk_norm, SwiGLU); the HuggingFace and torchvision exporters take the
classic ViT only, export_timm_tensors() every variant.
"""
import json
import os
import struct

import numpy as np


# Each variant is a set of the options below, after a real model family.
VARIANTS = {
    "vit": {},  # classic: class token, GELU, final LayerNorm, linear head
    "deit_distilled": dict(dist_token=True, head="distilled"),
    "deit3": dict(pos_mode="patches", layer_scale=True),
    "clip": dict(patch_bias=False, norm_pre=True, act="quick_gelu", head="projection"),
    "siglip": dict(class_token=False, act="gelu_tanh", pool="map", head="none"),
    "dinov2_reg": dict(reg_tokens=4, pos_mode="patches", layer_scale=True, pool="cls_avg"),
    # timm vit_*_reg4_gap: no class token, registers, average pool, fc_norm
    "avg_fcnorm": dict(class_token=False, reg_tokens=4, pos_mode="patches", layer_scale=True,
                       pool="avg", final_norm="post_pool"),
    "qknorm": dict(qkv_bias=False, qk_norm=True),
    "swiglu": dict(act="swiglu", layer_scale=True),
}
# option: default (the classic ViT)
OPTIONS = dict(class_token=True, dist_token=False, reg_tokens=0, pos_mode="all", patch_bias=True,
               norm_pre=False, qkv_bias=True, qk_norm=False, layer_scale=False, act="gelu",
               final_norm="pre_pool", pool="cls", head="linear", pool_include_prefix=False)


def _normal(rng):
    return lambda *s, std=0.02: (rng.standard_normal(s) * std).astype(np.float32)


def random_params(image, patch, channels, hidden, layers, heads, mlp, classes, eps, seed,
                  variant="vit", **options):
    """Random parameters in vit_ref's terms.

    variant: a key of VARIANTS; options (keys of OPTIONS) override it one by
    one, e.g. random_params(..., variant="siglip", reg_tokens=2). The
    classic ViT's numbers are the same as before the variants existed; every
    extra parameter comes from a second generator. `classes` is the
    projection width E for head "projection" and unused for head "none";
    `mlp` is the hidden width M (for SwiGLU, of each of the gate and value).
    LayerScale gammas are drawn in [0.1, 1] (not timm's 1e-5 init) so a
    missing or misplaced gamma shows.
    """
    unknown = set(options) - set(OPTIONS)
    if variant not in VARIANTS or unknown:
        raise ValueError(f"variant {variant!r} / options {sorted(unknown)}: "
                         f"variants {sorted(VARIANTS)}, options {sorted(OPTIONS)}")
    o = {**OPTIONS, **VARIANTS[variant], **options}
    n = _normal(np.random.default_rng(seed))
    D, M = hidden, mlp
    n_prefix = int(o["class_token"]) + int(o["dist_token"]) + o["reg_tokens"]
    T = (image // patch) ** 2 + (n_prefix if o["pos_mode"] == "all" else 0)
    Pw = 2 * D if o["pool"] == "cls_avg" else D  # width of the pooled vector
    Nw = Pw if o["final_norm"] == "post_pool" else D
    P = dict(patch_w=n(D, channels, patch, patch, std=(channels * patch * patch) ** -0.5),
             patch_b=n(D, std=0.1), cls=n(D, std=0.5), pos=n(T, D, std=0.5),
             norm_w=1 + n(Nw, std=0.2), norm_b=n(Nw, std=0.1),
             head_w=n(classes, Pw, std=Pw ** -0.5), head_b=n(classes, std=0.1),
             heads=heads, eps=eps, layers=[])
    for _ in range(layers):
        P["layers"].append(dict(
            ln1_w=1 + n(D, std=0.2), ln1_b=n(D, std=0.1),
            wq=n(D, D, std=D ** -0.5), bq=n(D, std=0.1), wk=n(D, D, std=D ** -0.5),
            bk=n(D, std=0.1), wv=n(D, D, std=D ** -0.5), bv=n(D, std=0.1),
            wo=n(D, D, std=D ** -0.5), bo=n(D, std=0.1),
            ln2_w=1 + n(D, std=0.2), ln2_b=n(D, std=0.1),
            w1=n(M, D, std=D ** -0.5), b1=n(M, std=0.1), w2=n(D, M, std=M ** -0.5),
            b2=n(D, std=0.1)))

    # the variants: only keys that differ from the classic ViT are set
    rng = np.random.default_rng([seed, 1])
    n = _normal(rng)
    hd = D // heads
    for k in ("pos_mode", "act", "final_norm", "pool", "head", "pool_include_prefix"):
        if o[k] != OPTIONS[k]:
            P[k] = o[k]
    if not o["class_token"]:
        P["cls"] = None
    if o["dist_token"]:
        P["dist"] = n(D, std=0.5)
    if o["reg_tokens"]:
        P["reg"] = n(o["reg_tokens"], D, std=0.5)
    if not o["patch_bias"]:
        P["patch_b"] = None
    if o["norm_pre"]:
        P["norm_pre_w"], P["norm_pre_b"] = 1 + n(D, std=0.2), n(D, std=0.1)
    if o["final_norm"] == "none":
        del P["norm_w"], P["norm_b"]
    for L in P["layers"]:
        if not o["qkv_bias"]:
            L["bq"] = L["bk"] = L["bv"] = None
        if o["qk_norm"]:
            L.update(q_norm_w=1 + n(hd, std=0.2), q_norm_b=n(hd, std=0.1),
                     k_norm_w=1 + n(hd, std=0.2), k_norm_b=n(hd, std=0.1))
        if o["layer_scale"]:
            L["ls1"] = rng.uniform(0.1, 1.0, D).astype(np.float32)
            L["ls2"] = rng.uniform(0.1, 1.0, D).astype(np.float32)
        if o["act"] == "swiglu":
            L["w1g"], L["b1g"] = n(M, D, std=D ** -0.5), n(M, std=0.1)
    if o["pool"] == "map":
        P["map"] = dict(
            latent=n(1, D, std=0.5), wq=n(D, D, std=D ** -0.5), bq=n(D, std=0.1),
            wk=n(D, D, std=D ** -0.5), bk=n(D, std=0.1), wv=n(D, D, std=D ** -0.5),
            bv=n(D, std=0.1), wo=n(D, D, std=D ** -0.5), bo=n(D, std=0.1),
            norm_w=1 + n(D, std=0.2), norm_b=n(D, std=0.1),
            w1=n(M, D, std=D ** -0.5), b1=n(M, std=0.1), w2=n(D, M, std=M ** -0.5),
            b2=n(D, std=0.1))
    if o["head"] == "none":
        del P["head_w"], P["head_b"]
    elif o["head"] == "projection":
        del P["head_b"]
    elif o["head"] == "distilled":
        P["head_dist_w"], P["head_dist_b"] = n(classes, D, std=D ** -0.5), n(classes, std=0.1)
    return P


def non_classic(P):
    """The features of P beyond the classic ViT (empty for a classic one)."""
    f = [k for k in ("dist", "reg", "norm_pre_w", "map", "head_dist_w") if P.get(k) is not None]
    f += [k for k in ("pos_mode", "act", "final_norm", "pool", "head", "pool_include_prefix")
          if P.get(k, OPTIONS[k]) != OPTIONS[k]]
    f += [k for k in ("cls", "patch_b") if P.get(k) is None]
    for L in P["layers"][:1]:  # random_params makes every layer alike
        f += [k for k in ("bq", "bk", "bv", "bo", "b1", "b2") if L.get(k) is None]
        f += [k for k in ("q_norm_w", "ls1", "ls2", "w1g") if L.get(k) is not None]
    return f


def _classic_only(P, scheme):
    f = non_classic(P)
    if f:
        raise ValueError(f"the {scheme} exporter writes the classic ViT only; P has {f}")


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a, dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)


def _save(path, tensors):
    if path.endswith(".safetensors"):
        write_safetensors(path, tensors)
    else:
        import torch
        torch.save({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in tensors.items()}, path)


def hf_tensors(P):
    _classic_only(P, "HuggingFace")
    D = P["patch_w"].shape[0]
    e = "vit.embeddings."
    t = {e + "cls_token": P["cls"].reshape(1, 1, D), e + "position_embeddings": P["pos"][None],
         e + "patch_embeddings.projection.weight": P["patch_w"],
         e + "patch_embeddings.projection.bias": P["patch_b"],
         "vit.layernorm.weight": P["norm_w"], "vit.layernorm.bias": P["norm_b"],
         "classifier.weight": P["head_w"], "classifier.bias": P["head_b"]}
    for i, L in enumerate(P["layers"]):
        p = f"vit.encoder.layer.{i}."
        for ours, theirs in (("q", "attention.attention.query"), ("k", "attention.attention.key"),
                             ("v", "attention.attention.value"), ("o", "attention.output.dense")):
            t[p + theirs + ".weight"], t[p + theirs + ".bias"] = L["w" + ours], L["b" + ours]
        t[p + "layernorm_before.weight"], t[p + "layernorm_before.bias"] = L["ln1_w"], L["ln1_b"]
        t[p + "layernorm_after.weight"], t[p + "layernorm_after.bias"] = L["ln2_w"], L["ln2_b"]
        t[p + "intermediate.dense.weight"], t[p + "intermediate.dense.bias"] = L["w1"], L["b1"]
        t[p + "output.dense.weight"], t[p + "output.dense.bias"] = L["w2"], L["b2"]
    return t


def export_hf(P, folder, labels, weights_file="model.safetensors"):
    os.makedirs(folder, exist_ok=True)
    D, C, p, _ = P["patch_w"].shape
    grid = int(round((P["pos"].shape[0] - 1) ** 0.5))
    cfg = {"architectures": ["ViTForImageClassification"], "model_type": "vit",
           "hidden_size": D, "num_hidden_layers": len(P["layers"]),
           "num_attention_heads": P["heads"], "intermediate_size": P["layers"][0]["w1"].shape[0],
           "hidden_act": "gelu", "image_size": grid * p, "patch_size": p, "num_channels": C,
           "layer_norm_eps": P["eps"], "qkv_bias": True,
           "id2label": {str(i): s for i, s in enumerate(labels)},
           "label2id": {s: i for i, s in enumerate(labels)}}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    _save(os.path.join(folder, weights_file), hf_tensors(P))
    return folder


def export_torchvision(P, path, old_mlp_names=False):
    _save(path, _torchvision_tensors(P, old_mlp_names))
    return path


def _torchvision_tensors(P, old_mlp_names):
    _classic_only(P, "torchvision")
    D = P["patch_w"].shape[0]
    fc1, fc2 = ("mlp.linear_1", "mlp.linear_2") if old_mlp_names else ("mlp.0", "mlp.3")
    t = {"class_token": P["cls"].reshape(1, 1, D), "conv_proj.weight": P["patch_w"],
         "conv_proj.bias": P["patch_b"], "encoder.pos_embedding": P["pos"][None],
         "encoder.ln.weight": P["norm_w"], "encoder.ln.bias": P["norm_b"],
         "heads.head.weight": P["head_w"], "heads.head.bias": P["head_b"]}
    for i, L in enumerate(P["layers"]):
        p = f"encoder.layers.encoder_layer_{i}."
        t[p + "ln_1.weight"], t[p + "ln_1.bias"] = L["ln1_w"], L["ln1_b"]
        t[p + "self_attention.in_proj_weight"] = np.concatenate([L["wq"], L["wk"], L["wv"]])
        t[p + "self_attention.in_proj_bias"] = np.concatenate([L["bq"], L["bk"], L["bv"]])
        t[p + "self_attention.out_proj.weight"] = L["wo"]
        t[p + "self_attention.out_proj.bias"] = L["bo"]
        t[p + "ln_2.weight"], t[p + "ln_2.bias"] = L["ln2_w"], L["ln2_b"]
        t[p + fc1 + ".weight"], t[p + fc1 + ".bias"] = L["w1"], L["b1"]
        t[p + fc2 + ".weight"], t[p + fc2 + ".bias"] = L["w2"], L["b2"]
    return t


def export_timm(P, path, swiglu="packed"):
    _save(path, export_timm_tensors(P, swiglu))
    return path


def export_torchvision_safetensors(P, path):
    """A torchvision state dict in a .safetensors file (for format mix-up tests)."""
    t = _torchvision_tensors(P, False)
    write_safetensors(path, t)
    return path


def export_timm_tensors(P, swiglu="packed"):
    """P as the state dict of timm's VisionTransformer configured the same way
    (VisionTransformerDistilled for head "distilled"); the key set is exactly
    the model's, so it loads with strict=True.

    Where timm has a different shape or no parameter:
      head "projection" (CLIP proj): head.weight with a zero head.bias, as
          timm's own CLIP conversion writes it;
      head "none": no head.* (timm num_classes=0);
      pool "cls_avg": timm has no such pool; head.weight is (K, 2D), the one
          thing that tells it apart (a timm model loads the rest with head.*
          removed);
      swiglu "packed": mlp.fc1 = [gate; value] (timm SwiGLUPacked, i.e. GluMlp
          with gate_last=False, silu on the first half: DINOv2's w12);
          "split": mlp.fc1_g (gate) and mlp.fc1_x (value) (timm SwiGLU).
    timm ties the patch bias to norm_pre (bias = not pre_norm) and has one
    qkv bias for q, k and v; other combinations raise ValueError.
    """
    D = P["patch_w"].shape[0]
    t = {}

    def put(name, w, b=None):  # a Linear/LayerNorm: .weight, and .bias unless None
        t[name + ".weight"] = w
        if b is not None:
            t[name + ".bias"] = b

    def cat(*a):
        return None if a[0] is None else np.concatenate(a)

    if (P.get("patch_b") is None) != (P.get("norm_pre_w") is not None):
        raise ValueError("timm: a patch bias exactly when there is no norm_pre")
    # the tokens and pos_embed first, as timm's state_dict() has them
    for ours, theirs in (("cls", "cls_token"), ("dist", "dist_token"), ("reg", "reg_token")):
        if P.get(ours) is not None:
            t[theirs] = P[ours].reshape(1, -1, D)
    if P.get("pos") is not None:
        t["pos_embed"] = P["pos"][None]
    put("patch_embed.proj", P["patch_w"], P.get("patch_b"))
    if P.get("norm_pre_w") is not None:
        put("norm_pre", P["norm_pre_w"], P["norm_pre_b"])
    for i, L in enumerate(P["layers"]):
        p = f"blocks.{i}."
        put(p + "norm1", L["ln1_w"], L["ln1_b"])
        if len({L.get(k) is None for k in ("bq", "bk", "bv")}) > 1:
            raise ValueError("timm: bq, bk and bv all given or all None")
        put(p + "attn.qkv", cat(L["wq"], L["wk"], L["wv"]), cat(L.get("bq"), L.get("bk"), L.get("bv")))
        if L.get("q_norm_w") is not None:
            put(p + "attn.q_norm", L["q_norm_w"], L["q_norm_b"])
            put(p + "attn.k_norm", L["k_norm_w"], L["k_norm_b"])
        put(p + "attn.proj", L["wo"], L.get("bo"))
        if L.get("ls1") is not None:
            t[p + "ls1.gamma"], t[p + "ls2.gamma"] = L["ls1"], L["ls2"]
        put(p + "norm2", L["ln2_w"], L["ln2_b"])
        if P.get("act") != "swiglu":
            put(p + "mlp.fc1", L["w1"], L.get("b1"))
        elif swiglu == "packed":
            put(p + "mlp.fc1", cat(L["w1g"], L["w1"]), cat(L.get("b1g"), L.get("b1")))
        elif swiglu == "split":
            put(p + "mlp.fc1_g", L["w1g"], L.get("b1g"))
            put(p + "mlp.fc1_x", L["w1"], L.get("b1"))
        else:
            raise ValueError(f"swiglu={swiglu!r}: 'packed' or 'split'")
        put(p + "mlp.fc2", L["w2"], L.get("b2"))
    final_norm = P.get("final_norm", "pre_pool")
    if final_norm != "none":
        put("norm" if final_norm == "pre_pool" else "fc_norm", P["norm_w"], P["norm_b"])
    if P.get("pool") == "map":
        M, a = P["map"], "attn_pool."
        t[a + "latent"] = M["latent"].reshape(1, -1, D)
        put(a + "q", M["wq"], M.get("bq"))
        put(a + "kv", cat(M["wk"], M["wv"]), cat(M.get("bk"), M.get("bv")))  # k rows, then v
        put(a + "proj", M["wo"], M.get("bo"))
        put(a + "norm", M["norm_w"], M["norm_b"])
        put(a + "mlp.fc1", M["w1"], M.get("b1"))
        put(a + "mlp.fc2", M["w2"], M.get("b2"))
    head = P.get("head", "linear")
    if head in ("linear", "distilled"):
        put("head", P["head_w"], P.get("head_b"))
    elif head == "projection":
        put("head", P["head_w"], np.zeros(P["head_w"].shape[0], P["head_w"].dtype))
    if head == "distilled":
        put("head_dist", P["head_dist_w"], P.get("head_dist_b"))
    return t
