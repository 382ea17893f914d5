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

FORMAT_VERSION = 1

# Standard ViT shapes (the paper's Table 1 plus DeiT's Ti/S), 224-pixel inputs.
PRESETS = {
    "vit-ti16": dict(hidden_size=192, num_layers=12, num_heads=3, mlp_dim=768, patch_size=16),
    "vit-s16": dict(hidden_size=384, num_layers=12, num_heads=6, mlp_dim=1536, patch_size=16),
    "vit-b16": dict(hidden_size=768, num_layers=12, num_heads=12, mlp_dim=3072, patch_size=16),
    "vit-l16": dict(hidden_size=1024, num_layers=24, num_heads=16, mlp_dim=4096, patch_size=16),
    "vit-h14": dict(hidden_size=1280, num_layers=32, num_heads=16, mlp_dim=5120, patch_size=14),
}

# The head count cannot be read off weight shapes; these are the standard ones.
STANDARD_HEADS = {192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16}

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def preprocess_preset(kind, image_size, mean=None, std=None):
    """The preprocessing each source library applies, for a given model size."""
    if kind == "hf":  # ViTImageProcessor: resize straight to the model size
        p = dict(resize="exact", resize_size=image_size, interpolation="bilinear",
                 mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    elif kind == "torchvision":  # Resize(256) + CenterCrop(224), scaled to the model size
        p = dict(resize="shorter", resize_size=int(round(image_size * 256 / 224)),
                 interpolation="bilinear", mean=IMAGENET_MEAN, std=IMAGENET_STD)
    elif kind == "timm":  # crop_pct 0.9, bicubic
        p = dict(resize="shorter", resize_size=int(math.floor(image_size / 0.9)),
                 interpolation="bicubic", mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    else:
        raise ValueError(f"unknown preprocessing preset '{kind}' (hf, torchvision, timm)")
    p["crop_size"] = image_size
    p["rescale"] = 1.0 / 255.0
    if mean is not None:
        p["mean"] = tuple(mean)
    if std is not None:
        p["std"] = tuple(std)
    return p


def check_config(cfg):
    need = ["image_size", "patch_size", "num_channels", "hidden_size", "num_layers",
            "num_heads", "mlp_dim", "num_classes", "layer_norm_eps"]
    missing = [k for k in need if k not in cfg]
    if missing:
        raise ValueError(f"model config lacks {missing}")
    if cfg["hidden_size"] % cfg["num_heads"]:
        raise ValueError(f"hidden_size {cfg['hidden_size']} is not divisible by "
                         f"num_heads {cfg['num_heads']}")
    if cfg["image_size"] % cfg["patch_size"]:
        raise ValueError(f"image_size {cfg['image_size']} is not a multiple of "
                         f"patch_size {cfg['patch_size']}")
    out = dict(cfg)
    out["head_dim"] = cfg["hidden_size"] // cfg["num_heads"]
    out.setdefault("activation", "gelu")
    out.setdefault("pooling", "cls")
    out.setdefault("token_layout", "cls_first")
    return out


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
            if k in ("mean", "std", "rescale"):
                g.attrs[k] = np.asarray(v, dtype=np.float64)
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

    def write_embed(self, patch_weight, patch_bias, cls_token, pos_embed):
        c = self.cfg
        D, C, p = c["hidden_size"], c["num_channels"], c["patch_size"]
        T = (c["image_size"] // p) ** 2 + 1
        g = self._group("embed", 0)
        self._put(g, "patch_weight", patch_weight, (D, C, p, p))
        self._put(g, "patch_bias", patch_bias, (D,))
        self._put(g, "cls_token", cls_token, (D,))
        self._put(g, "pos_embed", pos_embed, (T, D))
        self.written.add("embed")

    def write_layer(self, i, t):
        """t: ln1_w, ln1_b, q_w, q_b, k_w, k_b, v_w, v_b (each (D, D) / (D)), proj_w,
        proj_b, ln2_w, ln2_b, fc1_w, fc1_b, fc2_w, fc2_b, in PyTorch Linear layout."""
        c = self.cfg
        D, H, hd, M = c["hidden_size"], c["num_heads"], c["head_dim"], c["mlp_dim"]
        L = c["num_layers"]
        g = self._group(f"layers/{i:02d}", i * self.shards // L)
        for name, shape in (("q_w", (D, D)), ("k_w", (D, D)), ("v_w", (D, D)),
                            ("q_b", (D,)), ("k_b", (D,)), ("v_b", (D,))):
            if tuple(np.shape(t[name])) != shape:
                raise ValueError(f"layer {i} {name}: shape {list(np.shape(t[name]))}, "
                                 f"expected {list(shape)}")
        qkv_w = np.stack([t["q_w"], t["k_w"], t["v_w"]]).reshape(3, H, hd, D)
        qkv_b = np.stack([t["q_b"], t["k_b"], t["v_b"]]).reshape(3, H, hd)
        self._put(g, "ln1/weight", t["ln1_w"], (D,))
        self._put(g, "ln1/bias", t["ln1_b"], (D,))
        self._put(g, "attn/qkv_weight", qkv_w, (3, H, hd, D))
        self._put(g, "attn/qkv_bias", qkv_b, (3, H, hd))
        self._put(g, "attn/proj_weight", t["proj_w"], (D, H * hd))
        self._put(g, "attn/proj_bias", t["proj_b"], (D,))
        self._put(g, "ln2/weight", t["ln2_w"], (D,))
        self._put(g, "ln2/bias", t["ln2_b"], (D,))
        self._put(g, "mlp/fc1_weight", t["fc1_w"], (M, D))
        self._put(g, "mlp/fc1_bias", t["fc1_b"], (M,))
        self._put(g, "mlp/fc2_weight", t["fc2_w"], (D, M))
        self._put(g, "mlp/fc2_bias", t["fc2_b"], (D,))
        self.written.add(f"layer{i}")

    def write_head(self, norm_weight, norm_bias, head_weight, head_bias):
        c = self.cfg
        D, K = c["hidden_size"], c["num_classes"]
        last = self.shards - 1
        g = self._group("final_norm", last)
        self._put(g, "weight", norm_weight, (D,))
        self._put(g, "bias", norm_bias, (D,))
        g = self._group("head", last)
        self._put(g, "weight", head_weight, (K, D))
        self._put(g, "bias", head_bias, (K,))
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
