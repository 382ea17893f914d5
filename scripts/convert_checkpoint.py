#!/usr/bin/env python3
"""Converts a ViT checkpoint to the vitrun model format (docs/MODEL_FORMAT.md).

    convert_checkpoint.py --format hf           HF_MODEL_FOLDER  OUT.h5
    convert_checkpoint.py --format torchvision  vit_b_16.pth     OUT.h5
    convert_checkpoint.py --format timm         model.safetensors OUT.h5
        [--heads N] [--shards N] [--labels FILE] [--preprocess hf|torchvision|timm]

hf:          ViTForImageClassification (config.json + model.safetensors or
             pytorch_model.bin); labels from id2label.
torchvision: a VisionTransformer state dict (vit_b_16 and friends).
timm:        vision_transformer state dict (.safetensors or .pth).

The head count cannot be read off the shapes: pass --heads, or the standard
count for the standard widths is used (192->3, 384->6, 768->12, 1024->16,
1280->16) and said so. Unknown or missing tensors are an error that lists them.
"""
import argparse
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit_archs as archs  # noqa: E402
import vitrun_model as vm  # noqa: E402
from checkpoint_readers import CheckpointError, read_any, read_hf_folder  # noqa: E402


MAX_LAYERS = 4096  # docs/MODEL_FORMAT.md


class Tensors:
    """Hands out tensors by name and remembers which were missing or never used."""

    def __init__(self, tensors, source):
        self.t, self.source = dict(tensors), source
        self.used, self.missing = set(), []

    def has(self, name):
        return name in self.t

    def get(self, name, shape=None):
        if name not in self.t:
            self.missing.append(name)
            return None
        self.used.add(name)
        a = np.asarray(self.t[name], dtype=np.float32)
        if shape is not None and a.size == int(np.prod(shape)) and a.shape != tuple(shape):
            a = a.reshape(shape)  # (1, 1, D) class tokens and the like
        if shape is not None and a.shape != tuple(shape):
            raise CheckpointError(f"{self.source}: tensor {name} has shape {list(a.shape)}, "
                                  f"expected {list(shape)}")
        return a

    def ignore(self, pattern):
        for k in self.t:
            if re.fullmatch(pattern, k):
                self.used.add(k)

    def finish(self):
        problems = []
        if self.missing:
            problems.append("missing tensors: " + ", ".join(self.missing[:20]) +
                            (" ..." if len(self.missing) > 20 else ""))
        extra = sorted(set(self.t) - self.used)
        if extra:
            problems.append("unexpected tensors: " + ", ".join(extra[:20]) +
                            (" ..." if len(extra) > 20 else ""))
        if problems:
            raise CheckpointError(f"{self.source}: not a plain ViT checkpoint of this format; "
                                  + "; ".join(problems))


def count_layers(tensors, pattern):
    ids = {int(m.group(1)) for k in tensors for m in [re.match(pattern, k)] if m}
    if not ids:
        return 0
    if max(ids) >= MAX_LAYERS:
        raise CheckpointError(f"layer number {max(ids)} is out of range (the format allows "
                              f"{MAX_LAYERS} layers)")
    if ids != set(range(max(ids) + 1)):
        raise CheckpointError(f"layer numbers are not contiguous: {sorted(ids)}")
    return max(ids) + 1


def infer_heads(hidden, given, source):
    if given:
        return given
    if hidden in vm.STANDARD_HEADS:
        h = vm.STANDARD_HEADS[hidden]
        print(f"convert_checkpoint.py: {source}: assuming {h} heads, the standard count for "
              f"width {hidden} (pass --heads to override)", file=sys.stderr)
        return h
    raise CheckpointError(f"{source}: width {hidden} has no standard head count; pass --heads N")


