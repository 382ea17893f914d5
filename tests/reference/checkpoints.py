"""Random ViT parameters, written out the way each library names them.

This is the inverse of scripts/convert_checkpoint.py, written separately from
it: parameters in vit_ref's terms go out as a HuggingFace folder, a
torchvision state dict or a timm state dict, so a test can run the real
converter on them and compare vitrun with the reference on the same numbers.
random_params(..., variant=...) also makes the ViT family's variants (DeiT
distilled, DeiT III, CLIP, SigLIP, DINOv2 with registers, avg pool with
fc_norm, qk_norm, SwiGLU); export_hf() and the torchvision exporters take the
classic ViT only, export_timm_tensors() every variant.

The family's own formats (see the section "More libraries" below):
  export_hf_deit      HF DeiTForImageClassification[WithTeacher]   (deit_distilled)
  export_hf_clip      HF CLIPVisionModel[WithProjection], CLIPModel (clip)
  export_hf_siglip    HF SiglipVisionModel, SiglipModel             (siglip)
  export_hf_dinov2    HF Dinov2[WithRegisters]Model / ...ForImageClassification (dinov2_reg)
  export_open_clip    OpenCLIP / OpenAI CLIP state dicts (clip; siglip as timm trunk)
  export_dinov2       facebookresearch/dinov2 backbones, export_dinov2_linear_head (dinov2_reg)
each with a *_tensors() function that returns the dict.
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
    # ViT-22B (timm ParallelScalingBlock): attention and MLP in parallel on one
    # LayerNorm, q/k norm, no qkv bias, one LayerScale for both branches
    "parallel": dict(block="parallel", qkv_bias=False, qk_norm=True, layer_scale=True),
}
# option: default (the classic ViT)
OPTIONS = dict(class_token=True, dist_token=False, reg_tokens=0, pos_mode="all", patch_bias=True,
               norm_pre=False, qkv_bias=True, qk_norm=False, layer_scale=False, act="gelu",
               final_norm="pre_pool", pool="cls", head="linear", pool_include_prefix=False,
               block="sequential")


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
    for k in ("pos_mode", "act", "final_norm", "pool", "head", "pool_include_prefix", "block"):
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
        if o["block"] == "parallel":  # one LayerNorm; timm's one gamma scales both branches
            del L["ln2_w"], L["ln2_b"]
            if o["layer_scale"]:
                L["ls2"] = L["ls1"]
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


# safetensors dtype of a numpy array: integers as I64 (HF's old position_ids
# buffers), float16 as F16, every other array as F32
_ST_DTYPES = {"i": ("I64", "<i8"), "u": ("I64", "<i8"), "f2": ("F16", "<f2")}


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, a in tensors.items():
        a = np.asarray(a)
        st, dt = _ST_DTYPES.get(a.dtype.kind, _ST_DTYPES.get(f"{a.dtype.kind}{a.dtype.itemsize}", ("F32", "<f4")))
        a = np.asarray(a, dtype=dt, order="C")  # keeps a 0-d array 0-d (logit_scale)
        header[name] = {"dtype": st, "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
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
        torch.save({k: torch.from_numpy(np.asarray(v, order="C")) for k, v in tensors.items()}, path)


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
        _hf_vit_layer(t, f"vit.encoder.layer.{i}.", L)
    return t


def _hf_vit_layer(t, p, L):
    """One HF ViTLayer / DeiTLayer (Linear weights as they are; a None bias is left out)."""
    for ours, theirs in (("q", "attention.attention.query"), ("k", "attention.attention.key"),
                         ("v", "attention.attention.value"), ("o", "attention.output.dense")):
        _put(t, p + theirs, L["w" + ours], L.get("b" + ours))
    _put(t, p + "layernorm_before", L["ln1_w"], L["ln1_b"])
    _put(t, p + "layernorm_after", L["ln2_w"], L["ln2_b"])
    _put(t, p + "intermediate.dense", L["w1"], L.get("b1"))
    _put(t, p + "output.dense", L["w2"], L.get("b2"))


def _put(t, name, w, b=None):
    """A Linear/LayerNorm/Conv: name.weight, and name.bias unless b is None."""
    t[name + ".weight"] = w
    if b is not None:
        t[name + ".bias"] = b


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


def export_timm(P, path, swiglu="packed", out_proj="separate"):
    _save(path, export_timm_tensors(P, swiglu, out_proj))
    return path


def export_torchvision_safetensors(P, path):
    """A torchvision state dict in a .safetensors file (for format mix-up tests)."""
    t = _torchvision_tensors(P, False)
    write_safetensors(path, t)
    return path


def _timm_parallel_block(t, put, cat, p, L, out_proj):
    """Layer L as timm's ParallelScalingBlock (vision_transformer.py): in_norm;
    in_proj's rows [fc1 (M); q; k; v (D each)], its bias all of theirs with
    qkv_bias, else a separate mlp_bias; q_norm, k_norm; attn_out_proj and
    mlp_out_proj, or (out_proj "fused", timm fuse_out_proj=True) one out_proj
    over [attention; MLP] columns with one bias; ls.gamma on their sum."""
    if L.get("w1g") is not None:
        raise ValueError("timm: ParallelScalingBlock has no SwiGLU")
    put(p + "in_norm", L["ln1_w"], L["ln1_b"])
    qkv_bias = L.get("bq") is not None
    put(p + "in_proj", np.concatenate([L["w1"], L["wq"], L["wk"], L["wv"]]),
        cat(L["b1"], L["bq"], L["bk"], L["bv"]) if qkv_bias else None)
    if not qkv_bias:
        t[p + "mlp_bias"] = L["b1"]
    if L.get("q_norm_w") is not None:
        put(p + "q_norm", L["q_norm_w"], L["q_norm_b"])
        put(p + "k_norm", L["k_norm_w"], L["k_norm_b"])
    if out_proj == "fused":
        put(p + "out_proj", np.concatenate([L["wo"], L["w2"]], axis=1),
            (L["bo"] + L["b2"]).astype(np.float32))
    elif out_proj == "separate":
        put(p + "attn_out_proj", L["wo"], L["bo"])
        put(p + "mlp_out_proj", L["w2"], L["b2"])
    else:
        raise ValueError(f"out_proj={out_proj!r}: 'separate' or 'fused'")
    if L.get("ls1") is not None:
        if L.get("ls2") is not L["ls1"] and not np.array_equal(L["ls2"], L["ls1"]):
            raise ValueError("timm: a parallel block has one LayerScale for both branches")
        t[p + "ls.gamma"] = L["ls1"]


def export_timm_tensors(P, swiglu="packed", out_proj="separate"):
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
        if P.get("block") == "parallel":
            _timm_parallel_block(t, put, cat, p, L, out_proj)
            continue
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


# ============================================================================
# More libraries: HF DeiT / CLIP / SigLIP / DINOv2, OpenCLIP (and OpenAI CLIP),
# DINOv2's own checkpoints.
#
# Each exporter writes the key set and shapes that the library's model has.
# Checked in float64 against vit_ref.forward (max rel. diff ~1e-15): OpenCLIP
# 89fb801 (CLIP, CustomTextCLIP with a timm trunk) and DINOv2 b8931f7 themselves,
# loading the exported dict with strict=True; transformers (not installable
# here) by reading modeling_*.py / configuration_*.py and running module trees
# with its attribute names (torch's own nn.MultiheadAttention for SigLIP's
# head), built from the exported config.json and its class defaults. Each
# exporter raises ValueError for a P its format cannot hold, and its docstring
# says what a converter must do.
# ============================================================================

# vit_ref act -> HF transformers' hidden_act. HF also spells the tanh GELU
# "gelu_new", "gelu_fast" and "gelu_accurate" (the same formula), and the erf
# one "gelu_python".
HF_ACT = {"gelu": "gelu", "gelu_tanh": "gelu_pytorch_tanh", "quick_gelu": "quick_gelu"}

# The transformers config classes' defaults, the values a config.json written
# by save_pretrained() leaves out (it writes only what differs from them).
# minimal_config=True drops these keys, as the hub files do: a converter must
# fill them in per model_type, and they differ per model_type (DeiT and plain
# Dinov2 default to eps 1e-12, CLIP to 1e-5, SigLIP and Dinov2WithRegisters to
# 1e-6; CLIP's act defaults to quick_gelu, SigLIP's to gelu_pytorch_tanh).
HF_DEFAULTS = {
    "deit": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                 hidden_act="gelu", layer_norm_eps=1e-12, image_size=224, patch_size=16, num_channels=3,
                 qkv_bias=True, encoder_stride=16),
    "clip_vision_model": dict(hidden_size=768, intermediate_size=3072, projection_dim=512, num_hidden_layers=12,
                              num_attention_heads=12, num_channels=3, image_size=224, patch_size=32,
                              hidden_act="quick_gelu", layer_norm_eps=1e-5),
    "clip_text_model": dict(vocab_size=49408, hidden_size=512, intermediate_size=2048, projection_dim=512,
                            num_hidden_layers=12, num_attention_heads=8, max_position_embeddings=77,
                            hidden_act="quick_gelu", layer_norm_eps=1e-5),
    "clip": dict(projection_dim=512, logit_scale_init_value=2.6592),
    "siglip_vision_model": dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                num_attention_heads=12, num_channels=3, image_size=224, patch_size=16,
                                hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6),
    "siglip_text_model": dict(vocab_size=32000, hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                              num_attention_heads=12, max_position_embeddings=64,
                              hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6),
    "siglip": {},
    "dinov2": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, mlp_ratio=4, hidden_act="gelu",
                   layer_norm_eps=1e-12, image_size=224, patch_size=16, num_channels=3, qkv_bias=True,
                   layerscale_value=1.0, use_swiglu_ffn=False),
    "dinov2_with_registers": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, mlp_ratio=4,
                                  hidden_act="gelu", layer_norm_eps=1e-6, image_size=224, patch_size=16,
                                  num_channels=3, qkv_bias=True, layerscale_value=1.0, use_swiglu_ffn=False,
                                  num_register_tokens=4),
}

# what a format can hold: each exporter widens these (the classic ViT's values)
_CLASSIC = dict(cls={True}, dist={False}, reg={False}, pos_mode={"all"}, act={"gelu"}, final_norm={"pre_pool"},
                pool={"cls"}, head={"linear"}, pool_include_prefix={False}, norm_pre={False}, patch_b={True},
                qkv_b={True}, out_b={True}, ls={False}, qk_norm={False})


def _features(P):
    L = P["layers"][0]

    def all_or_none(*keys):
        s = {L.get(k) is not None for k in keys}
        return s.pop() if len(s) == 1 else "mixed"
    return dict(cls=P.get("cls") is not None, dist=P.get("dist") is not None, reg=P.get("reg") is not None,
                pos_mode=P.get("pos_mode", "all"), act=P.get("act", "gelu"),
                final_norm=P.get("final_norm", "pre_pool"), pool=P.get("pool", "cls"),
                head=P.get("head", "linear"), pool_include_prefix=P.get("pool_include_prefix", False),
                norm_pre=P.get("norm_pre_w") is not None, patch_b=P.get("patch_b") is not None,
                qkv_b=all_or_none("bq", "bk", "bv"), out_b=all_or_none("bo", "b1", "b2"),
                ls=L.get("ls1") is not None, qk_norm=L.get("q_norm_w") is not None)


def _check(P, scheme, **allowed):
    """P's features, or ValueError naming those `scheme` cannot hold."""
    f, allowed = _features(P), {**_CLASSIC, **allowed}
    bad = [f"{k}={f[k]!r} (it holds {sorted(allowed[k], key=str)})" for k in allowed if f[k] not in allowed[k]]
    if P.get("pos") is None:
        bad.append("no pos")
    if f["head"] in ("linear", "distilled") and P.get("head_b") is None:
        bad.append("head_b None")
    if f["head"] == "distilled" and P.get("head_dist_b") is None:
        bad.append("head_dist_b None")
    if bad:
        raise ValueError(f"{scheme} cannot hold this P: " + ", ".join(bad))
    return f


