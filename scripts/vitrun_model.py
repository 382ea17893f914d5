"""Writes models in the vitrun HDF5 format (docs/MODEL_FORMAT.md).

Shared by convert_checkpoint.py and make_model.py. A model is written one
piece at a time (embedding, then each layer, then the head) so a converter
never needs more than one layer in memory beyond its source checkpoint.

With shards > 1 the file named by the user is an index: it holds /config,
/preprocess, /labels and HDF5 external links to the groups /embed,
/layers/NN, /final_norm and /head, which live in shard files next to it
(`<stem>.shard-KK.h5`). Layers are split into contiguous runs, the embedding
goes with the first shard, the final norm and head with the last.
"""
import math
import os
import uuid

import h5py
import numpy as np

FORMAT_VERSION = 2

# Standard ViT shapes (the paper's Table 1 plus DeiT's Ti/S), 224-pixel inputs.
PRESETS = {
    "vit-ti16": dict(hidden_size=192, num_layers=12, num_heads=3, mlp_dim=768, patch_size=16),
    "vit-s16": dict(hidden_size=384, num_layers=12, num_heads=6, mlp_dim=1536, patch_size=16),
    "vit-b16": dict(hidden_size=768, num_layers=12, num_heads=12, mlp_dim=3072, patch_size=16),
    "vit-l16": dict(hidden_size=1024, num_layers=24, num_heads=16, mlp_dim=4096, patch_size=16),
    "vit-l14": dict(hidden_size=1024, num_layers=24, num_heads=16, mlp_dim=4096, patch_size=14),
    "vit-h14": dict(hidden_size=1280, num_layers=32, num_heads=16, mlp_dim=5120, patch_size=14),
    # timm vit_giant_patch14_224 (mlp_ratio 48/11)
    "vit-g14": dict(hidden_size=1408, num_layers=40, num_heads=16, mlp_dim=6144, patch_size=14),
    # OpenCLIP ViT-bigG-14's image tower (timm vit_gigantic_patch14, mlp_ratio 64/13)
    "vit-bigg14": dict(hidden_size=1664, num_layers=48, num_heads=16, mlp_dim=8192, patch_size=14),
    # "Scaling Vision Transformers to 22 Billion Parameters" (Dehghani et al. 2023): the
    # parallel block with q/k norm and no qkv biases (make_model.py --family vit22b)
    "vit-22b14": dict(hidden_size=6144, num_layers=48, num_heads=48, mlp_dim=24576, patch_size=14),
}

# The head count cannot be read off weight shapes; these are the standard ones.
STANDARD_HEADS = {192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16, 1536: 24}  # 1536: DINOv2-g

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
PRESET_NAMES = ("hf", "torchvision", "timm", "clip", "siglip", "dinov2")


def hw(size):
    """(height, width) of an image size given as one int or two."""
    if isinstance(size, (list, tuple, np.ndarray)):
        h, w = (int(x) for x in size)
        return h, w
    return int(size), int(size)