def shape_config(t, patch_name, pos_name, fc1_name, head_name, layers, heads, source):
    """Image size, patch size, widths and class count from the tensor shapes."""
    for n in (patch_name, pos_name, fc1_name, head_name):
        if not t.has(n):
            raise CheckpointError(f"{source}: tensor {n} is missing; is this a "
                                  "ViT classification checkpoint of the format given?")
    shapes = {n: tuple(np.shape(t.t[n])) for n in (patch_name, pos_name, fc1_name, head_name)}
    for n, dims in ((patch_name, 4), (fc1_name, 2), (head_name, 2)):
        if len(shapes[n]) != dims or 0 in shapes[n]:
            raise CheckpointError(f"{source}: tensor {n} has shape {list(shapes[n])}; expected "
                                  f"{dims} nonzero sizes")
    D, C, p, p2 = shapes[patch_name]
    T = int(np.prod(shapes[pos_name])) // D
    grid = int(round(max(T - 1, 0) ** 0.5))
    if T < 2 or grid * grid != T - 1 or p != p2:
        raise CheckpointError(f"{source}: {pos_name} holds {T} tokens, not 1 + a square grid")
    return dict(image_size=grid * p, patch_size=p, num_channels=C, hidden_size=D,
                num_layers=layers, num_heads=infer_heads(D, heads, source),
                mlp_dim=t.t[fc1_name].shape[0], num_classes=t.t[head_name].shape[0])


def split_qkv(w, b, D):
    """q, k, v of a fused in_proj; b None: no bias (a missing tensor is listed
    by Tensors.finish)."""
    if w is None:
        return dict.fromkeys(("q_w", "k_w", "v_w", "q_b", "k_b", "v_b"))
    if w.shape[0] != 3 * D or (b is not None and b.shape[0] != 3 * D):
        raise CheckpointError(f"fused qkv of shape {list(w.shape)} and bias "
                              f"{list(b.shape) if b is not None else None}; expected {3 * D} "
                              f"rows for width {D}")
    out = dict(q_w=w[:D], k_w=w[D:2 * D], v_w=w[2 * D:], q_b=None, k_b=None, v_b=None)
    if b is not None:
        out.update(q_b=b[:D], k_b=b[D:2 * D], v_b=b[2 * D:])
    return out