def _geometry(P):
    """(D, C, p, image, N patches) from patch_w and the pos table."""
    D, C, p, _ = P["patch_w"].shape
    f = _features(P)
    N = P["pos"].shape[0] - (int(f["cls"]) + int(f["dist"]) + (0 if P.get("reg") is None else len(P["reg"]))
                             if f["pos_mode"] == "all" else 0)
    g = int(round(N ** 0.5))
    if g * g != N:
        raise ValueError(f"{N} patches: not a square grid")
    return D, C, p, g * p, N


def _cat(*a):
    return None if a[0] is None else np.concatenate(a)


def _labels(labels, K):
    labels = [f"LABEL_{i}" for i in range(K)] if labels is None else list(labels)
    if len(labels) != K:
        raise ValueError(f"{len(labels)} labels for {K} classes")
    return {"id2label": {str(i): s for i, s in enumerate(labels)}, "label2id": {s: i for i, s in enumerate(labels)}}


def _hf_config(model_type, minimal, **cfg):
    """cfg with model_type; minimal: without the keys equal to the class defaults."""
    d = HF_DEFAULTS[model_type]
    return {"model_type": model_type,
            **{k: v for k, v in cfg.items() if not (minimal and k in d and d[k] == v)}}


def _write_hf(folder, cfg, tensors, weights_file):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    _save(os.path.join(folder, weights_file), tensors)
    return folder


