"""Random ViT parameters, written out the way each library names them.

This is the inverse of scripts/convert_checkpoint.py, written separately from
it: parameters in vit_ref's terms go out as a HuggingFace folder, a
torchvision state dict or a timm state dict, so a test can run the real
converter on them and compare vitrun with the reference on the same numbers.
"""
import json
import os
import struct

import numpy as np


def random_params(image, patch, channels, hidden, layers, heads, mlp, classes, eps, seed):
    rng = np.random.default_rng(seed)
    n = lambda *s, std=0.02: (rng.standard_normal(s) * std).astype(np.float32)
    D, M, T = hidden, mlp, (image // patch) ** 2 + 1
    P = dict(patch_w=n(D, channels, patch, patch, std=(channels * patch * patch) ** -0.5),
             patch_b=n(D, std=0.1), cls=n(D, std=0.5), pos=n(T, D, std=0.5),
             norm_w=1 + n(D, std=0.2), norm_b=n(D, std=0.1),
             head_w=n(classes, D, std=D ** -0.5), head_b=n(classes, std=0.1),
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
    return P


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


def export_timm(P, path):
    _save(path, export_timm_tensors(P))
    return path


def export_torchvision_safetensors(P, path):
    """A torchvision state dict in a .safetensors file (for format mix-up tests)."""
    t = _torchvision_tensors(P, False)
    write_safetensors(path, t)
    return path


def export_timm_tensors(P):
    D = P["patch_w"].shape[0]
    t = {"cls_token": P["cls"].reshape(1, 1, D), "pos_embed": P["pos"][None],
         "patch_embed.proj.weight": P["patch_w"], "patch_embed.proj.bias": P["patch_b"],
         "norm.weight": P["norm_w"], "norm.bias": P["norm_b"],
         "head.weight": P["head_w"], "head.bias": P["head_b"]}
    for i, L in enumerate(P["layers"]):
        p = f"blocks.{i}."
        t[p + "norm1.weight"], t[p + "norm1.bias"] = L["ln1_w"], L["ln1_b"]
        t[p + "attn.qkv.weight"] = np.concatenate([L["wq"], L["wk"], L["wv"]])
        t[p + "attn.qkv.bias"] = np.concatenate([L["bq"], L["bk"], L["bv"]])
        t[p + "attn.proj.weight"], t[p + "attn.proj.bias"] = L["wo"], L["bo"]
        t[p + "norm2.weight"], t[p + "norm2.bias"] = L["ln2_w"], L["ln2_b"]
        t[p + "mlp.fc1.weight"], t[p + "mlp.fc1.bias"] = L["w1"], L["b1"]
        t[p + "mlp.fc2.weight"], t[p + "mlp.fc2.bias"] = L["w2"], L["b2"]
    return t
