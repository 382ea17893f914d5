"""What the checkpoint converters share: tensors handed out by name (and the
ones never used or missing, listed), layer counts, head counts, the qkv split.
"""
import re
import sys

import numpy as np

import vitrun_model as vm
from checkpoint_readers import CheckpointError

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


def logit_params(tensors, prefix=""):
    """Zero-shot's scale (the multiplier: exp of the stored logit_scale) and
    SigLIP's bias, from a full CLIP/SigLIP checkpoint; {} when absent."""
    out = {}
    if prefix + "logit_scale" in tensors:
        out["logit_scale"] = float(np.exp(np.asarray(tensors[prefix + "logit_scale"],
                                                     np.float64).reshape(-1)[0]))
    if prefix + "logit_bias" in tensors:
        out["logit_bias"] = float(np.asarray(tensors[prefix + "logit_bias"],
                                             np.float64).reshape(-1)[0])
    return out