def fold_class_pos(cls, seed=0):
    """(cls', p0) with cls' + p0 == cls exactly, in float32 and in float64.

    For libraries whose position table covers [cls, patches] (DINOv2, HF
    Dinov2) writing a P of pos_mode "patches": the file gets class token cls'
    and position row 0 p0, so the library's cls' + p0 is P's class token to
    the last bit. p0 = trunc(u cls 64) / 64 with u uniform in (-1, 1): a
    multiple of 1/64 no larger than |cls|, so cls - p0 is exact in float32
    (for |cls| < 2^17) unless u < 0 carries it past the next power of two;
    there, and where |u cls| < 1/64, p0 is 0. A nonzero p0 makes a converter
    that drops pos[0] instead of adding it to the class token fail.
    """
    cls = np.asarray(cls, np.float32)
    u = np.random.default_rng([seed, 2]).uniform(-1, 1, cls.shape)
    p0 = (np.trunc(cls * u * 64) / 64).astype(np.float32)
    c = (cls - p0).astype(np.float32)
    exact = c.astype(np.float64) + p0.astype(np.float64) == cls.astype(np.float64)
    return np.where(exact, c, cls).astype(np.float32), np.where(exact, p0, 0).astype(np.float32)


def _pos_over_cls(P, scheme, seed):
    """(class token, pos table over [cls, patches]) for DINOv2-style files."""
    if P.get("pos_mode", "all") == "all":
        if P.get("dist") is not None or P.get("reg") is not None:
            raise ValueError(f"{scheme}: pos_mode 'all' would give the registers (dist) a position; "
                             "DINOv2 adds pos to [cls, patches] only")
        return P["cls"], P["pos"]
    cls, p0 = fold_class_pos(P["cls"], seed)
    return cls, np.concatenate([p0[None], P["pos"]])


def _dummy(shape, seed):
    """Deterministic filler for tensors a converter must skip (text towers, mask tokens)."""
    return (np.random.default_rng([seed, 3]).standard_normal(shape) * 0.02).astype(np.float32)


def _text_tower(width, mlp, layers=1, vocab=16, context=8, seed=0):
    """A small dummy text transformer in vit_ref's layer terms (token_embedding,
    positional_embedding, layers, final norm) for the full-model exporters."""
    n = _normal(np.random.default_rng([seed, 4]))
    Ls = [dict(ln1_w=1 + n(width), ln1_b=n(width), wq=n(width, width), bq=n(width), wk=n(width, width),
               bk=n(width), wv=n(width, width), bv=n(width), wo=n(width, width), bo=n(width),
               ln2_w=1 + n(width), ln2_b=n(width), w1=n(mlp, width), b1=n(mlp), w2=n(width, mlp), b2=n(width))
          for _ in range(layers)]
    return dict(tok=n(vocab, width), pos=n(context, width), layers=Ls, norm_w=1 + n(width), norm_b=n(width),
                width=width, mlp=mlp, vocab=vocab, context=context, heads=2)


# ---------------------------------------------------------------- HF DeiT

def hf_deit_tensors(P):
    """P (variant deit_distilled) as HF DeiTForImageClassificationWithTeacher's
    state dict, or with head "linear" as DeiTForImageClassification's.

    deit.embeddings.{cls_token, distillation_token} (1, 1, D),
    position_embeddings (1, 2 + N, D) over [cls, dist, patches],
    patch_embeddings.projection; deit.encoder.layer.N. as HF ViT
    (attention.attention.{query,key,value}, attention.output.dense,
    layernorm_before/after, intermediate.dense, output.dense); deit.layernorm;
    cls_classifier and distillation_classifier on tokens 0 and 1, logits their
    mean (WithTeacher), or classifier on token 0 (the distillation token is
    then computed and unused). No pooler. Real DeiT configs keep HF's eps
    default 1e-12 (timm's DeiT uses 1e-6): take layer_norm_eps from the file.
    The non-distilled facebook/deit-* models are ViTForImageClassification
    (model_type "vit"): export_hf.
    """
    f = _check(P, "HF DeiT", dist={True}, head={"linear", "distilled"}, act=set(HF_ACT), qkv_b={True, False})
    D = P["patch_w"].shape[0]
    e = "deit.embeddings."
    t = {e + "cls_token": P["cls"].reshape(1, 1, D), e + "distillation_token": P["dist"].reshape(1, 1, D),
         e + "position_embeddings": P["pos"][None]}
    _put(t, e + "patch_embeddings.projection", P["patch_w"], P["patch_b"])
    for i, L in enumerate(P["layers"]):
        _hf_vit_layer(t, f"deit.encoder.layer.{i}.", L)
    _put(t, "deit.layernorm", P["norm_w"], P["norm_b"])
    if f["head"] == "distilled":
        _put(t, "cls_classifier", P["head_w"], P["head_b"])
        _put(t, "distillation_classifier", P["head_dist_w"], P["head_dist_b"])
    else:
        _put(t, "classifier", P["head_w"], P["head_b"])
    return t


