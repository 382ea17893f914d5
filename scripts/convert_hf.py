"""HuggingFace transformers checkpoints (a folder: config.json and
model.safetensors or pytorch_model.bin) to vitrun's plan: config, tensors by
part. Every setting comes from config.json (the vision_config of a full CLIP
or SigLIP model) and the tensors present; the preprocessing from
preprocessor_config.json when the folder has one, else the family's preset.

  model_type              class (what the weights hold)          vitrun head
  vit                     ViTForImageClassification / ViTModel   linear / none
  deit                    DeiTForImageClassificationWithTeacher  distilled
                          DeiTForImageClassification / DeiTModel linear / none
  clip, clip_vision_model CLIPModel, CLIPVisionModelWithProjection projection
                          CLIPVisionModel                        none
  siglip, siglip_vision_model SiglipModel / SiglipVisionModel    none (MAP head)
  dinov2, dinov2_with_registers Dinov2Model                      none
                          Dinov2ForImageClassification           linear on [cls, mean]

What the families' own forward passes do that the names alone do not say:
- CLIP's post_layernorm runs on token 0 only, SigLIP's on every token before
  its attention-pool head: both are vitrun's norm before pooling;
- SigLIP's head is nn.MultiheadAttention: in_proj packs q, k, v;
- DINOv2 adds the position table to [cls, patches] and inserts the registers
  after it, unpositioned: the class token takes pos[0] (folded here, in
  float32) and the table covers the patches only;
- text towers, logit_scale/bias, mask_token, poolers and position_ids are
  not part of the image tower's forward pass and are left out.
"""
import json
import os

import numpy as np

from checkpoint_readers import CheckpointError, read_hf_folder
from convert_common import Tensors, count_layers, grid_of, infer_heads, logit_params, shape_of

# config.json hidden_act -> vitrun activation (gelu_new and gelu_pytorch_tanh
# are both the tanh form)
ACTS = {"gelu": "gelu", "gelu_pytorch_tanh": "gelu_tanh", "gelu_new": "gelu_tanh",
        "quick_gelu": "quick_gelu"}
# transformers' defaults, for a config.json that leaves layer_norm_eps out
EPS = {"vit": 1e-12, "deit": 1e-12, "clip": 1e-5, "siglip": 1e-6, "dinov2": 1e-6}
FAMILIES = {"vit": "vit", "deit": "deit", "clip": "clip", "clip_vision_model": "clip",
            "siglip": "siglip", "siglip_vision_model": "siglip", "dinov2": "dinov2",
            "dinov2_with_registers": "dinov2"}


def _prefix(t, candidates, probe):
    """The first prefix under which `probe` exists ("" included)."""
    for p in candidates:
        if t.has(p + probe):
            return p
    raise CheckpointError(f"{t.source}: no tensor {candidates[0] + probe}; is this a "
                          "HuggingFace checkpoint of the model_type its config.json names?")


def _vision_config(config, family, src):
    if family in ("clip", "siglip") and isinstance(config.get("vision_config"), dict):
        return config["vision_config"]
    return config


