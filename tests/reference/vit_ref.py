"""An independent ViT forward pass in float64 numpy, written from the equations.

It covers the ViT family (classic ViT, DeiT and DeiT III, CLIP, SigLIP,
DINOv2 with registers, timm's avg-pool / fc_norm and qk_norm models, SwiGLU
MLPs). Parameters are a plain dict in the paper's terms (separate Wq, Wk, Wv
per layer, PyTorch Linear layout: y = x W^T + b), not vitrun's file layout.
Every key beyond the classic ViT's is optional and defaults to the classic
ViT; any bias may be None (no bias).

Embedding
    patch_w (D, C, p, p)    patch_b (D) or None (CLIP's conv1 has no bias)
    cls (D) or None         class token (None: SigLIP, timm class_token=False)
    dist (D) or None        DeiT distillation token
    reg (R, D) or None      register tokens
        token order: cls, dist, regs, then the patches row-major
    pos (Tpos, D) or None   learned position embeddings
    pos_mode "all"          pos covers every token, added after concatenation
             "patches"      pos covers the patches only, the prefix tokens get
                            none (timm no_embed_class: DeiT III, DINOv2-reg)
    norm_pre_w norm_pre_b (D)   LayerNorm after the embedding (CLIP ln_pre)

Blocks, x = x + ls1 * attn(LN1(x)); x = x + ls2 * mlp(LN2(x))
    layers: list of dict ln1_w ln1_b wq bq wk bk wv bv wo bo ln2_w ln2_b
            w1 b1 w2 b2, and optionally
        q_norm_w q_norm_b k_norm_w k_norm_b (hd)   LayerNorm over head_dim of
            each head's q and k before the scores (timm qk_norm)
        ls1 ls2 (D)          LayerScale gammas
        w1g b1g (M, D)/(M)   SwiGLU gate: hidden = silu(x w1g^T + b1g) * (x w1^T + b1)
    block "sequential" (default) | "parallel": ViT-22B's block (Dehghani et
            al. 2023, timm ParallelScalingBlock): both branches read LN1 of the
            block's input, x = x + ls1 * attn(LN1(x)) + ls2 * mlp(LN1(x));
            the layers have no ln2
    act "gelu" (exact erf) | "gelu_tanh" | "quick_gelu" (x sigmoid(1.702 x)) | "swiglu"
    heads (int)  eps (float, every LayerNorm: blocks, qk norm, pools, heads)

Output
    final_norm "pre_pool"    norm_w norm_b on every token, then pooling
               "post_pool"   pooling, then norm_w norm_b (timm fc_norm)
               "none"
    pool "cls"      token 0
         "avg"      mean of the patch tokens (prefix tokens excluded)
         "map"      attention pooling with a learned latent query (SigLIP,
                    timm AttentionPoolLatent); keys and values from the patch
                    tokens (timm passes x[:, num_prefix_tokens:]); see
                    attention_pool() for the `map` dict
         "cls_avg"  [token 0, mean of the patch tokens] (DINOv2 linear heads), width 2D
    pool_include_prefix (bool, default False)   "avg" and "map" use every
                    token, prefix included (timm's flag of that name)
    head "linear"      head_w (K, Pw) head_b (K)
         "none"        the embedding is the pooled vector
         "projection"  head_w (E, Pw), no bias (CLIP proj)
         "distilled"   DeiT: head_w head_b on token 0 and head_dist_w
                       head_dist_b on token 1 (both after the final norm);
                       the logits are the mean of the two

forward() returns every intermediate the C code can dump.
"""
import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])


# ---------------------------------------------------------------- primitives

def layer_norm(x, w, b, eps):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + e^-x), without overflow


def quick_gelu(x):
    return x * sigmoid(1.702 * x)


def silu(x):
    return x * sigmoid(x)


ACTIVATIONS = {"gelu": gelu, "gelu_tanh": gelu_tanh, "quick_gelu": quick_gelu}


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def linear(x, w, b=None):
    """y = x W^T + b; b None: no bias."""
    y = x @ w.T
    return y if b is None else y + b


# ---------------------------------------------------------------- int8
# --precision int8 as runtime/quant.h defines it; the integers are kept as
# the values they stand for (q * s), whose products float64 holds exactly.