def export_hf_deit(P, folder, labels=None, weights_file="model.safetensors", minimal_config=False):
    t = hf_deit_tensors(P)
    D, C, p, image, _ = _geometry(P)
    arch = "DeiTForImageClassificationWithTeacher" if P.get("head") == "distilled" else "DeiTForImageClassification"
    cfg = _hf_config("deit", minimal_config, hidden_size=D, num_hidden_layers=len(P["layers"]),
                     num_attention_heads=P["heads"], intermediate_size=P["layers"][0]["w1"].shape[0],
                     hidden_act=HF_ACT[P.get("act", "gelu")], layer_norm_eps=P["eps"], image_size=image,
                     patch_size=p, num_channels=C, qkv_bias=P["layers"][0].get("bq") is not None,
                     encoder_stride=16)
    cfg = {"architectures": [arch], **cfg, **_labels(labels, P["head_w"].shape[0])}
    return _write_hf(folder, cfg, t, weights_file)


# ---------------------------------------------------------------- HF CLIP and SigLIP

def _hf_clip_layer(t, p, L):
    """One HF CLIPEncoderLayer / SiglipEncoderLayer."""
    for ours in "qkv":
        _put(t, f"{p}self_attn.{ours}_proj", L["w" + ours], L.get("b" + ours))
    _put(t, p + "self_attn.out_proj", L["wo"], L.get("bo"))
    _put(t, p + "layer_norm1", L["ln1_w"], L["ln1_b"])
    _put(t, p + "mlp.fc1", L["w1"], L.get("b1"))
    _put(t, p + "mlp.fc2", L["w2"], L.get("b2"))
    _put(t, p + "layer_norm2", L["ln2_w"], L["ln2_b"])


def _hf_text(t, T, position_ids):
    """The HF CLIP/SigLIP text_model.* of a dummy tower T (no projection or head)."""
    e = "text_model.embeddings."
    t[e + "token_embedding.weight"], t[e + "position_embedding.weight"] = T["tok"], T["pos"]
    if position_ids:
        t[e + "position_ids"] = np.arange(T["context"], dtype=np.int64)[None]
    for i, L in enumerate(T["layers"]):
        _hf_clip_layer(t, f"text_model.encoder.layers.{i}.", L)
    _put(t, "text_model.final_layer_norm", T["norm_w"], T["norm_b"])


def _hf_text_config(model_type, T, act, eps, minimal, **extra):
    return _hf_config(model_type, minimal, vocab_size=T["vocab"], hidden_size=T["width"],
                      intermediate_size=T["mlp"], num_hidden_layers=len(T["layers"]),
                      num_attention_heads=T["heads"], max_position_embeddings=T["context"], hidden_act=act,
                      layer_norm_eps=eps, **extra)


def hf_clip_tensors(P, full=False, position_ids=False):
    """P (variant clip) as HF CLIPVisionModelWithProjection's state dict
    (CLIPVisionModel's for head "none"); full: CLIPModel's, with a dummy text
    tower.

    vision_model.embeddings.class_embedding (D,), patch_embedding.weight (no
    bias), position_embedding.weight (1 + N, D) over [cls, patches];
    vision_model.pre_layrnorm (sic: norm_pre); vision_model.encoder.layers.N.
    {self_attn.{q,k,v,out}_proj, layer_norm1, mlp.fc1, mlp.fc2, layer_norm2};
    vision_model.post_layernorm (HF applies it to the pooled class token only:
    the same pooled vector as P's pre_pool norm); visual_projection.weight
    (E, D), a Linear weight without bias, i.e. P's head_w as it is (OpenCLIP's
    visual.proj is its transpose). full adds text_model.* (embeddings.
    token_embedding / position_embedding, encoder.layers.N., final_layer_norm),
    text_projection.weight (E, Dt) and logit_scale (0-d, log(1/0.07)): a
    converter keeps vision_model.* and visual_projection and skips the rest.
    position_ids: also the int64 embeddings.position_ids buffers that
    transformers < 4.31 saved (skip them). hidden_act is "quick_gelu" for
    OpenAI's CLIP but "gelu" for many LAION ones; eps 1e-5.
    """
    f = _check(P, "HF CLIP", patch_b={False}, norm_pre={True}, act=set(HF_ACT),
               final_norm={"pre_pool", "post_pool"}, head={"projection", "none"})
    if full and f["head"] != "projection":
        raise ValueError("HF CLIPModel: head 'projection' (visual_projection)")
    D = P["patch_w"].shape[0]
    v = "vision_model."
    e = v + "embeddings."
    t = {e + "class_embedding": P["cls"].reshape(D), e + "patch_embedding.weight": P["patch_w"],
         e + "position_embedding.weight": P["pos"]}
    if position_ids:
        t[e + "position_ids"] = np.arange(P["pos"].shape[0], dtype=np.int64)[None]
    _put(t, v + "pre_layrnorm", P["norm_pre_w"], P["norm_pre_b"])
    for i, L in enumerate(P["layers"]):
        _hf_clip_layer(t, f"{v}encoder.layers.{i}.", L)
    _put(t, v + "post_layernorm", P["norm_w"], P["norm_b"])
    if f["head"] == "projection":
        t["visual_projection.weight"] = P["head_w"]
    if full:
        T = _text_tower(16, 64)
        _hf_text(t, T, position_ids)
        t["text_projection.weight"] = _dummy((P["head_w"].shape[0], T["width"]), 1)
        t["logit_scale"] = np.array(np.log(1 / 0.07), np.float32)
    return t


def export_hf_clip(P, folder, full=False, weights_file="model.safetensors", position_ids=False,
                   minimal_config=False):
    t = hf_clip_tensors(P, full, position_ids)
    D, C, p, image, _ = _geometry(P)
    E = P["head_w"].shape[0] if P.get("head") == "projection" else None
    act = HF_ACT[P.get("act", "gelu")]
    vis = dict(hidden_size=D, intermediate_size=P["layers"][0]["w1"].shape[0], num_hidden_layers=len(P["layers"]),
               num_attention_heads=P["heads"], num_channels=C, image_size=image, patch_size=p, hidden_act=act,
               layer_norm_eps=P["eps"])
    if full:
        T = _text_tower(16, 64)
        cfg = {"architectures": ["CLIPModel"],
               **_hf_config("clip", minimal_config, projection_dim=E, logit_scale_init_value=2.6592),
               "text_config": _hf_text_config("clip_text_model", T, act, P["eps"], minimal_config, projection_dim=E),
               "vision_config": _hf_config("clip_vision_model", minimal_config, projection_dim=E, **vis)}
    else:
        arch = "CLIPVisionModelWithProjection" if E else "CLIPVisionModel"
        cfg = {"architectures": [arch], **_hf_config("clip_vision_model", minimal_config,
                                                      **(dict(projection_dim=E) if E else {}), **vis)}
    return _write_hf(folder, cfg, t, weights_file)