def _preprocess(src, family, image_size):
    """The folder's preprocessor_config.json in vitrun's terms, else the
    family's preset (HF ViT/DeiT: hf; CLIP, SigLIP, DINOv2: their own)."""
    path = os.path.join(src, "preprocessor_config.json")
    if not os.path.isfile(path):
        return {"vit": "hf", "deit": "hf", "clip": "clip", "siglip": "siglip",
                "dinov2": "dinov2"}[family]
    with open(path) as f:
        pc = json.load(f)
    size, crop = pc.get("size", image_size), pc.get("crop_size", image_size)
    as_hw = lambda s: (s, s) if isinstance(s, int) else (s.get("height"), s.get("width"))
    if not isinstance(size, (int, dict)) or (isinstance(size, dict) and not (
            isinstance(size.get("shortest_edge"), int) or
            all(isinstance(x, int) for x in as_hw(size)))):
        raise CheckpointError(f"{path}: size {size} is not one vitrun reads (shortest_edge, or "
                              "height and width); pass --preprocess")
    if isinstance(size, dict) and "shortest_edge" in size:
        resize, rs = "shorter", size["shortest_edge"]
    else:
        h, w = as_hw(size)
        if h != w:
            raise CheckpointError(f"{path}: a non-square resize {h}x{w}; vitrun resizes to "
                                  "squares (pass --preprocess)")
        resize, rs = "exact", h
    ch, cw = as_hw(crop) if pc.get("do_center_crop", False) else (image_size, image_size)
    if ch != cw or ch != image_size:
        raise CheckpointError(f"{path}: crop {ch}x{cw} for a {image_size}-pixel model; pass "
                              "--preprocess")
    if not pc.get("do_center_crop", False) and resize == "exact" and rs != image_size:
        raise CheckpointError(f"{path}: resize to {rs} without a crop, for a {image_size}-pixel "
                              "model; pass --preprocess")
    interp = {2: "bilinear", 3: "bicubic"}.get(pc.get("resample", 2))
    if interp is None or abs(pc.get("rescale_factor", 1 / 255) - 1 / 255) > 1e-12:
        raise CheckpointError(f"{path}: resample {pc.get('resample')} / rescale "
                              f"{pc.get('rescale_factor')} is not vitrun's; pass --preprocess")
    def three(key):  # HF processors take one value or one per channel
        v = pc.get(key, 0.5)
        v = [v] if isinstance(v, (int, float)) else list(v)
        if len(v) == 1:
            v = v * 3
        if len(v) != 3 or not all(isinstance(x, (int, float)) for x in v):
            raise CheckpointError(f"{path}: {key} should be one number or three; found {v}")
        return tuple(float(x) for x in v)
    return dict(resize=resize, resize_size=rs, crop_size=image_size, interpolation=interp,
                mean=three("image_mean"), std=three("image_std"))