def int8_weights(w):
    """Symmetric per output channel: s = max|w| / 127, q = rint(w / s) in
    [-127, 127] (numpy's rint rounds half to even, like C's)."""
    w = np.asarray(w, np.float32).astype(np.float64)  # what the model file holds
    m = np.abs(w).max(axis=1, keepdims=True)
    s = np.where((m > 0) & np.isfinite(m), m / 127.0, 1.0)
    return np.clip(np.rint(w / s), -127, 127) * s


def uint8_rows(x):
    """Asymmetric uint8 per row (token), the range widened to hold 0:
    s = (hi - lo) / 255, zp = rint(-lo / s), q = clip(rint(x / s) + zp, 0, 255);
    returns (q - zp) * s. The quantiser itself runs in float32 as quant.h
    defines it (x rounded to float32, s and 1 / s in float32, x * (1 / s)
    in float32): inputs on a grid, such as normalised 8-bit pixels, put many
    values exactly half-way between two levels, and only the same float32
    operations send them the same way. The result is float64."""
    f = np.float32
    x = np.asarray(x, np.float64).astype(f)
    lo = np.minimum(x.min(axis=-1, keepdims=True), f(0))
    hi = np.maximum(x.max(axis=-1, keepdims=True), f(0))
    s = (hi - lo) / f(255)
    s = np.where(s > 0, s, f(1)).astype(f)
    inv = (f(1) / s).astype(f)
    zp = np.clip(np.rint(-lo * inv), 0, 255).astype(f)
    q = np.clip(np.rint(x * inv) + zp, 0, 255)
    return (q.astype(np.float64) - zp) * s.astype(np.float64)


def normalize_u8_f32(images, mean, std):
    """normalize_u8 in float32 as ToTensor + Normalize (and vitrun) compute
    it, for int8 runs whose first quantiser sees these exact floats."""
    f = np.float32
    x = images.astype(f) / f(255)
    x = (x - np.asarray(mean, f)) / np.asarray(std, f)
    return x.transpose(0, 3, 1, 2).astype(np.float64)


def linear_int8(x, w, b=None):
    """linear() with both sides quantised as above."""
    return linear(uint8_rows(x), int8_weights(w), b)


# ---------------------------------------------------------------- attention

def _split_heads(y, heads):
    B, T, D = y.shape
    return y.reshape(B, T, heads, D // heads).transpose(0, 2, 1, 3)  # (B, heads, T, hd)


def _merge_heads(y):
    B, H, T, hd = y.shape
    return y.transpose(0, 2, 1, 3).reshape(B, T, H * hd)


def _scores_softmax_v(q, k, v):
    """softmax(q k^T / sqrt(hd)) v, per head: (B, heads, Tq, hd)."""
    a = softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1]))
    return a @ v


def attention(h, L, heads, eps=1e-6, lin=linear):
    """Multi-head self-attention of block L on normed tokens h (B, T, D).

    With q_norm_w/k_norm_w, each head's q and k go through a LayerNorm over
    head_dim (eps as the model's) before the scores.
    """
    q = _split_heads(lin(h, L["wq"], L.get("bq")), heads)
    k = _split_heads(lin(h, L["wk"], L.get("bk")), heads)
    v = _split_heads(lin(h, L["wv"], L.get("bv")), heads)
    if L.get("q_norm_w") is not None:
        q = layer_norm(q, L["q_norm_w"], L["q_norm_b"], eps)
        k = layer_norm(k, L["k_norm_w"], L["k_norm_b"], eps)
    o = _merge_heads(_scores_softmax_v(q, k, v))
    return lin(o, L["wo"], L.get("bo"))


def mlp(h, L, act, lin=linear):
    """fc2(act(fc1(h))); SwiGLU: fc2(silu(fc1g(h)) * fc1(h))."""
    if act == "swiglu":
        hidden = silu(lin(h, L["w1g"], L.get("b1g"))) * lin(h, L["w1"], L.get("b1"))
    else:
        hidden = ACTIVATIONS[act](lin(h, L["w1"], L.get("b1")))
    return lin(hidden, L["w2"], L.get("b2"))