def hf_siglip_tensors(P, full=False, position_ids=False):
    """P (variant siglip) as HF SiglipVisionModel's state dict; full:
    SiglipModel's, with a dummy text tower.

    vision_model.embeddings.patch_embedding (with bias), position_embedding.
    weight (N, D) over the patches (no class token); vision_model.encoder.
    layers.N. as CLIP's; vision_model.post_layernorm on every token;
    vision_model.head: probe (1, 1, D) (P's map latent), attention is a
    torch nn.MultiheadAttention: in_proj_weight (3D, D) packs [Wq; Wk; Wv]
    and in_proj_bias [bq; bk; bv] (q from the probe, k and v from the
    tokens), attention.out_proj; layernorm; mlp.fc1/fc2 with the blocks'
    hidden_act and intermediate_size (the head's MLP has the blocks' width).
    hidden_act "gelu_pytorch_tanh" (= gelu_tanh), eps 1e-6: the hub configs
    leave both out (the class defaults). full adds text_model.* with
    text_model.head (Linear, the text pooler) and logit_scale, logit_bias of
    shape (1,) (log 10 and -10): skip them. SigLIP has no projection: the
    embedding is the MAP head's output.
    """
    _check(P, "HF SigLIP", cls={False}, act=set(HF_ACT), pool={"map"}, head={"none"})
    M, D = P["map"], P["patch_w"].shape[0]
    if M["latent"].shape != (1, D) or M["w1"].shape != P["layers"][0]["w1"].shape:
        raise ValueError("HF SigLIP: one latent, and a head MLP of the blocks' width")
    if any(M.get(k) is None for k in ("bq", "bk", "bv", "bo", "b1", "b2")):
        raise ValueError("HF SigLIP: the MAP head has every bias")
    v = "vision_model."
    e = v + "embeddings."
    t = {}
    _put(t, e + "patch_embedding", P["patch_w"], P["patch_b"])
    t[e + "position_embedding.weight"] = P["pos"]
    if position_ids:
        t[e + "position_ids"] = np.arange(P["pos"].shape[0], dtype=np.int64)[None]
    for i, L in enumerate(P["layers"]):
        _hf_clip_layer(t, f"{v}encoder.layers.{i}.", L)
    _put(t, v + "post_layernorm", P["norm_w"], P["norm_b"])
    h = v + "head."
    t[h + "probe"] = M["latent"].reshape(1, 1, D)
    t[h + "attention.in_proj_weight"] = np.concatenate([M["wq"], M["wk"], M["wv"]])
    t[h + "attention.in_proj_bias"] = np.concatenate([M["bq"], M["bk"], M["bv"]])
    _put(t, h + "attention.out_proj", M["wo"], M["bo"])
    _put(t, h + "layernorm", M["norm_w"], M["norm_b"])
    _put(t, h + "mlp.fc1", M["w1"], M["b1"])
    _put(t, h + "mlp.fc2", M["w2"], M["b2"])
    if full:
        T = _text_tower(D, P["layers"][0]["w1"].shape[0])
        _hf_text(t, T, position_ids)
        _put(t, "text_model.head", _dummy((D, D), 2), _dummy((D,), 3))
        t["logit_scale"] = np.array([np.log(10.0)], np.float32)
        t["logit_bias"] = np.array([-10.0], np.float32)
    return t


def export_hf_siglip(P, folder, full=False, weights_file="model.safetensors", position_ids=False,
                     minimal_config=False):
    t = hf_siglip_tensors(P, full, position_ids)
    D, C, p, image, _ = _geometry(P)
    act = HF_ACT[P.get("act", "gelu")]
    vis = _hf_config("siglip_vision_model", minimal_config, hidden_size=D,
                     intermediate_size=P["layers"][0]["w1"].shape[0], num_hidden_layers=len(P["layers"]),
                     num_attention_heads=P["heads"], num_channels=C, image_size=image, patch_size=p,
                     hidden_act=act, layer_norm_eps=P["eps"])
    if full:
        T = _text_tower(D, P["layers"][0]["w1"].shape[0])
        cfg = {"architectures": ["SiglipModel"], **_hf_config("siglip", minimal_config),
               "text_config": _hf_text_config("siglip_text_model", T, act, P["eps"], minimal_config),
               "vision_config": vis}
    else:
        cfg = {"architectures": ["SiglipVisionModel"], **vis}
    return _write_hf(folder, cfg, t, weights_file)


# ---------------------------------------------------------------- HF DINOv2

def _dinov2_mlp_ratio(D, M, swiglu):
    """An mlp_ratio whose hidden width is M (DINOv2 stores no hidden width):
    hidden = int(D * mlp_ratio), for SwiGLU then (int(hidden * 2 / 3) + 7) // 8 * 8."""
    for h in ([4 * D] if swiglu else []) + list(range(1, 4 * M + 16)):
        width = (int(h * 2 / 3) + 7) // 8 * 8 if swiglu else h
        r = h // D if h % D == 0 else h / D
        if width == M and int(D * r) == h:
            return r
    raise ValueError(f"DINOv2: no mlp_ratio gives hidden width {M} for D {D}" +
                     (" (SwiGLU widths are multiples of 8)" if swiglu else ""))


def _dinov2_check(P, scheme, acts, **more):
    f = _check(P, scheme, reg={True, False}, pos_mode={"all", "patches"}, act=acts, pool={"cls", "cls_avg"},
               head={"linear", "none"}, qkv_b={True, False}, ls={True, False}, **more)
    if f["head"] == "linear" and f["pool"] != "cls_avg":
        raise ValueError(f"{scheme}: the linear head is on [cls, mean of the patches] (pool 'cls_avg')")
    return f


