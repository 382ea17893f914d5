"""An independent ViT forward pass in float64 numpy, written from the equations.

Parameters are a plain dict in the paper's terms (separate Wq, Wk, Wv per
layer, PyTorch Linear layout: y = x W^T + b), not vitrun's file layout:

    patch_w (D, C, p, p)  patch_b (D)  cls (D)  pos (T, D)
    layers: list of dict ln1_w ln1_b wq bq wk bk wv bv wo bo ln2_w ln2_b w1 b1 w2 b2
    norm_w norm_b (D)  head_w (K, D)  head_b (K)  heads (int)  eps (float)

forward() returns every intermediate the C code can dump.
"""
import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])


def layer_norm(x, w, b, eps):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def attention(h, L, heads):
    B, T, D = h.shape
    hd = D // heads
    split = lambda y: y.reshape(B, T, heads, hd).transpose(0, 2, 1, 3)  # (B, heads, T, hd)
    q = split(h @ L["wq"].T + L["bq"])
    k = split(h @ L["wk"].T + L["bk"])
    v = split(h @ L["wv"].T + L["bv"])
    a = softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd))
    o = (a @ v).transpose(0, 2, 1, 3).reshape(B, T, D)
    return o @ L["wo"].T + L["bo"]


def forward(P, pixels):
    """pixels: (B, C, H, W) normalised. Returns dict embed, blocks, embedding, logits."""
    P = {k: (np.asarray(v, np.float64) if isinstance(v, np.ndarray) else v) for k, v in P.items()}
    x = np.asarray(pixels, np.float64)
    B, C, H, W = x.shape
    D, _, p, _ = P["patch_w"].shape
    g = H // p
    # A stride-p convolution is a matrix product over non-overlapping patches.
    patches = x.reshape(B, C, g, p, g, p).transpose(0, 2, 4, 1, 3, 5).reshape(B, g * g, C * p * p)
    tokens = patches @ P["patch_w"].reshape(D, -1).T + P["patch_b"]
    cls = np.broadcast_to(P["cls"], (B, 1, D))
    x = np.concatenate([cls, tokens], axis=1) + P["pos"]
    out = {"embed": x, "blocks": []}
    for L in P["layers"]:
        L = {k: np.asarray(v, np.float64) for k, v in L.items()}
        x = x + attention(layer_norm(x, L["ln1_w"], L["ln1_b"], P["eps"]), L, P["heads"])
        h = layer_norm(x, L["ln2_w"], L["ln2_b"], P["eps"])
        x = x + gelu(h @ L["w1"].T + L["b1"]) @ L["w2"].T + L["b2"]
        out["blocks"].append(x)
    out["embedding"] = layer_norm(x[:, 0], P["norm_w"], P["norm_b"], P["eps"])
    out["logits"] = out["embedding"] @ P["head_w"].T + P["head_b"]
    return out


def normalize_u8(images, mean, std):
    """(N, H, W, C) uint8 -> (N, C, H, W) float64, as ToTensor + Normalize."""
    x = images.astype(np.float64) / 255.0
    x = (x - np.asarray(mean)) / np.asarray(std)
    return x.transpose(0, 3, 1, 2)