def _fold_layerscale(L):
    """int8: LayerScale multiplied into its branch's last matrix and bias
    before quantising, as vitrun does (in float32), since
    quant(diag(g) W) is not g * quant(W)."""
    L = dict(L)
    for ls, w, b in (("ls1", "wo", "bo"), ("ls2", "w2", "b2")):
        g = L.get(ls)
        if g is not None:
            L[w] = (L[w].astype(np.float32) * g.astype(np.float32)[:, None]).astype(np.float64)
            if L.get(b) is not None:
                L[b] = (L[b].astype(np.float32) * g.astype(np.float32)).astype(np.float64)
            L[ls] = None
    return L


def block(x, L, heads, act, eps, lin=linear, parallel=False):
    """Pre-norm transformer block, with LayerScale where ls1/ls2 are given;
    parallel: both branches on LN1(x), summed into x (ViT-22B)."""
    if lin is not linear:
        L = _fold_layerscale(L)
    h = layer_norm(x, L["ln1_w"], L["ln1_b"], eps)
    a = attention(h, L, heads, eps, lin)
    if L.get("ls1") is not None:
        a = a * L["ls1"]
    if parallel:
        m = mlp(h, L, act, lin)
        if L.get("ls2") is not None:
            m = m * L["ls2"]
        return x + a + m
    x = x + a
    m = mlp(layer_norm(x, L["ln2_w"], L["ln2_b"], eps), L, act, lin)
    if L.get("ls2") is not None:
        m = m * L["ls2"]
    return x + m


def attention_pool(tokens, M, heads, act, eps):
    """SigLIP's MAP head (timm AttentionPoolLatent, latent_len 1).

    M: latent (Lq, D), wq bq, wk bk, wv bv, wo bo (D, D)/(D), norm_w norm_b,
    w1 b1 w2 b2. q from the latent, k and v from the tokens; then
    o = attn wo^T + bo; o = o + mlp(LN(o)); the pooled vector is o[:, 0].
    """
    B = tokens.shape[0]
    latent = np.broadcast_to(M["latent"], (B,) + M["latent"].shape)
    q = _split_heads(linear(latent, M["wq"], M.get("bq")), heads)
    k = _split_heads(linear(tokens, M["wk"], M.get("bk")), heads)
    v = _split_heads(linear(tokens, M["wv"], M.get("bv")), heads)
    o = linear(_merge_heads(_scores_softmax_v(q, k, v)), M["wo"], M.get("bo"))
    o = o + mlp(layer_norm(o, M["norm_w"], M["norm_b"], eps), M, act)
    return o[:, 0]


# ---------------------------------------------------------------- the model