def hf_dinov2_tensors(P, head=None, pos0_seed=0):
    """P (variant dinov2_reg; reg_tokens=0 for plain DINOv2) as HF
    Dinov2WithRegistersModel's state dict (Dinov2Model's without registers);
    with P's head (pool "cls_avg", head "linear") and head not False, as
    Dinov2[WithRegisters]ForImageClassification's.

    embeddings.cls_token (1, 1, D), mask_token (1, D) (unused at inference:
    skip it), register_tokens (1, R, D), patch_embeddings.projection,
    position_embeddings (1, 1 + N, D) over [cls, patches]: the library adds it
    to [cls, patches], then inserts the registers after the class token, so
    the registers get no position. A P of pos_mode "patches" is written with
    the class token and pos row 0 split by fold_class_pos(): the converter
    must add position_embeddings[0] to the class token. encoder.layer.N.
    {norm1, attention.attention.{query,key,value}, attention.output.dense,
    layer_scale1.lambda1, norm2, mlp.fc1/fc2 (SwiGLU: mlp.weights_in =
    [gate; value] (silu on the first half), mlp.weights_out),
    layer_scale2.lambda1}; layernorm. HF always has the LayerScales: a P
    without them is written with lambda1 = 1. The config has mlp_ratio, no
    hidden width (_dinov2_mlp_ratio). The classifier (prefix dinov2. or
    dinov2_with_registers. on everything else) takes [token 0, mean of the
    patch tokens] (registers excluded), width 2D. hidden_act "gelu" (unused
    for SwiGLU), eps 1e-6 in the hub configs (Dinov2Config's default 1e-12).
    """
    f = _dinov2_check(P, "HF DINOv2", {"gelu", "gelu_tanh", "quick_gelu", "swiglu"})
    with_head = f["head"] == "linear" and head is not False
    D = P["patch_w"].shape[0]
    cls, pos = _pos_over_cls(P, "HF DINOv2", pos0_seed)
    b = ("dinov2_with_registers." if f["reg"] else "dinov2.") if with_head else ""
    e = b + "embeddings."
    t = {e + "cls_token": cls.reshape(1, 1, D), e + "mask_token": _dummy((1, D), 4)}
    if f["reg"]:
        t[e + "register_tokens"] = P["reg"].reshape(1, -1, D)
    t[e + "position_embeddings"] = pos[None]
    _put(t, e + "patch_embeddings.projection", P["patch_w"], P["patch_b"])
    ones = np.ones(D, np.float32)
    for i, L in enumerate(P["layers"]):
        p = f"{b}encoder.layer.{i}."
        _put(t, p + "norm1", L["ln1_w"], L["ln1_b"])
        for ours, theirs in (("q", "query"), ("k", "key"), ("v", "value")):
            _put(t, f"{p}attention.attention.{theirs}", L["w" + ours], L.get("b" + ours))
        _put(t, p + "attention.output.dense", L["wo"], L["bo"])
        t[p + "layer_scale1.lambda1"] = L["ls1"] if f["ls"] else ones
        _put(t, p + "norm2", L["ln2_w"], L["ln2_b"])
        if f["act"] == "swiglu":
            _put(t, p + "mlp.weights_in", _cat(L["w1g"], L["w1"]), _cat(L["b1g"], L["b1"]))
            _put(t, p + "mlp.weights_out", L["w2"], L["b2"])
        else:
            _put(t, p + "mlp.fc1", L["w1"], L["b1"])
            _put(t, p + "mlp.fc2", L["w2"], L["b2"])
        t[p + "layer_scale2.lambda1"] = L["ls2"] if f["ls"] else ones
    _put(t, b + "layernorm", P["norm_w"], P["norm_b"])
    if with_head:
        _put(t, "classifier", P["head_w"], P["head_b"])
    return t


def export_hf_dinov2(P, folder, labels=None, head=None, weights_file="model.safetensors", pos0_seed=0,
                     minimal_config=False):
    t = hf_dinov2_tensors(P, head, pos0_seed)
    D, C, p, image, _ = _geometry(P)
    f = _features(P)
    with_head = f["head"] == "linear" and head is not False
    swiglu = f["act"] == "swiglu"
    model_type = "dinov2_with_registers" if f["reg"] else "dinov2"
    name = "Dinov2WithRegisters" if f["reg"] else "Dinov2"
    cfg = _hf_config(model_type, minimal_config, hidden_size=D, num_hidden_layers=len(P["layers"]),
                     num_attention_heads=P["heads"],
                     mlp_ratio=_dinov2_mlp_ratio(D, P["layers"][0]["w1"].shape[0], swiglu),
                     hidden_act="gelu" if swiglu else HF_ACT[f["act"]], layer_norm_eps=P["eps"],
                     image_size=image, patch_size=p, num_channels=C, qkv_bias=f["qkv_b"] is True,
                     layerscale_value=1.0, use_swiglu_ffn=swiglu,
                     **(dict(num_register_tokens=len(P["reg"])) if f["reg"] else {}))
    cfg = {"architectures": [name + ("ForImageClassification" if with_head else "Model")], **cfg}
    if model_type == "dinov2":
        cfg["use_mask_token"] = True
    if with_head:
        cfg.update(_labels(labels, P["head_w"].shape[0]))
    return _write_hf(folder, cfg, t, weights_file)


# ---------------------------------------------------------------- OpenCLIP / OpenAI CLIP

def _open_clip_block(t, p, L):
    """One OpenCLIP ResidualAttentionBlock (OpenAI CLIP's, with nn.MultiheadAttention names)."""
    _put(t, p + "ln_1", L["ln1_w"], L["ln1_b"])
    t[p + "attn.in_proj_weight"] = np.concatenate([L["wq"], L["wk"], L["wv"]])
    t[p + "attn.in_proj_bias"] = np.concatenate([L["bq"], L["bk"], L["bv"]])
    _put(t, p + "attn.out_proj", L["wo"], L["bo"])
    if L.get("ls1") is not None:
        t[p + "ls_1.gamma"] = L["ls1"]
    _put(t, p + "ln_2", L["ln2_w"], L["ln2_b"])
    _put(t, p + "mlp.c_fc", L["w1"], L["b1"])
    _put(t, p + "mlp.c_proj", L["w2"], L["b2"])
    if L.get("ls2") is not None:
        t[p + "ls_2.gamma"] = L["ls2"]