def plan_hf(src, heads):
    config, tensors = read_hf_folder(src)
    t = Tensors(tensors, src)
    act = config.get("hidden_act", "gelu")
    if act != "gelu":
        raise CheckpointError(f"{src}: hidden_act '{act}' is not supported (exact 'gelu' only)")
    if config.get("qkv_bias", True) is False:
        raise CheckpointError(f"{src}: qkv_bias=false is not supported")
    L = count_layers(tensors, r"vit\.encoder\.layer\.(\d+)\.")
    e = "vit.embeddings."
    cfg = shape_config(t, e + "patch_embeddings.projection.weight", e + "position_embeddings",
                       "vit.encoder.layer.0.intermediate.dense.weight", "classifier.weight",
                       L, heads or config.get("num_attention_heads"), src)
    cfg["layer_norm_eps"] = float(config.get("layer_norm_eps", 1e-12))
    D, T = cfg["hidden_size"], (cfg["image_size"] // cfg["patch_size"]) ** 2 + 1
    id2label = config.get("id2label")
    labels = None
    if id2label and len(id2label) == cfg["num_classes"]:
        labels = [str(id2label.get(str(i), id2label.get(i, f"LABEL_{i}")))
                  for i in range(cfg["num_classes"])]
    t.ignore(r"vit\.pooler\..*")  # ViTModel's pooler: unused by the classifier
    embed = lambda: dict(patch_weight=t.get(e + "patch_embeddings.projection.weight"),
                         patch_bias=t.get(e + "patch_embeddings.projection.bias"),
                         cls_token=t.get(e + "cls_token", (D,)),
                         pos_embed=t.get(e + "position_embeddings", (T, D)))

    def layer(i):
        p = f"vit.encoder.layer.{i}."
        a = p + "attention.attention."
        return dict(ln1_w=t.get(p + "layernorm_before.weight"), ln1_b=t.get(p + "layernorm_before.bias"),
                    q_w=t.get(a + "query.weight"), q_b=t.get(a + "query.bias"),
                    k_w=t.get(a + "key.weight"), k_b=t.get(a + "key.bias"),
                    v_w=t.get(a + "value.weight"), v_b=t.get(a + "value.bias"),
                    proj_w=t.get(p + "attention.output.dense.weight"),
                    proj_b=t.get(p + "attention.output.dense.bias"),
                    ln2_w=t.get(p + "layernorm_after.weight"), ln2_b=t.get(p + "layernorm_after.bias"),
                    fc1_w=t.get(p + "intermediate.dense.weight"), fc1_b=t.get(p + "intermediate.dense.bias"),
                    fc2_w=t.get(p + "output.dense.weight"), fc2_b=t.get(p + "output.dense.bias"))
    head = lambda: dict(norm_weight=t.get("vit.layernorm.weight"),
                        norm_bias=t.get("vit.layernorm.bias"),
                        head_weight=t.get("classifier.weight"), head_bias=t.get("classifier.bias"))
    return t, cfg, embed, layer, head, labels, "hf"


def plan_torchvision(src, heads):
    t = Tensors(read_any(src), src)
    L = count_layers(t.t, r"encoder\.layers\.encoder_layer_(\d+)\.")
    mlp = "mlp.0" if t.has("encoder.layers.encoder_layer_0.mlp.0.weight") else "mlp.linear_1"
    mlp2 = "mlp.3" if mlp == "mlp.0" else "mlp.linear_2"
    if t.has("heads.pre_logits.weight"):
        raise CheckpointError(f"{src}: heads.pre_logits (representation_size) is not supported")
    cfg = shape_config(t, "conv_proj.weight", "encoder.pos_embedding",
                       f"encoder.layers.encoder_layer_0.{mlp}.weight", "heads.head.weight",
                       L, heads, src)
    cfg["layer_norm_eps"] = 1e-6
    D, T = cfg["hidden_size"], (cfg["image_size"] // cfg["patch_size"]) ** 2 + 1
    embed = lambda: dict(patch_weight=t.get("conv_proj.weight"), patch_bias=t.get("conv_proj.bias"),
                         cls_token=t.get("class_token", (D,)),
                         pos_embed=t.get("encoder.pos_embedding", (T, D)))

    def layer(i):
        p = f"encoder.layers.encoder_layer_{i}."
        s = p + "self_attention."
        return dict(ln1_w=t.get(p + "ln_1.weight"), ln1_b=t.get(p + "ln_1.bias"),
                    **split_qkv(t.get(s + "in_proj_weight"), t.get(s + "in_proj_bias"), D),
                    proj_w=t.get(s + "out_proj.weight"), proj_b=t.get(s + "out_proj.bias"),
                    ln2_w=t.get(p + "ln_2.weight"), ln2_b=t.get(p + "ln_2.bias"),
                    fc1_w=t.get(p + mlp + ".weight"), fc1_b=t.get(p + mlp + ".bias"),
                    fc2_w=t.get(p + mlp2 + ".weight"), fc2_b=t.get(p + mlp2 + ".bias"))
    head = lambda: dict(norm_weight=t.get("encoder.ln.weight"), norm_bias=t.get("encoder.ln.bias"),
                        head_weight=t.get("heads.head.weight"), head_bias=t.get("heads.head.bias"))
    return t, cfg, embed, layer, head, None, "torchvision"


def shape_of(t, name):
    return tuple(np.shape(t.t[name])) if t.has(name) else None


def grid_of(n, prefix, pos_mode, source, name):
    """The square patch grid a position table of n rows implies."""
    rows = n - prefix if pos_mode == "all" else n
    g = int(round(max(rows, 0) ** 0.5))
    if rows < 1 or g * g != rows:
        raise CheckpointError(f"{source}: {name} holds {n} tokens, not "
                              f"{prefix if pos_mode == 'all' else 0} prefix token(s) + a square "
                              "grid of patches; pass --arch NAME")
    return g


def plan_timm(src, heads, arch=None, over=None):
    """timm's VisionTransformer (vision_transformer.py) and deit.py state dicts.

    What the names tell: prefix tokens (cls_token, dist_token, reg_token),
    norm_pre, LayerScale (ls1.gamma), qkv bias, qk_norm, SwiGLU (fc1_g/fc1_x,
    or an fc1 twice fc2's width), the final norm (norm or fc_norm), the
    attention-pool head (attn_pool.*) and the head (head, head_dist). What
    they cannot: the activation, the LayerNorm eps, the head count, whether
    the position table covers the prefix tokens when that is ambiguous, and a
    head's meaning (classifier or CLIP projection): from --arch NAME (timm's
    model name) or the overrides."""
    over = over or {}
    a = dict(arch or {})
    a.update({k: v for k, v in over.items() if v is not None})
    t = Tensors(read_any(src), src)
    L = count_layers(t.t, r"blocks\.(\d+)\.")
    for n in ("patch_embed.proj.weight", "pos_embed"):
        if not t.has(n):
            raise CheckpointError(f"{src}: tensor {n} is missing; is this a timm "
                                  "VisionTransformer checkpoint?")
    pw = shape_of(t, "patch_embed.proj.weight")
    if len(pw) != 4 or pw[2] != pw[3] or 0 in pw:
        raise CheckpointError(f"{src}: patch_embed.proj.weight has shape {list(pw)}; expected "
                              "[D, C, p, p]")
    D, C, p = pw[0], pw[1], pw[2]
    for unsupported, why in (("blocks.0.mlp.norm.weight", "an MLP with an inner norm (scale_mlp)"),
                             ("attn_pool.q_norm.weight", "an attention-pool head with qk_norm"),
                             ("blocks.0.attn.norm.weight", "attention with an inner norm"),
                             ("blocks.0.norm1.0.weight", "a non-LayerNorm block")):
        if t.has(unsupported):
            raise CheckpointError(f"{src}: {why} is not supported ({unsupported})")
    cfg = dict(patch_size=p, num_channels=C, hidden_size=D, num_layers=L)
    cfg["class_token"] = int(t.has("cls_token"))
    cfg["dist_token"] = int(t.has("dist_token"))
    cfg["reg_tokens"] = int(shape_of(t, "reg_token")[1]) if t.has("reg_token") else 0
    prefix = cfg["class_token"] + cfg["dist_token"] + cfg["reg_tokens"]
    n_pos = int(np.prod(shape_of(t, "pos_embed"))) // D
    if "pos_embed" in a:
        cfg["pos_embed"] = a["pos_embed"]
    else:  # timm's default covers the prefix tokens (no_embed_class=False)
        rows = n_pos - prefix
        sq = lambda n: n > 0 and int(round(n ** 0.5)) ** 2 == n
        cfg["pos_embed"] = "all" if sq(rows) or prefix == 0 else "patches"
    g = grid_of(n_pos, prefix, cfg["pos_embed"], src, "pos_embed")
    cfg["image_size"] = g * p
    if a.get("image_size") and tuple(a["image_size"]) != (g * p, g * p):
        raise CheckpointError(f"{src}: pos_embed holds a {g}x{g} grid of {p}-pixel patches "
                              f"({g * p} px), but --arch says {a['image_size']}; is it the "
                              "right --arch?")
    cfg["norm_pre"] = int(t.has("norm_pre.weight"))
    cfg["layer_scale"] = int(t.has("blocks.0.ls1.gamma"))
    cfg["qkv_bias"] = int(t.has("blocks.0.attn.qkv.bias"))
    cfg["qk_norm"] = int(t.has("blocks.0.attn.q_norm.weight"))
    # the MLP
    split = t.has("blocks.0.mlp.fc1_g.weight")
    fc2 = shape_of(t, "blocks.0.mlp.fc2.weight")
    if fc2 is None or len(fc2) != 2:
        raise CheckpointError(f"{src}: blocks.0.mlp.fc2.weight is missing or not a matrix")
    M = fc2[1]
    fc1 = shape_of(t, "blocks.0.mlp.fc1_g.weight" if split else "blocks.0.mlp.fc1.weight")
    packed = not split and fc1 is not None and fc1[0] == 2 * M
    act = a.get("activation")
    if split or packed:
        if act not in (None, "swiglu"):
            raise CheckpointError(f"{src}: the MLP is a SwiGLU (fc1 {'split' if split else 'packed'}), "
                                  f"but --act/--arch says {act}")
        act = "swiglu"
    elif act == "swiglu":
        raise CheckpointError(f"{src}: --arch/--act says swiglu, but blocks.0.mlp.fc1 is a plain "
                              f"{list(fc1 or [])} matrix")
    if act is None:
        raise CheckpointError(f"{src}: the MLP activation cannot be read off a timm checkpoint; "
                              "pass --arch NAME (timm's model name, e.g. vit_base_patch16_224) or "
                              "--act {gelu,gelu_tanh,quick_gelu}")
    if "layer_norm_eps" not in a:
        raise CheckpointError(f"{src}: the LayerNorm eps cannot be read off a timm checkpoint; "
                              "pass --arch NAME or --eps (timm's default 1e-6, CLIP towers 1e-5)")
    cfg.update(activation=act, mlp_dim=M, layer_norm_eps=float(a["layer_norm_eps"]))
    # after the blocks
    has_norm, has_fc = t.has("norm.weight"), t.has("fc_norm.weight")
    if has_norm and has_fc:
        raise CheckpointError(f"{src}: both norm and fc_norm hold weights; timm uses one")
    cfg["final_norm"] = "pre_pool" if has_norm else "post_pool" if has_fc else "none"
    if t.has("attn_pool.latent"):
        cfg["pooling"] = "map"
        cfg["pool_mlp_dim"] = shape_of(t, "attn_pool.mlp.fc1.weight")[0]
        if a.get("pool_activation", act) != act:
            raise CheckpointError(f"{src}: an attention-pool MLP with activation "
                                  f"{a['pool_activation']} after blocks with {act} is not supported")
    else:
        cfg["pooling"] = a.get("pooling") or ("avg" if has_fc or not cfg["class_token"] else "cls")
    # the head
    if t.has("head_dist.weight"):
        cfg["head"] = "distilled"
    elif not t.has("head.weight"):
        cfg["head"] = "none"
    else:
        cfg["head"] = a.get("head") if a.get("head") in ("linear", "projection") else "linear"
    hw = shape_of(t, "head.weight")
    if hw is not None and (len(hw) != 2 or 0 in hw):
        raise CheckpointError(f"{src}: tensor head.weight has shape {list(hw)}; expected 2 "
                              "nonzero sizes")
    if cfg["head"] == "projection":
        cfg["embed_dim"] = hw[0]
        b = t.t.get("head.bias")
        if b is not None and np.any(np.asarray(b) != 0):
            raise CheckpointError(f"{src}: --arch says the head is CLIP's projection, but "
                                  "head.bias is not zero; is it a fine-tuned classifier? pass "
                                  "--head linear")
        t.ignore(r"head\.bias")
    cfg["num_classes"] = hw[0] if cfg["head"] in ("linear", "distilled") else 0
    heads = heads or a.get("num_heads")
    cfg["num_heads"] = infer_heads(D, heads, src)
    pos_rows = n_pos

    def embed():
        return dict(patch_weight=t.get("patch_embed.proj.weight"),
                    patch_bias=t.get("patch_embed.proj.bias") if t.has("patch_embed.proj.bias") else None,
                    cls_token=t.get("cls_token", (D,)) if cfg["class_token"] else None,
                    dist_token=t.get("dist_token", (D,)) if cfg["dist_token"] else None,
                    reg_tokens=t.get("reg_token", (cfg["reg_tokens"], D)) if cfg["reg_tokens"] else None,
                    pos_embed=t.get("pos_embed", (pos_rows, D)),
                    norm_pre=(t.get("norm_pre.weight"), t.get("norm_pre.bias"))
                    if cfg["norm_pre"] else None)

    def layer(i):
        p_ = f"blocks.{i}."
        qkv_b = t.get(p_ + "attn.qkv.bias") if cfg["qkv_bias"] else None
        d = dict(ln1_w=t.get(p_ + "norm1.weight"), ln1_b=t.get(p_ + "norm1.bias"),
                 **split_qkv(t.get(p_ + "attn.qkv.weight"), qkv_b, D),
                 proj_w=t.get(p_ + "attn.proj.weight"), proj_b=t.get(p_ + "attn.proj.bias"),
                 ln2_w=t.get(p_ + "norm2.weight"), ln2_b=t.get(p_ + "norm2.bias"),
                 fc2_w=t.get(p_ + "mlp.fc2.weight"), fc2_b=t.get(p_ + "mlp.fc2.bias"))
        if cfg["qk_norm"]:
            for n in ("q_norm", "k_norm"):
                d[n + "_w"], d[n + "_b"] = (t.get(p_ + f"attn.{n}.weight"),
                                            t.get(p_ + f"attn.{n}.bias"))
        if cfg["layer_scale"]:
            d["ls1"], d["ls2"] = t.get(p_ + "ls1.gamma"), t.get(p_ + "ls2.gamma")
        if split:  # timm SwiGLU: fc1_g the gate, fc1_x the value
            d.update(fc1g_w=t.get(p_ + "mlp.fc1_g.weight"), fc1g_b=t.get(p_ + "mlp.fc1_g.bias"),
                     fc1_w=t.get(p_ + "mlp.fc1_x.weight"), fc1_b=t.get(p_ + "mlp.fc1_x.bias"))
        elif packed:  # SwiGLUPacked: the first half of fc1 is the gate
            w, b = t.get(p_ + "mlp.fc1.weight"), t.get(p_ + "mlp.fc1.bias")
            if w is not None and b is not None:
                if w.shape[0] != 2 * M or b.shape[0] != 2 * M:
                    raise CheckpointError(f"{src}: {p_}mlp.fc1 has {w.shape[0]} rows, expected "
                                          f"{2 * M} (a packed SwiGLU for fc2's {M})")
                d.update(fc1g_w=w[:M], fc1g_b=b[:M], fc1_w=w[M:], fc1_b=b[M:])
        else:
            d.update(fc1_w=t.get(p_ + "mlp.fc1.weight"), fc1_b=t.get(p_ + "mlp.fc1.bias"))
        return d

    def head():
        nrm = "norm" if cfg["final_norm"] == "pre_pool" else "fc_norm"
        h = dict(norm_weight=None, norm_bias=None, head_weight=None, head_bias=None)
        if cfg["final_norm"] != "none":
            h.update(norm_weight=t.get(nrm + ".weight"), norm_bias=t.get(nrm + ".bias"))
        if cfg["head"] != "none":
            h["head_weight"] = t.get("head.weight")
        if cfg["head"] in ("linear", "distilled"):
            h["head_bias"] = t.get("head.bias")
        if cfg["head"] == "distilled":
            h.update(dist_weight=t.get("head_dist.weight"), dist_bias=t.get("head_dist.bias"))
        if cfg["pooling"] == "map":
            q = "attn_pool."
            kv_w, kv_b = t.get(q + "kv.weight"), t.get(q + "kv.bias")
            pool = dict(latent=t.get(q + "latent", (D,)), q_w=t.get(q + "q.weight"),
                        q_b=t.get(q + "q.bias"), proj_w=t.get(q + "proj.weight"),
                        proj_b=t.get(q + "proj.bias"), norm_w=t.get(q + "norm.weight"),
                        norm_b=t.get(q + "norm.bias"), fc1_w=t.get(q + "mlp.fc1.weight"),
                        fc1_b=t.get(q + "mlp.fc1.bias"), fc2_w=t.get(q + "mlp.fc2.weight"),
                        fc2_b=t.get(q + "mlp.fc2.bias"))
            if kv_w is not None and kv_b is not None:  # keys, then values
                if kv_w.shape[0] != 2 * D or kv_b.shape[0] != 2 * D:
                    raise CheckpointError(f"{src}: attn_pool.kv has {kv_w.shape[0]} rows, "
                                          f"expected {2 * D}")
                pool.update(k_w=kv_w[:D], v_w=kv_w[D:], k_b=kv_b[:D], v_b=kv_b[D:])
            h["pool"] = pool
        return h

    pre = a.get("preprocess")
    return t, cfg, embed, layer, head, None, pre or "timm"


PLANS = {"hf": plan_hf, "torchvision": plan_torchvision, "timm": plan_timm}
ARCH_FORMATS = ("timm",)  # the formats whose settings --arch names


def preprocess_for(kind, image_size, mean, std):
    """A preset by name (hf, torchvision, timm, clip, siglip, dinov2) or an
    --arch entry's own preprocessing dict, for a model of image_size."""
    if isinstance(kind, dict):
        p = dict(kind, rescale=1.0 / 255.0)
        if p["crop_size"] != image_size:
            raise CheckpointError(f"the --arch preprocessing crops to {p['crop_size']}, the "
                                  f"model takes {image_size}; pass --preprocess")
        p["mean"], p["std"] = tuple(p["mean"]), tuple(p["std"])
        if mean is not None:
            p["mean"] = tuple(mean)
        if std is not None:
            p["std"] = tuple(std)
        return p
    if kind in archs.PRESETS:
        return preprocess_for(archs.PRESETS[kind](image_size), image_size, mean, std)
    return vm.preprocess_preset(kind, image_size, mean, std)


def convert(fmt, src, dst, heads=None, shards=1, labels_file=None, preprocess=None, mean=None,
            std=None, arch=None, over=None):
    if fmt in ARCH_FORMATS:
        entry = archs.lookup(fmt, arch) if arch else None
        t, cfg, embed, layer, head, labels, kind = PLANS[fmt](src, heads, entry, over)
    else:
        if arch:
            raise CheckpointError(f"--arch is for --format {'/'.join(ARCH_FORMATS)}; {fmt} "
                                  "checkpoints carry their settings")
        t, cfg, embed, layer, head, labels, kind = PLANS[fmt](src, heads)
    if labels_file:
        with open(labels_file) as f:
            labels = [line.rstrip("\n") for line in f if line.strip()]
        if len(labels) != cfg["num_classes"]:
            raise CheckpointError(f"{labels_file}: {len(labels)} labels, the model has "
                                  f"{cfg['num_classes']} classes")
    # Fetch every tensor first so that missing/unexpected names are reported
    # before an output file is created.
    parts = [embed()] + [layer(i) for i in range(cfg["num_layers"])] + [head()]
    t.finish()
    pre = preprocess_for(preprocess or kind, cfg["image_size"], mean, std)
    w = vm.ModelWriter(dst, cfg, pre, labels=labels, shards=shards, source=f"{fmt}:{src}")
    try:
        w.write_embed(**parts[0])
        for i in range(cfg["num_layers"]):
            w.write_layer(i, parts[1 + i])
        w.write_head(**parts[-1])
        w.close()
    except ValueError as e:
        w.abort()
        raise CheckpointError(f"{src}: {e}")
    except BaseException:
        w.abort()
        raise
    return cfg, w.files_written()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--format", required=True, choices=sorted(PLANS))
    ap.add_argument("src", help="HF model folder, or a .pth/.bin/.safetensors file")
    ap.add_argument("dst", help="output model (.h5); shard files are written next to it")
    ap.add_argument("--heads", type=int, help="attention heads (not inferable from shapes)")
    ap.add_argument("--shards", type=int, default=1, help="split layers over N shard files")
    ap.add_argument("--labels", help="text file with one class name per line")
    ap.add_argument("--preprocess", choices=["hf", "torchvision", "timm", "clip", "siglip",
                                             "dinov2"],
                    help="preprocessing preset (default: the source library's, or --arch's)")
    ap.add_argument("--arch", help="the source library's model name (timm: "
                    "vit_base_patch16_clip_224, vit_small_patch14_reg4_dinov2, ...): the settings "
                    "the weights cannot tell")
    ap.add_argument("--act", choices=["gelu", "gelu_tanh", "quick_gelu"],
                    help="MLP activation (overrides --arch)")
    ap.add_argument("--eps", type=float, help="LayerNorm epsilon (overrides --arch)")
    ap.add_argument("--pooling", choices=["cls", "avg", "cls_avg"],
                    help="pooling where the weights leave it open (overrides --arch)")
    ap.add_argument("--head", choices=["linear", "projection"],
                    help="what head.weight is: a classifier or CLIP's projection (overrides --arch)")
    ap.add_argument("--mean", type=float, nargs=3, metavar=("R", "G", "B"),
                    help="normalisation mean instead of the preset's")
    ap.add_argument("--std", type=float, nargs=3, metavar=("R", "G", "B"),
                    help="normalisation std instead of the preset's")
    a = ap.parse_args(argv)
    try:
        over = dict(activation=a.act, layer_norm_eps=a.eps, pooling=a.pooling, head=a.head)
        if a.format not in ARCH_FORMATS and any(v is not None for v in over.values()):
            raise CheckpointError(f"--act/--eps/--pooling/--head are for --format "
                                  f"{'/'.join(ARCH_FORMATS)}; {a.format} checkpoints carry "
                                  "their settings")
        cfg, files = convert(a.format, a.src, a.dst, a.heads, a.shards, a.labels, a.preprocess,
                             a.mean, a.std, a.arch, over)
    except (CheckpointError, ValueError, OSError) as e:
        print(f"convert_checkpoint.py: error: {e}", file=sys.stderr)
        return 2
    except (KeyError, TypeError, IndexError, AttributeError, ZeroDivisionError) as e:
        # a checkpoint malformed in a way no check above names
        print(f"convert_checkpoint.py: error: {a.src} is not a well-formed {a.format} ViT "
              f"checkpoint ({type(e).__name__}: {e})", file=sys.stderr)
        return 2
    print(f"convert_checkpoint.py: {cfg['num_layers']} layers, width {cfg['hidden_size']}, "
          f"{cfg['num_heads']} heads, {cfg['num_classes']} classes -> {', '.join(files)}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