def plan_hf(src, heads):
    config, tensors = read_hf_folder(src)
    t = Tensors(tensors, src)
    model_type = config.get("model_type", "vit")
    family = FAMILIES.get(model_type)
    if family is None:
        raise CheckpointError(f"{src}: model_type '{model_type}' is not one vitrun converts "
                              f"({', '.join(sorted(FAMILIES))})")
    vc = _vision_config(config, family, src)
    act = ACTS.get(vc.get("hidden_act", "gelu"))
    if act is None:
        raise CheckpointError(f"{src}: hidden_act '{vc.get('hidden_act')}' is not supported "
                              f"({', '.join(sorted(ACTS))})")
    if vc.get("use_swiglu_ffn"):
        act = "swiglu"
    # where the image tower's tensors are
    if family in ("clip", "siglip"):
        root = _prefix(t, ["vision_model."], "embeddings.patch_embedding.weight")
        layers, e = root + "encoder.layers.", root + "embeddings."
    else:
        root = _prefix(t, [model_type + ".", family + ".", ""],
                       "embeddings.patch_embeddings.projection.weight")
        layers, e = root + "encoder.layer.", root + "embeddings."
    L = count_layers(t.t, layers.replace(".", r"\.") + r"(\d+)\.")
    patch = e + ("patch_embedding.weight" if family in ("clip", "siglip")
                 else "patch_embeddings.projection.weight")
    pw = shape_of(t, patch)
    if len(pw) != 4 or pw[2] != pw[3] or 0 in pw:
        raise CheckpointError(f"{src}: {patch} has shape {list(pw)}; expected [D, C, p, p]")
    D, C, p = pw[0], pw[1], pw[2]
    cfg = dict(patch_size=p, num_channels=C, hidden_size=D, num_layers=L, activation=act,
               layer_norm_eps=float(vc.get("layer_norm_eps", EPS[family])),
               num_heads=infer_heads(D, heads or vc.get("num_attention_heads"), src),
               qkv_bias=int(vc.get("qkv_bias", True)))
    ignore = [r"(text_model|text_projection)\..*", r"logit_(scale|bias)", r".*position_ids",
              r".*\.mask_token", r"mask_token", r".*pooler\..*"]
    pos_name = e + ("position_embedding.weight" if family in ("clip", "siglip")
                    else "position_embeddings")
    n_pos = int(np.prod(shape_of(t, pos_name) or (0,))) // D
    cfg["class_token"] = int(family != "siglip")
    cfg["dist_token"] = int(family == "deit")
    cfg["reg_tokens"] = (shape_of(t, e + "register_tokens") or (0, 0))[1] \
        if family == "dinov2" else 0
    # DINOv2 with registers: the table covers [cls, patches]; fold pos[0] into the class token
    fold = family == "dinov2" and cfg["reg_tokens"] > 0
    cfg["pos_embed"] = "patches" if fold else "all"
    prefix = 0 if fold else cfg["class_token"] + cfg["dist_token"] + cfg["reg_tokens"]
    g = grid_of(n_pos - (1 if fold else 0), prefix, "all", src, pos_name)
    cfg["image_size"] = g * p
    cfg["norm_pre"] = int(family == "clip")
    cfg["layer_scale"] = int(t.has(layers + "0.layer_scale1.lambda1"))
    cfg["qk_norm"] = 0
    cfg["final_norm"] = "pre_pool"
    cfg["pooling"] = "map" if family == "siglip" else "cls"
    # MLP names and width
    if family in ("clip", "siglip"):
        fc1, fc2 = "mlp.fc1", "mlp.fc2"
    elif family == "dinov2":
        fc1, fc2 = ("mlp.weights_in", "mlp.weights_out") if act == "swiglu" else ("mlp.fc1",
                                                                                     "mlp.fc2")
    else:
        fc1, fc2 = "intermediate.dense", "output.dense"
    M = (shape_of(t, layers + f"0.{fc2}.weight") or (0, 0))[1]
    cfg["mlp_dim"] = M
    # the head
    cls_name = {"vit": "classifier", "deit": "cls_classifier", "dinov2": "classifier"}
    if family == "deit" and t.has("cls_classifier.weight"):
        cfg["head"] = "distilled"
    elif family in ("vit", "deit", "dinov2") and t.has("classifier.weight"):
        cfg["head"] = "linear"
        cls_name["deit"] = "classifier"
        if family == "dinov2":
            cfg["pooling"] = "cls_avg"  # Dinov2ForImageClassification: [cls, mean of patches]
    elif family == "clip" and t.has("visual_projection.weight"):
        cfg["head"] = "projection"
        cfg["embed_dim"] = shape_of(t, "visual_projection.weight")[0]
    else:
        cfg["head"] = "none"
    if family == "siglip":
        if not t.has(root + "head.probe"):
            raise CheckpointError(f"{src}: no {root}head.probe: a SigLIP tower without its "
                                  "attention-pool head (vision_use_head false) is not supported")
        cfg["pool_mlp_dim"] = shape_of(t, root + "head.mlp.fc1.weight")[0]
    head_w = cls_name.get(family, "") + ".weight"
    cfg["num_classes"] = shape_of(t, head_w)[0] if cfg["head"] in ("linear", "distilled") else 0
    labels = None
    id2label = config.get("id2label")
    K = cfg["num_classes"]
    if K and id2label and len(id2label) == K:
        labels = [str(id2label.get(str(i), id2label.get(i, f"LABEL_{i}"))) for i in range(K)]
    cfg.update(logit_params(t.t))  # CLIPModel, SiglipModel: kept for --zero-shot
    for r in ignore:
        t.ignore(r)

    def embed():
        if family in ("clip", "siglip"):
            d = dict(patch_weight=t.get(patch),
                     patch_bias=t.get(e + "patch_embedding.bias") if family == "siglip" else None,
                     cls_token=t.get(e + "class_embedding", (D,)) if family == "clip" else None,
                     pos_embed=t.get(pos_name, (n_pos, D)))
            if family == "clip":
                d["norm_pre"] = (t.get(root + "pre_layrnorm.weight"),
                                 t.get(root + "pre_layrnorm.bias"))
            return d
        d = dict(patch_weight=t.get(patch), patch_bias=t.get(e + "patch_embeddings.projection.bias"),
                 cls_token=t.get(e + "cls_token", (D,)), pos_embed=t.get(pos_name, (n_pos, D)))
        if family == "deit":
            d["dist_token"] = t.get(e + "distillation_token", (D,))
        if fold and d["cls_token"] is not None and d["pos_embed"] is not None:
            d["reg_tokens"] = t.get(e + "register_tokens", (cfg["reg_tokens"], D))
            d["cls_token"] = (d["cls_token"] + d["pos_embed"][0]).astype(np.float32)
            d["pos_embed"] = d["pos_embed"][1:]
        return d

    def layer(i):
        q = f"{layers}{i}."
        if family in ("clip", "siglip"):
            a, o, n1, n2 = q + "self_attn.", q + "self_attn.out_proj", "layer_norm1", "layer_norm2"
            qkv = {k: a + f"{k}_proj" for k in "qkv"}
        else:
            a, o = q + "attention.attention.", q + "attention.output.dense"
            n1, n2 = ("norm1", "norm2") if family == "dinov2" else ("layernorm_before",
                                                                   "layernorm_after")
            qkv = {"q": a + "query", "k": a + "key", "v": a + "value"}
        d = dict(ln1_w=t.get(q + n1 + ".weight"), ln1_b=t.get(q + n1 + ".bias"),
                 proj_w=t.get(o + ".weight"), proj_b=t.get(o + ".bias"),
                 ln2_w=t.get(q + n2 + ".weight"), ln2_b=t.get(q + n2 + ".bias"),
                 fc2_w=t.get(q + fc2 + ".weight"), fc2_b=t.get(q + fc2 + ".bias"))
        for k, name in qkv.items():
            d[k + "_w"] = t.get(name + ".weight")
            d[k + "_b"] = t.get(name + ".bias") if cfg["qkv_bias"] else None
        if cfg["layer_scale"]:
            d["ls1"] = t.get(q + "layer_scale1.lambda1")
            d["ls2"] = t.get(q + "layer_scale2.lambda1")
        w, b = t.get(q + fc1 + ".weight"), t.get(q + fc1 + ".bias")
        if act == "swiglu" and w is not None and b is not None:
            if w.shape[0] != 2 * M or b.shape[0] != 2 * M:
                raise CheckpointError(f"{src}: {q}{fc1} has {w.shape[0]} rows, expected {2 * M}")
            d.update(fc1g_w=w[:M], fc1g_b=b[:M], fc1_w=w[M:], fc1_b=b[M:])  # chunk(2): gate first
        else:
            d.update(fc1_w=w, fc1_b=b)
        return d

    def head():
        norm = root + ("post_layernorm" if family in ("clip", "siglip") else "layernorm")
        h = dict(norm_weight=t.get(norm + ".weight"), norm_bias=t.get(norm + ".bias"),
                 head_weight=None, head_bias=None)
        if cfg["head"] == "projection":
            h["head_weight"] = t.get("visual_projection.weight")
        elif cfg["head"] in ("linear", "distilled"):
            h.update(head_weight=t.get(head_w), head_bias=t.get(cls_name[family] + ".bias"))
        if cfg["head"] == "distilled":
            h.update(dist_weight=t.get("distillation_classifier.weight"),
                     dist_bias=t.get("distillation_classifier.bias"))
        if family == "siglip":  # nn.MultiheadAttention: in_proj = [q; k; v]
            s = root + "head."
            w, b = t.get(s + "attention.in_proj_weight"), t.get(s + "attention.in_proj_bias")
            pool = dict(latent=t.get(s + "probe", (D,)),
                        proj_w=t.get(s + "attention.out_proj.weight"),
                        proj_b=t.get(s + "attention.out_proj.bias"),
                        norm_w=t.get(s + "layernorm.weight"), norm_b=t.get(s + "layernorm.bias"),
                        fc1_w=t.get(s + "mlp.fc1.weight"), fc1_b=t.get(s + "mlp.fc1.bias"),
                        fc2_w=t.get(s + "mlp.fc2.weight"), fc2_b=t.get(s + "mlp.fc2.bias"))
            if w is not None and b is not None:
                if w.shape[0] != 3 * D or b.shape[0] != 3 * D:
                    raise CheckpointError(f"{src}: {s}attention.in_proj_weight has {w.shape[0]} "
                                          f"rows, expected {3 * D}")
                pool.update(q_w=w[:D], k_w=w[D:2 * D], v_w=w[2 * D:], q_b=b[:D],
                            k_b=b[D:2 * D], v_b=b[2 * D:])
            h["pool"] = pool
        return h

    return t, cfg, embed, layer, head, labels, _preprocess(src, family, cfg["image_size"])