def _open_clip_text(t, T, E, prefix, proj_bias):
    """OpenCLIP's text tower: CLIP's top-level keys (prefix "") or CustomTextCLIP's text.*."""
    t[prefix + "token_embedding.weight"], t[prefix + "positional_embedding"] = T["tok"], T["pos"]
    for i, L in enumerate(T["layers"]):
        _open_clip_block(t, f"{prefix}transformer.resblocks.{i}.", L)
    _put(t, prefix + "ln_final", T["norm_w"], T["norm_b"])
    if proj_bias:  # nn.Linear (E, Dt)
        _put(t, prefix + "text_projection", _dummy((E, T["width"]), 5), _dummy((E,), 6))
    else:  # nn.Parameter (Dt, E), x @ text_projection
        t[prefix + "text_projection"] = _dummy((T["width"], E), 5)


# the tensors OpenAI's convert_weights() left in float16: Conv/Linear weights
# and biases, attention in_proj_*, visual.proj and text_projection
_OPENAI_HALF = ("conv1.weight", "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias",
                "c_fc.weight", "c_fc.bias", "c_proj.weight", "c_proj.bias", "visual.proj", "text_projection")


def open_clip_tensors(P, text=True, openai=False, half=False):
    """P (variant clip) as an OpenCLIP CLIP state dict (OpenAI CLIP's names);
    a P with pool "map" (variant siglip) as OpenCLIP's SigLIP (CustomTextCLIP
    with a timm trunk).

    CLIP: visual.conv1.weight (no bias), visual.class_embedding (D,),
    visual.positional_embedding (1 + N, D) over [cls, patches], visual.ln_pre,
    visual.transformer.resblocks.N.{ln_1, attn.in_proj_weight (3D, D) =
    [Wq; Wk; Wv], attn.in_proj_bias, attn.out_proj, ls_1.gamma, ln_2,
    mlp.c_fc, mlp.c_proj, ls_2.gamma}, visual.ln_post, visual.proj (D, E):
    the embedding is pooled @ proj, so vitrun's head weight is proj.T.
    Nothing in the file says the activation (OpenAI and "-quickgelu" models:
    quick_gelu; most LAION/DataComp ones: nn.GELU, exact), the eps (1e-5,
    torch's default) or the heads (OpenAI: width / 64): the converter needs
    them from outside. pool "avg" (pool_type 'avg': mean of the patch tokens)
    and final_norm "post_pool" (final_ln_after_pool) are settings, not
    names, too. text: the text tower (transformer.*, token_embedding,
    positional_embedding, ln_final, text_projection (Dt, E)) and logit_scale
    (0-d) that every real file has: skip them. openai: also OpenAI's int64
    scalars input_resolution, context_length and vocab_size (their JIT
    archives' state_dict() has them; open_clip drops them). half: the tensors
    of _OPENAI_HALF in float16, the rest float32, as OpenAI's checkpoints
    (per-tensor dtypes: upcast each); openai_half_params(P) is the P they hold.

    SigLIP: visual.trunk.<timm names> (export_timm_tensors: pos_embed
    (1, N, D), attn_pool.{latent, q, kv = [Wk; Wv], proj, norm, mlp}, no head),
    text.* (CustomTextCLIP: text.token_embedding, text.positional_embedding,
    text.transformer.resblocks.N., text.ln_final, text.text_projection Linear
    with bias), logit_scale and logit_bias (0-d). The act and eps (1e-6) come
    from the timm model name, not the file, and timm's vit_*_siglip_* models
    use nn.GELU, the exact erf GELU, where big_vision and HF use the tanh form
    (gelu_pytorch_tanh; ~1e-4 relative apart in the embedding): to match
    OpenCLIP's output on such a file, act "gelu".
    """
    if P.get("pool") == "map":
        if openai or half:
            raise ValueError("openai/half: OpenAI's CLIP only")
        _check(P, "OpenCLIP SigLIP", cls={True, False}, reg={True, False}, pos_mode={"all", "patches"},
               act={"gelu_tanh", "gelu"}, pool={"map"}, head={"none"}, pool_include_prefix={True, False},
               ls={True, False})
        t = {"visual.trunk." + k: v for k, v in export_timm_tensors(P).items()}
        if text:
            _open_clip_text(t, _text_tower(16, 64), P["patch_w"].shape[0], "text.", proj_bias=True)
            t["logit_scale"] = np.array(np.log(10.0), np.float32)
            t["logit_bias"] = np.array(-10.0, np.float32)
        return t
    f = _check(P, "OpenCLIP", patch_b={False}, norm_pre={True, False}, act={"gelu", "quick_gelu"},
               final_norm={"pre_pool", "post_pool"}, pool={"cls", "avg"}, head={"projection"}, ls={True, False})
    D = P["patch_w"].shape[0]
    t = {"visual.class_embedding": P["cls"].reshape(D), "visual.positional_embedding": P["pos"],
         "visual.proj": np.ascontiguousarray(P["head_w"].T), "visual.conv1.weight": P["patch_w"]}
    if f["norm_pre"]:
        _put(t, "visual.ln_pre", P["norm_pre_w"], P["norm_pre_b"])
    for i, L in enumerate(P["layers"]):
        _open_clip_block(t, f"visual.transformer.resblocks.{i}.", L)
    _put(t, "visual.ln_post", P["norm_w"], P["norm_b"])
    if text:
        T = _text_tower(16, 64)
        _open_clip_text(t, T, P["head_w"].shape[0], "", proj_bias=False)
        t["logit_scale"] = np.array(np.log(1 / 0.07), np.float32)
        if openai:
            _, _, _, image, _ = _geometry(P)
            t.update(input_resolution=np.array(image, np.int64), context_length=np.array(T["context"], np.int64),
                     vocab_size=np.array(T["vocab"], np.int64))
    elif openai:
        raise ValueError("openai: with the text tower")
    if half:
        t = {k: (v.astype(np.float16) if k.endswith(_OPENAI_HALF) else v) for k, v in t.items()}
    return t