def preprocess_preset(kind, image_size, mean=None, std=None, crop_pct=None):
    """The preprocessing each source library applies, for a model of
    image_size (one int, or (height, width)); the same rules as
    vr_preprocess_preset in runtime/config.c, which re-derives them for
    --image-size from the recorded `preset` (and timm's `crop_pct`)."""
    h, w = hw(image_size)
    big = max(h, w)
    if kind in ("hf", "siglip"):  # ViTImageProcessor, SiglipImageProcessor: straight to the size
        p = dict(resize="exact", resize_size=[h, w] if h != w else h,
                 interpolation="bilinear" if kind == "hf" else "bicubic",
                 mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    elif kind in ("torchvision", "dinov2"):  # Resize(256) + CenterCrop(224), scaled
        p = dict(resize="shorter", resize_size=int(round(big * 256 / 224)),
                 interpolation="bilinear" if kind == "torchvision" else "bicubic",
                 mean=IMAGENET_MEAN, std=IMAGENET_STD)
    elif kind == "timm":  # crop_pct (0.9), bicubic; a non-square size straight to size/crop_pct
        pct = crop_pct or 0.9
        if h == w:
            p = dict(resize="shorter", resize_size=int(math.floor(h / pct)))
        else:
            p = dict(resize="exact", resize_size=[int(math.floor(h / pct)),
                                                  int(math.floor(w / pct))])
        p.update(interpolation="bicubic", mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
                 crop_pct=float(pct))
    elif kind == "clip":  # CLIPImageProcessor: shortest edge to the size, centre crop
        p = dict(resize="shorter", resize_size=big, interpolation="bicubic", mean=CLIP_MEAN,
                 std=CLIP_STD)
    else:
        raise ValueError(f"unknown preprocessing preset '{kind}' ({', '.join(PRESET_NAMES)})")
    p["crop_size"] = [h, w] if h != w else h
    p["rescale"] = 1.0 / 255.0
    p["preset"] = kind
    if mean is not None:
        p["mean"] = tuple(mean)
    if std is not None:
        p["std"] = tuple(std)
    return p


# The settings of format 2 (docs/MODEL_FORMAT.md) and the classic ViT's values.
VARIANT_DEFAULTS = dict(class_token=1, dist_token=0, reg_tokens=0, pos_embed="all", norm_pre=0,
                        qkv_bias=1, qk_norm=0, layer_scale=0, activation="gelu",
                        final_norm="pre_pool", pooling="cls", head="linear")
# how each library resamples its position table (runtime/posembed.h)
POS_RESAMPLE = ("none", "bicubic_antialias", "bicubic", "bicubic_offset", "bicubic_align_corners")
CHOICES = dict(pos_embed=("all", "patches"), activation=("gelu", "gelu_tanh", "quick_gelu", "swiglu"),
               final_norm=("pre_pool", "post_pool", "none"), pooling=("cls", "avg", "map", "cls_avg"),
               head=("linear", "none", "projection", "distilled"))


def check_config(cfg):
    need = ["image_size", "patch_size", "num_channels", "hidden_size", "num_layers",
            "num_heads", "mlp_dim", "num_classes", "layer_norm_eps"]
    missing = [k for k in need if k not in cfg]
    if missing:
        raise ValueError(f"model config lacks {missing}")
    if cfg["hidden_size"] % cfg["num_heads"]:
        raise ValueError(f"hidden_size {cfg['hidden_size']} is not divisible by "
                         f"num_heads {cfg['num_heads']}")
    H, W = hw(cfg["image_size"])
    if H % cfg["patch_size"] or W % cfg["patch_size"]:
        raise ValueError(f"image_size {H}x{W} is not a multiple of "
                         f"patch_size {cfg['patch_size']}")
    out = {k: cfg[k] for k in need}
    out["image_size"] = [H, W] if H != W else H
    # the grid the position table was trained on, when it is not the image's
    # (convert_checkpoint.py --image-size), and how to resample it
    if cfg.get("pos_grid") is not None and tuple(hw(cfg["pos_grid"])) != (
            H // cfg["patch_size"], W // cfg["patch_size"]):
        out["pos_grid"] = list(hw(cfg["pos_grid"]))
    if cfg.get("pos_resample"):
        if cfg["pos_resample"] not in POS_RESAMPLE:
            raise ValueError(f"pos_resample '{cfg['pos_resample']}' is not one of "
                             f"{', '.join(POS_RESAMPLE)}")
        out["pos_resample"] = cfg["pos_resample"]
    elif "pos_grid" in out:
        raise ValueError("a position table of another grid needs pos_resample")
    out["head_dim"] = cfg["hidden_size"] // cfg["num_heads"]
    for k, v in VARIANT_DEFAULTS.items():
        out[k] = cfg.get(k, v)
        if k in CHOICES and out[k] not in CHOICES[k]:
            raise ValueError(f"{k} '{out[k]}' is not one of {', '.join(CHOICES[k])}")
    for k in ("class_token", "dist_token", "norm_pre", "qkv_bias", "qk_norm", "layer_scale"):
        out[k] = int(bool(out[k]))
    out["reg_tokens"] = int(out["reg_tokens"])
    # zero-shot's scale (exp of the checkpoint's logit_scale) and SigLIP's bias
    for k in ("logit_scale", "logit_bias"):
        if cfg.get(k) is not None:
            v = float(cfg[k])
            if not math.isfinite(v) or (k == "logit_scale" and not 0 < v < 1e6):
                raise ValueError(f"{k} {v} is out of range")
            out[k] = v
    # ViT-22B's parallel block (one LayerNorm, attention and MLP side by side);
    # written only when it is not the default, so older readers refuse nothing
    block = cfg.get("block", "sequential")
    if block not in ("sequential", "parallel"):
        raise ValueError(f"block '{block}' is not one of sequential, parallel")
    if block == "parallel":
        out["block"] = "parallel"
    # how vitrun writes the embedding unless told (--normalize/--no-normalize)
    out["normalize_embedding"] = int(bool(cfg.get("normalize_embedding", 0)))
    if out["head"] in ("none", "projection"):
        out["num_classes"] = 0
    if out["head"] == "projection":
        if not cfg.get("embed_dim"):
            raise ValueError("head 'projection' needs embed_dim")
        out["embed_dim"] = int(cfg["embed_dim"])
    if out["pooling"] == "map":
        if not cfg.get("pool_mlp_dim"):
            raise ValueError("pooling 'map' needs pool_mlp_dim")
        out["pool_mlp_dim"] = int(cfg["pool_mlp_dim"])
    if out["head"] == "distilled" and not out["dist_token"]:
        raise ValueError("head 'distilled' reads the distillation token, but dist_token = 0")
    if not out["class_token"] and (out["pooling"] in ("cls", "cls_avg") or out["head"] == "distilled"):
        raise ValueError(f"pooling '{out['pooling']}' reads the class token, but class_token = 0")
    return out


def prefix_tokens(cfg):
    return cfg["class_token"] + cfg["dist_token"] + cfg["reg_tokens"]


def grid(cfg):
    H, W = hw(cfg["image_size"])
    return H // cfg["patch_size"], W // cfg["patch_size"]


def token_count(cfg):
    gh, gw = grid(cfg)
    return gh * gw + prefix_tokens(cfg)


def pos_count(cfg):
    """Rows of the stored position table (on its own grid)."""
    gh, gw = hw(cfg["pos_grid"]) if "pos_grid" in cfg else grid(cfg)
    return gh * gw + (prefix_tokens(cfg) if cfg["pos_embed"] == "all" else 0)


def pooled_width(cfg):
    return 2 * cfg["hidden_size"] if cfg["pooling"] == "cls_avg" else cfg["hidden_size"]


def fixed_str(v):
    """A string as HDF5 fixed-length UTF-8: libhdf5 1.10 reads variable-length
    strings from the global heap, where a damaged file crashes it; vitrun
    reads those only in a child process (docs/MODEL_FORMAT.md)."""
    b = str(v).encode("utf-8")
    return np.array(b, dtype=h5py.string_dtype("utf-8", max(len(b), 1)))


def fixed_strs(vs):
    bs = [str(v).encode("utf-8") for v in vs]
    n = max([len(b) for b in bs] + [1])
    return np.array(bs, dtype=h5py.string_dtype("utf-8", n))


def set_attr(obj, k, v):
    if isinstance(v, str):
        obj.attrs[k] = fixed_str(v)
    elif isinstance(v, (list, tuple)) and v and all(isinstance(x, str) for x in v):
        obj.attrs[k] = fixed_strs(v)
    else:
        obj.attrs[k] = v


def shard_path(path, k):
    stem = path[:-3] if path.endswith(".h5") else path
    return f"{stem}.shard-{k:02d}.h5"


class ModelWriter:
    """Writes one model; call write_embed, write_layer for 0..L-1, write_head, close."""

    def __init__(self, path, config, preprocess, labels=None, shards=1, source=""):
        self.cfg = check_config(config)
        L = self.cfg["num_layers"]
        if not 1 <= shards <= L:
            raise ValueError(f"--shards must be between 1 and the layer count {L}, got {shards}")
        self.path, self.shards = path, shards
        self.model_id = uuid.uuid4().hex
        self.written = set()
        self.index = h5py.File(path, "w")
        self._stamp(self.index)
        set_attr(self.index, "source", source)
        self.index.attrs["num_shards"] = shards
        g = self.index.create_group("config")
        for k, v in self.cfg.items():
            set_attr(g, k, v)
        g = self.index.create_group("preprocess")
        for k, v in preprocess.items():
            if k in ("mean", "std", "rescale", "crop_pct"):
                g.attrs[k] = np.asarray(v, dtype=np.float64)
            elif isinstance(v, (list, tuple)) and not isinstance(v[0], str):
                g.attrs[k] = np.asarray(v, dtype=np.int64)
            else:
                set_attr(g, k, v)
        if labels is not None:
            if len(labels) != self.cfg["num_classes"]:
                raise ValueError(f"{len(labels)} labels for {self.cfg['num_classes']} classes")
            self.index.create_dataset("labels", data=fixed_strs(labels))
        self.files = {}
        if shards > 1:
            set_attr(self.index, "shard_files", [os.path.basename(shard_path(path, k))
                                                 for k in range(shards)])
            self.index.create_group("layers")

    def _stamp(self, f):
        set_attr(f, "format", "vitrun-vit")
        f.attrs["format_version"] = FORMAT_VERSION
        set_attr(f, "model_id", self.model_id)

    def _group(self, name, shard):
        """The group to write `name` into, linking it from the index when sharded."""
        if self.shards == 1:
            return self.index.create_group(name)
        if shard not in self.files:
            f = h5py.File(shard_path(self.path, shard), "w")
            self._stamp(f)
            f.attrs["shard_index"] = shard
            self.files[shard] = f
        g = self.files[shard].create_group(name)
        self.index[name] = h5py.ExternalLink(os.path.basename(shard_path(self.path, shard)), name)
        return g

    def _put(self, g, name, arr, shape):
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if tuple(arr.shape) != tuple(shape):
            raise ValueError(f"{g.name}/{name}: shape {list(arr.shape)}, expected {list(shape)}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{g.name}/{name}: holds NaN or Inf")
        g.create_dataset(name, data=arr)

    def write_embed(self, patch_weight, patch_bias, cls_token, pos_embed, dist_token=None,
                    reg_tokens=None, norm_pre=None):
        """patch_bias None: a convolution without bias (CLIP), written as zeros;
        norm_pre: (weight, bias) of the LayerNorm after the embedding."""
        c = self.cfg
        D, C, p = c["hidden_size"], c["num_channels"], c["patch_size"]
        g = self._group("embed", 0)
        self._put(g, "patch_weight", patch_weight, (D, C, p, p))
        self._put(g, "patch_bias", np.zeros(D) if patch_bias is None else patch_bias, (D,))
        for name, t, on, shape in (("cls_token", cls_token, c["class_token"], (D,)),
                                   ("dist_token", dist_token, c["dist_token"], (D,)),
                                   ("reg_tokens", reg_tokens, c["reg_tokens"],
                                    (c["reg_tokens"], D))):
            if on:
                self._put(g, name, np.reshape(t, shape) if t is not None and
                          np.size(t) == np.prod(shape) else t, shape)
            elif t is not None:
                raise ValueError(f"/embed/{name} given, but the config has none")
        self._put(g, "pos_embed", pos_embed, (pos_count(c), D))
        if c["norm_pre"]:
            self._put(g, "norm_pre/weight", norm_pre[0], (D,))
            self._put(g, "norm_pre/bias", norm_pre[1], (D,))
        self.written.add("embed")

    def write_layer(self, i, t):
        """t: ln1_w, ln1_b, q_w, q_b, k_w, k_b, v_w, v_b (each (D, D) / (D); the
        biases None without qkv bias), proj_w, proj_b, ln2_w, ln2_b, fc1_w,
        fc1_b, fc2_w, fc2_b, in PyTorch Linear layout (no ln2 with block
        "parallel"); with qk_norm q_norm_w,
        q_norm_b, k_norm_w, k_norm_b (head_dim); with LayerScale ls1, ls2 (D);
        for SwiGLU fc1g_w, fc1g_b, the gate (silu(x fc1g^T) * (x fc1^T))."""
        c = self.cfg
        D, H, hd, M = c["hidden_size"], c["num_heads"], c["head_dim"], c["mlp_dim"]
        L = c["num_layers"]
        g = self._group(f"layers/{i:02d}", i * self.shards // L)
        names = [("q_w", (D, D)), ("k_w", (D, D)), ("v_w", (D, D))]
        if c["qkv_bias"]:
            names += [("q_b", (D,)), ("k_b", (D,)), ("v_b", (D,))]
        for name, shape in names:
            if tuple(np.shape(t[name])) != shape:
                raise ValueError(f"layer {i} {name}: shape {list(np.shape(t[name]))}, "
                                 f"expected {list(shape)}")
        self._put(g, "ln1/weight", t["ln1_w"], (D,))
        self._put(g, "ln1/bias", t["ln1_b"], (D,))
        self._put(g, "attn/qkv_weight", np.stack([t["q_w"], t["k_w"], t["v_w"]]).reshape(3, H, hd, D),
                  (3, H, hd, D))
        if c["qkv_bias"]:
            self._put(g, "attn/qkv_bias", np.stack([t["q_b"], t["k_b"], t["v_b"]]).reshape(3, H, hd),
                      (3, H, hd))
        if c["qk_norm"]:
            for n in ("q_norm", "k_norm"):
                self._put(g, f"attn/{n}/weight", t[n + "_w"], (hd,))
                self._put(g, f"attn/{n}/bias", t[n + "_b"], (hd,))
        self._put(g, "attn/proj_weight", t["proj_w"], (D, H * hd))
        self._put(g, "attn/proj_bias", t["proj_b"], (D,))
        if c.get("block") != "parallel":  # a parallel block's MLP reads ln1's output
            self._put(g, "ln2/weight", t["ln2_w"], (D,))
            self._put(g, "ln2/bias", t["ln2_b"], (D,))
        if c["activation"] == "swiglu":  # [gate; value]: the gate's rows first
            self._put(g, "mlp/fc1_weight", np.stack([np.asarray(t["fc1g_w"]),
                                                     np.asarray(t["fc1_w"])]), (2, M, D))
            self._put(g, "mlp/fc1_bias", np.stack([np.asarray(t["fc1g_b"]),
                                                   np.asarray(t["fc1_b"])]), (2, M))
        else:
            self._put(g, "mlp/fc1_weight", t["fc1_w"], (M, D))
            self._put(g, "mlp/fc1_bias", t["fc1_b"], (M,))
        self._put(g, "mlp/fc2_weight", t["fc2_w"], (D, M))
        self._put(g, "mlp/fc2_bias", t["fc2_b"], (D,))
        if c["layer_scale"]:
            self._put(g, "ls1/gamma", t["ls1"], (D,))
            self._put(g, "ls2/gamma", t["ls2"], (D,))
        self.written.add(f"layer{i}")

    def write_head(self, norm_weight, norm_bias, head_weight, head_bias, dist_weight=None,
                   dist_bias=None, pool=None):
        """The final norm (None without one), the classifier (K, pooled) or
        projection (E, pooled; head_bias None), DeiT's distillation head
        (K, D), and for pooling 'map' `pool`: dict latent (D), q_w, q_b, k_w,
        k_b, v_w, v_b, proj_w, proj_b (D, D)/(D), norm_w, norm_b, fc1_w, fc1_b,
        fc2_w, fc2_b."""
        c = self.cfg
        D, K, H, hd, Pw = (c["hidden_size"], c["num_classes"], c["num_heads"], c["head_dim"],
                           pooled_width(c))
        last = self.shards - 1
        if c["final_norm"] != "none":
            nw = Pw if c["final_norm"] == "post_pool" else D
            g = self._group("final_norm", last)
            self._put(g, "weight", norm_weight, (nw,))
            self._put(g, "bias", norm_bias, (nw,))
        if c["pooling"] == "map":
            Mp = c["pool_mlp_dim"]
            g = self._group("pool", last)
            self._put(g, "latent", np.reshape(pool["latent"], (-1,)), (D,))
            self._put(g, "q_weight", pool["q_w"], (D, D))
            self._put(g, "q_bias", pool["q_b"], (D,))
            self._put(g, "kv_weight", np.stack([pool["k_w"], pool["v_w"]]).reshape(2, H, hd, D),
                      (2, H, hd, D))
            self._put(g, "kv_bias", np.stack([pool["k_b"], pool["v_b"]]).reshape(2, H, hd),
                      (2, H, hd))
            self._put(g, "proj_weight", pool["proj_w"], (D, D))
            self._put(g, "proj_bias", pool["proj_b"], (D,))
            self._put(g, "norm/weight", pool["norm_w"], (D,))
            self._put(g, "norm/bias", pool["norm_b"], (D,))
            self._put(g, "fc1_weight", pool["fc1_w"], (Mp, D))
            self._put(g, "fc1_bias", pool["fc1_b"], (Mp,))
            self._put(g, "fc2_weight", pool["fc2_w"], (D, Mp))
            self._put(g, "fc2_bias", pool["fc2_b"], (D,))
        if c["head"] == "projection":
            g = self._group("head", last)
            self._put(g, "weight", head_weight, (c["embed_dim"], Pw))
        elif c["head"] != "none":
            g = self._group("head", last)
            self._put(g, "weight", head_weight, (K, Pw))
            self._put(g, "bias", head_bias, (K,))
        if c["head"] == "distilled":
            g = self._group("head_dist", last)
            self._put(g, "weight", dist_weight, (K, D))
            self._put(g, "bias", dist_bias, (K,))
        self.written.add("head")

    def close(self):
        want = {"embed", "head"} | {f"layer{i}" for i in range(self.cfg["num_layers"])}
        missing = sorted(want - self.written)
        for f in self.files.values():
            f.close()
        self.index.close()
        if missing:
            raise ValueError(f"model incomplete, not written: {missing}")

    def abort(self):
        """Closes and deletes everything written: no half model is left behind."""
        for f in self.files.values():
            f.close()
        self.index.close()
        for path in self.files_written():
            if os.path.exists(path):
                os.remove(path)

    def files_written(self):
        return [self.path] + [shard_path(self.path, k) for k in sorted(self.files)]