def _f64(v):
    if isinstance(v, np.ndarray):
        return np.asarray(v, np.float64)
    if isinstance(v, dict):
        return {k: _f64(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_f64(x) for x in v]
    return v


def _choice(P, key, default, allowed):
    v = P.get(key, default)
    if v not in allowed:
        raise ValueError(f"{key} = {v!r}: expected one of {allowed}")
    return v


def embed(P, pixels, lin=linear):
    """Patch embedding, prefix tokens, position embeddings, norm_pre.

    Returns the input to block 0 (B, T, D) and the number of prefix tokens.
    """
    x = np.asarray(pixels, np.float64)
    B, C, H, W = x.shape
    D, _, p, _ = P["patch_w"].shape
    gh, gw = H // p, W // p
    # A stride-p convolution is a matrix product over non-overlapping patches.
    patches = x.reshape(B, C, gh, p, gw, p).transpose(0, 2, 4, 1, 3, 5).reshape(B, gh * gw, C * p * p)
    tokens = lin(patches, P["patch_w"].reshape(D, -1), P.get("patch_b"))

    prefix = [t.reshape(-1, D) for t in (P.get("cls"), P.get("dist"), P.get("reg")) if t is not None]
    prefix = np.concatenate(prefix) if prefix else np.zeros((0, D))
    n_prefix = prefix.shape[0]

    pos_mode = _choice(P, "pos_mode", "all", ("all", "patches"))
    pos = P.get("pos")
    if pos is not None:
        want = gh * gw + (n_prefix if pos_mode == "all" else 0)
        if pos.shape != (want, D):
            raise ValueError(f"pos is {pos.shape}, pos_mode {pos_mode} wants ({want}, {D})")
    if pos is not None and pos_mode == "patches":
        tokens = tokens + pos
    x = np.concatenate([np.broadcast_to(prefix, (B, n_prefix, D)), tokens], axis=1)
    if pos is not None and pos_mode == "all":
        x = x + pos
    if P.get("norm_pre_w") is not None:
        x = layer_norm(x, P["norm_pre_w"], P["norm_pre_b"], P["eps"])
    return x, n_prefix


def forward(P, pixels, precision="fp32"):
    """pixels: (B, C, H, W) normalised. precision "int8": the patch
    embedding's and the blocks' matrices as vitrun --precision int8 runs
    them (linear_int8); the heads stay float.

    Returns dict:
      embed      (B, T, D) input to block 0 (after position embeddings and norm_pre)
      blocks     list of (B, T, D), each block's output
      pooled     (B, Pw) after pooling and a post_pool norm, before the head
      embedding  the head's output for "projection"; else pooled (for
                 "distilled": the normed class token)
      logits     (B, K), heads "linear" and "distilled" only
    """
    P = _f64(P)
    eps, heads = P["eps"], P["heads"]
    act = _choice(P, "act", "gelu", ("gelu", "gelu_tanh", "quick_gelu", "swiglu"))
    final_norm = _choice(P, "final_norm", "pre_pool", ("pre_pool", "post_pool", "none"))
    pool = _choice(P, "pool", "cls", ("cls", "avg", "map", "cls_avg"))
    head = _choice(P, "head", "linear", ("linear", "none", "projection", "distilled"))

    if pool in ("cls", "cls_avg") and P.get("cls") is None:
        raise ValueError(f"pool {pool!r} needs a class token")
    parallel = _choice(P, "block", "sequential", ("sequential", "parallel")) == "parallel"
    lin = {"fp32": linear, "int8": linear_int8}[precision]
    x, n_prefix = embed(P, pixels, lin)
    out = {"embed": x, "blocks": []}
    for L in P["layers"]:
        x = block(x, L, heads, act, eps, lin, parallel)
        out["blocks"].append(x)

    if final_norm == "pre_pool":
        x = layer_norm(x, P["norm_w"], P["norm_b"], eps)
    # the tokens avg and map reduce over
    rest = x if P.get("pool_include_prefix", False) else x[:, n_prefix:]
    if pool == "cls":
        pooled = x[:, 0]
    elif pool == "avg":
        pooled = rest.mean(axis=1)
    elif pool == "cls_avg":
        pooled = np.concatenate([x[:, 0], x[:, n_prefix:].mean(axis=1)], axis=-1)
    else:
        if act == "swiglu":
            raise ValueError("pool 'map' with act 'swiglu': no library defines the MAP head's MLP for it")
        pooled = attention_pool(rest, P["map"], heads, act, eps)
    if final_norm == "post_pool":
        pooled = layer_norm(pooled, P["norm_w"], P["norm_b"], eps)
    out["pooled"] = pooled

    out["embedding"] = pooled
    if head == "linear":
        out["logits"] = linear(pooled, P["head_w"], P.get("head_b"))
    elif head == "projection":
        out["embedding"] = linear(pooled, P["head_w"])
    elif head == "distilled":
        if pool != "cls" or P.get("dist") is None:
            raise ValueError("head 'distilled' needs pool 'cls' and a dist token")
        dist = x[:, 1]
        if final_norm == "post_pool":
            dist = layer_norm(dist, P["norm_w"], P["norm_b"], eps)
        out["logits"] = 0.5 * (linear(pooled, P["head_w"], P.get("head_b")) +
                               linear(dist, P["head_dist_w"], P.get("head_dist_b")))
    return out


def normalize_u8(images, mean, std):
    """(N, H, W, C) uint8 -> (N, C, H, W) float64, as ToTensor + Normalize."""
    x = images.astype(np.float64) / 255.0
    x = (x - np.asarray(mean)) / np.asarray(std)
    return x.transpose(0, 3, 1, 2)
