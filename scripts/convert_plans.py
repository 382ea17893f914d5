"""State-dict checkpoints (torchvision, timm, OpenCLIP, DINOv2) to vitrun's
plan: config, tensors by part. What the names cannot tell comes from --arch
(scripts/vit_archs.py) or the overrides.
"""
import re

import numpy as np

from checkpoint_readers import CheckpointError, read_any
from convert_common import (Tensors, count_layers, grid_of, infer_heads, logit_params,
                            shape_config, shape_of, split_qkv)

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


EXAMPLE_ARCH = {"timm": "timm's model name, e.g. vit_base_patch16_224",
                "OpenCLIP": "OpenCLIP's model name, e.g. ViT-B-16 or ViT-B-16-quickgelu"}


def plan_timm(src, heads, arch=None, over=None, tensors=None, preset="timm", library="timm"):
    """timm's VisionTransformer (vision_transformer.py) and deit.py state dicts.

    What the names tell: prefix tokens (cls_token, dist_token, reg_token),
    norm_pre, LayerScale (ls1.gamma), qkv bias, qk_norm, SwiGLU (fc1_g/fc1_x,
    or an fc1 twice fc2's width), the final norm (norm or fc_norm), the
    attention-pool head (attn_pool.*) and the head (head, head_dist). What
    they cannot: the activation, the LayerNorm eps, the head count, whether
    the position table covers the prefix tokens when that is ambiguous, and a
    head's meaning (classifier or CLIP projection): from --arch NAME (timm's
    model name) or the overrides. `tensors`: already read and renamed to
    timm's names (the OpenCLIP and DINOv2 plans)."""
    over = over or {}
    a = dict(arch or {})
    a.update({k: v for k, v in over.items() if v is not None})
    t = Tensors(read_any(src) if tensors is None else tensors, src)
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
    for key, got in (("hidden_size", D), ("patch_size", p), ("num_layers", L)):
        if a.get(key) is not None and a[key] != got:
            raise CheckpointError(f"{src}: the checkpoint has {key} {got}, --arch says "
                                  f"{a[key]}; is it the right --arch?")
    cfg["norm_pre"] = int(t.has("norm_pre.weight"))
    # ViT-22B's ParallelScalingBlock: in_norm, in_proj = [fc1; q; k; v], one ls
    par = t.has("blocks.0.in_proj.weight")
    fused_out = par and t.has("blocks.0.out_proj.weight")
    if par:
        cfg["block"] = "parallel"
        cfg["layer_scale"] = int(t.has("blocks.0.ls.gamma"))
        cfg["qkv_bias"] = int(t.has("blocks.0.in_proj.bias"))
        cfg["qk_norm"] = int(t.has("blocks.0.q_norm.weight"))
    else:
        cfg["layer_scale"] = int(t.has("blocks.0.ls1.gamma"))
        cfg["qkv_bias"] = int(t.has("blocks.0.attn.qkv.bias"))
        cfg["qk_norm"] = int(t.has("blocks.0.attn.q_norm.weight"))
    # the MLP
    split = t.has("blocks.0.mlp.fc1_g.weight")
    if par:
        ip = shape_of(t, "blocks.0.in_proj.weight")
        if len(ip) != 2 or ip[1] != D or ip[0] <= 3 * D:
            raise CheckpointError(f"{src}: blocks.0.in_proj.weight has shape {list(ip)}; "
                                  f"expected [M + 3*{D}, {D}] (ParallelScalingBlock)")
        M = ip[0] - 3 * D
        fc1 = (M, D)
    else:
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
        raise CheckpointError(f"{src}: the MLP activation cannot be read off this {library} "
                              f"checkpoint; pass --arch NAME ({EXAMPLE_ARCH.get(library, library)}) "
                              "or --act {gelu,gelu_tanh,quick_gelu}")
    if "layer_norm_eps" not in a:
        raise CheckpointError(f"{src}: the LayerNorm eps cannot be read off this {library} checkpoint; "
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
    if a.get("pos_resample"):
        cfg["pos_resample"] = a["pos_resample"]

    def embed():
        return dict(patch_weight=t.get("patch_embed.proj.weight"),
                    patch_bias=t.get("patch_embed.proj.bias") if t.has("patch_embed.proj.bias") else None,
                    cls_token=t.get("cls_token", (D,)) if cfg["class_token"] else None,
                    dist_token=t.get("dist_token", (D,)) if cfg["dist_token"] else None,
                    reg_tokens=t.get("reg_token", (cfg["reg_tokens"], D)) if cfg["reg_tokens"] else None,
                    pos_embed=t.get("pos_embed", (pos_rows, D)),
                    norm_pre=(t.get("norm_pre.weight"), t.get("norm_pre.bias"))
                    if cfg["norm_pre"] else None)

    def parallel_layer(p_):
        w = t.get(p_ + "in_proj.weight", (M + 3 * D, D))
        b = t.get(p_ + "in_proj.bias", (M + 3 * D,)) if cfg["qkv_bias"] else None
        if w is None or (cfg["qkv_bias"] and b is None):
            return {}  # listed by t.finish()
        d = dict(ln1_w=t.get(p_ + "in_norm.weight"), ln1_b=t.get(p_ + "in_norm.bias"),
                 fc1_w=w[:M], fc1_b=b[:M] if b is not None else t.get(p_ + "mlp_bias", (M,)),
                 **split_qkv(w[M:], b[M:] if b is not None else None, D))
        if fused_out:  # one out_proj over [attention; MLP] columns, one bias
            o = t.get(p_ + "out_proj.weight", (D, D + M))
            ob = t.get(p_ + "out_proj.bias", (D,)) if t.has(p_ + "out_proj.bias") else None
            d.update(proj_w=None if o is None else o[:, :D], proj_b=ob,
                     fc2_w=None if o is None else o[:, D:], fc2_b=None)
        else:
            d.update(proj_w=t.get(p_ + "attn_out_proj.weight", (D, D)),
                     proj_b=t.get(p_ + "attn_out_proj.bias", (D,))
                     if t.has(p_ + "attn_out_proj.bias") else None,
                     fc2_w=t.get(p_ + "mlp_out_proj.weight", (D, M)),
                     fc2_b=t.get(p_ + "mlp_out_proj.bias", (D,))
                     if t.has(p_ + "mlp_out_proj.bias") else None)
        for k in ("proj_b", "fc2_b"):  # timm proj_bias=False: no bias is a zero one
            if d[k] is None:
                d[k] = np.zeros(D, np.float32)
        if cfg["qk_norm"]:
            for n in ("q_norm", "k_norm"):
                d[n + "_w"], d[n + "_b"] = t.get(p_ + n + ".weight"), t.get(p_ + n + ".bias")
        if cfg["layer_scale"]:  # ls(attn + mlp) = ls * attn + ls * mlp
            d["ls1"] = d["ls2"] = t.get(p_ + "ls.gamma")
        return d

    def layer(i):
        p_ = f"blocks.{i}."
        if par:
            return parallel_layer(p_)
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
    return t, cfg, embed, layer, head, None, pre or preset


def _strip(tensors, prefixes):
    """The tensors under the first of `prefixes` found, the prefix removed."""
    for p in prefixes:
        sub = {k[len(p):]: v for k, v in tensors.items() if k.startswith(p)}
        if sub:
            return sub, p
    return {}, None


# OpenCLIP's VisionTransformer names -> timm's (what timm's own OpenAI CLIP
# filter does); `proj` is applied as x @ proj, so timm's head.weight is proj.T
OPENCLIP_NAMES = [("conv1.", "patch_embed.proj."), ("ln_pre.", "norm_pre."),
                  ("transformer.resblocks.", "blocks."), (".ln_1.", ".norm1."),
                  (".ln_2.", ".norm2."), (".attn.in_proj_weight", ".attn.qkv.weight"),
                  (".attn.in_proj_bias", ".attn.qkv.bias"), (".attn.out_proj.", ".attn.proj."),
                  (".ls_1.", ".ls1."), (".ls_2.", ".ls2."), (".mlp.c_fc.", ".mlp.fc1."),
                  (".mlp.c_proj.", ".mlp.fc2."), ("ln_post.", "norm.")]


def plan_openclip(src, heads, arch=None, over=None):
    """OpenAI CLIP and OpenCLIP checkpoints (`visual.*`, with or without a
    `module.` prefix; the text tower is left out). The image tower is either
    OpenCLIP's own VisionTransformer, renamed to timm's names, or a timm
    model (`visual.trunk.*`, SigLIP in OpenCLIP) with an optional projection
    `visual.head.proj`. The activation (OpenAI's quick_gelu or GELU) from
    --arch (OpenCLIP's model name: ViT-B-16, ViT-B-16-quickgelu, ...) or
    --act; LayerNorm eps 1e-5 (OpenCLIP's nn.LayerNorm) unless --arch or
    --eps say otherwise."""
    over = dict(over or {})
    every = read_any(src)
    vis, root = _strip(every, ["visual.", "module.visual."])
    if not vis:
        raise CheckpointError(f"{src}: no visual.* tensors; is this an OpenCLIP or OpenAI CLIP "
                              "checkpoint?")
    a = dict(arch or {})
    if "trunk.patch_embed.proj.weight" in vis:  # a timm tower
        t, _ = _strip(vis, ["trunk."])
        if "head.proj.weight" in vis:
            t["head.weight"] = vis["head.proj.weight"]
            if "head.proj.bias" in vis:
                t["head.bias"] = vis["head.proj.bias"]
            over["head"] = over.get("head") or "projection"
        other = sorted(k for k in vis if not k.startswith(("trunk.", "head.proj.")))
        if other:
            raise CheckpointError(f"{src}: unexpected tensors in the timm tower: "
                                  f"{', '.join(other[:10])}")
    else:
        t = {}
        for k, v in vis.items():
            name = {"class_embedding": "cls_token", "positional_embedding": "pos_embed"}.get(k, k)
            for old, new in OPENCLIP_NAMES:
                name = name.replace(old, new)
            t[name] = v
        if "proj" in t:
            t["head.weight"] = np.ascontiguousarray(np.asarray(t.pop("proj")).T)
            over["head"] = over.get("head") or "projection"
        a.setdefault("layer_norm_eps", 1e-5)
    plan = plan_timm(src + f" ({root}*)", heads, a, over, tensors=t, preset="clip",
                     library="OpenCLIP")
    lp = logit_params(every, root[:-len("visual.")])  # kept for --zero-shot
    plan[1].update(lp)
    return plan


def plan_dinov2(src, heads, arch=None, over=None):
    """DINOv2's own checkpoints (facebookresearch/dinov2 hub .pth): timm's
    names but register_tokens, mask_token (not used to embed images) and
    SwiGLU's w12/w3. DINOv2 adds its position table to [cls, patches] and
    inserts the registers after it without one: with registers, pos[0] goes
    into the class token (in float32) and the table covers the patches. Its
    LayerNorm eps is 1e-6 and its MLP GELU (or SwiGLU), its own definitions."""
    t = dict(read_any(src))
    if any(k.startswith("backbone.") for k in t):  # a training file's teacher
        t = {k[len("backbone."):]: v for k, v in t.items() if k.startswith("backbone.")}
    t.pop("mask_token", None)
    # training files chunk the blocks (block_chunks 4): blocks.C.N. with N global
    t = {re.sub(r"^blocks\.\d+\.(\d+)\.", r"blocks.\1.", k) if re.match(r"^blocks\.\d+\.\d+\.", k)
         else k: v for k, v in t.items()}
    for k in list(t):
        for old, new in ((".mlp.w12.", ".mlp.fc1."), (".mlp.w3.", ".mlp.fc2.")):
            if old in k:
                t[k.replace(old, new)] = t.pop(k)
    for n in ("cls_token", "pos_embed", "patch_embed.proj.weight"):
        if n not in t:
            raise CheckpointError(f"{src}: tensor {n} is missing; is this a DINOv2 checkpoint?")
    if "register_tokens" in t:
        pos = np.asarray(t["pos_embed"], np.float32)
        D = pos.shape[-1]
        if np.size(t["cls_token"]) != D or pos.size % D:
            raise CheckpointError(f"{src}: cls_token of shape {list(np.shape(t['cls_token']))} "
                                  f"and pos_embed {list(pos.shape)} do not share a width")
        D = pos.shape[-1]
        t["reg_token"] = t.pop("register_tokens")
        t["cls_token"] = (np.asarray(t["cls_token"], np.float32).reshape(-1, D)[0] +
                          pos.reshape(-1, D)[0]).astype(np.float32)
        t["pos_embed"] = pos.reshape(-1, D)[1:]
        arch = dict(arch or {}, pos_embed="patches")
    a = dict(arch or {})
    a.setdefault("layer_norm_eps", 1e-6)
    swiglu = any(".mlp.fc1." in k for k in t) and \
        np.shape(t.get("blocks.0.mlp.fc1.weight", ()))[:1] == (2 * np.shape(
            t.get("blocks.0.mlp.fc2.weight", (0, 0)))[1],)
    if not swiglu:
        a.setdefault("activation", "gelu")
    a.setdefault("head", "none")
    # DINOv2's interpolate_pos_encoding: offset 0.1 without antialiasing by
    # default; the hub models with registers: offset 0, antialiased
    a["pos_resample"] = "bicubic_antialias" if "reg_token" in t else "bicubic_offset"
    return plan_timm(src, heads, a, over, tensors=t, preset="dinov2", library="DINOv2")