def openai_half_params(P):
    """P with the parameters open_clip_tensors(half=True) writes in float16
    rounded to float16 (as float32): what such a file holds."""
    h = lambda a: None if a is None else a.astype(np.float16).astype(np.float32)  # noqa: E731
    Q = {**P, "patch_w": h(P["patch_w"]), "head_w": h(P["head_w"]), "layers": []}
    for L in P["layers"]:
        Q["layers"].append({**L, **{k: h(L.get(k)) for k in ("wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo",
                                                               "w1", "b1", "w2", "b2")}})
    return Q


def export_open_clip(P, path, text=True, openai=False, half=False, module_prefix=False, wrap=False):
    """open_clip_tensors() to path (.pt/.pth/.bin: torch.save, .safetensors:
    open_clip_model.safetensors style). module_prefix: every key under
    "module." (DistributedDataParallel training). wrap: OpenCLIP's training
    checkpoint {"epoch", "name", "state_dict"} (the converter takes
    ["state_dict"] and strips "module.", as open_clip's load_state_dict does)."""
    t = open_clip_tensors(P, text, openai, half)
    if module_prefix:
        t = {"module." + k: v for k, v in t.items()}
    if not wrap:
        _save(path, t)
        return path
    if path.endswith(".safetensors"):
        raise ValueError("wrap: a torch.save file")
    import torch
    torch.save({"epoch": 1, "name": "vitrun-test",
                "state_dict": {k: torch.from_numpy(np.asarray(v, order="C")) for k, v in t.items()}}, path)
    return path


# ---------------------------------------------------------------- DINOv2's own

def dinov2_tensors(P, block_chunks=0, pos0_seed=0):
    """P (variant dinov2_reg; reg_tokens=0 for plain DINOv2) as the state
    dict of facebookresearch/dinov2's DinoVisionTransformer (the hub's
    dinov2_vit*14[_reg]_pretrain.pth).

    cls_token (1, 1, D), pos_embed (1, 1 + N, D) over [cls, patches] (the
    registers are inserted after the position embedding and get none: a P of
    pos_mode "patches" is written with pos row 0 split off the class token by
    fold_class_pos(), which the converter must add back), register_tokens
    (1, R, D) (R > 0 only), mask_token (1, D) (skip), patch_embed.proj,
    blocks.N.{norm1, attn.qkv (3D, D) = [Wq; Wk; Wv], attn.proj, ls1.gamma,
    norm2, mlp.fc1/fc2 or SwiGLU mlp.w12 = [gate; value] (silu on the first
    half) and mlp.w3, ls2.gamma}, norm. No head: the backbone's head is
    Identity; the linear classifier is its own file (export_dinov2_linear_head).
    block_chunks > 0 (training configs use 4): blocks.C.N. with N the global
    block index and C = N // (depth // block_chunks), as BlockChunk names them.
    act GELU (exact), eps 1e-6, heads and the image size (518 for the /14
    models, not the 224 they run at: resample pos) from the model name.
    """
    f = _dinov2_check(P, "DINOv2", {"gelu", "swiglu"}, out_b={True, False})  # proj_bias = ffn_bias
    D, depth = P["patch_w"].shape[0], len(P["layers"])
    cls, pos = _pos_over_cls(P, "DINOv2", pos0_seed)
    t = {"cls_token": cls.reshape(1, 1, D), "pos_embed": pos[None]}
    if f["reg"]:
        t["register_tokens"] = P["reg"].reshape(1, -1, D)
    t["mask_token"] = _dummy((1, D), 4)
    _put(t, "patch_embed.proj", P["patch_w"], P["patch_b"])
    chunk = depth // block_chunks if block_chunks else None
    for i, L in enumerate(P["layers"]):
        p = f"blocks.{i // chunk}.{i}." if chunk else f"blocks.{i}."
        _put(t, p + "norm1", L["ln1_w"], L["ln1_b"])
        _put(t, p + "attn.qkv", _cat(L["wq"], L["wk"], L["wv"]), _cat(L.get("bq"), L.get("bk"), L.get("bv")))
        _put(t, p + "attn.proj", L["wo"], L.get("bo"))
        if f["ls"]:
            t[p + "ls1.gamma"] = L["ls1"]
        _put(t, p + "norm2", L["ln2_w"], L["ln2_b"])
        if f["act"] == "swiglu":
            _put(t, p + "mlp.w12", _cat(L["w1g"], L["w1"]), _cat(L.get("b1g"), L.get("b1")))
            _put(t, p + "mlp.w3", L["w2"], L.get("b2"))
        else:
            _put(t, p + "mlp.fc1", L["w1"], L.get("b1"))
            _put(t, p + "mlp.fc2", L["w2"], L.get("b2"))
        if f["ls"]:
            t[p + "ls2.gamma"] = L["ls2"]
    _put(t, "norm", P["norm_w"], P["norm_b"])
    return t


def export_dinov2(P, path, block_chunks=0, pos0_seed=0, wrap=False):
    """dinov2_tensors() to path; wrap: a training teacher_checkpoint.pth,
    {"teacher": {"backbone.<key>": ..., "dino_head.*": ...}} (the converter
    takes ["teacher"], drops "backbone." and the heads, as dinov2's
    load_pretrained_weights does)."""
    t = dinov2_tensors(P, block_chunks, pos0_seed)
    if not wrap:
        _save(path, t)
        return path
    import torch
    D = P["patch_w"].shape[0]
    t = {**{"backbone." + k: v for k, v in t.items()},
         "dino_head.mlp.0.weight": _dummy((16, D), 7), "dino_head.mlp.0.bias": _dummy((16,), 8)}
    torch.save({"teacher": {k: torch.from_numpy(np.asarray(v, order="C")) for k, v in t.items()}}, path)
    return path


def export_dinov2_linear_head(P, path):
    """P's head (pool "cls_avg", head "linear") as DINOv2's
    dinov2_vit*14[_reg]_linear_head.pth: {"weight" (K, 2D), "bias" (K)} on
    [class token, mean of the patch tokens] (registers excluded), both after
    the final norm. (The _linear4_head files, (K, 5D), take the class tokens
    of the last 4 blocks: not a vit_ref pool.)"""
    _dinov2_check(P, "DINOv2 linear head", {"gelu", "swiglu"})
    if P.get("head", "linear") != "linear":
        raise ValueError("DINOv2 linear head: P has no linear head")
    _save(path, {"weight": P["head_w"], "bias": P["head_b"]})
    return path
