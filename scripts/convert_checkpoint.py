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
    if w is None or b is None:  # listed as missing by Tensors.finish
        return dict.fromkeys(("q_w", "k_w", "v_w", "q_b", "k_b", "v_b"))
    if w.shape[0] != 3 * D or b.shape[0] != 3 * D:
        raise CheckpointError(f"fused qkv of shape {list(w.shape)} and bias {list(b.shape)}; "
                              f"expected {3 * D} rows for width {D}")
    return dict(q_w=w[:D], k_w=w[D:2 * D], v_w=w[2 * D:], q_b=b[:D], k_b=b[D:2 * D], v_b=b[2 * D:])


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
    embed = lambda: (t.get(e + "patch_embeddings.projection.weight"),
                     t.get(e + "patch_embeddings.projection.bias"),
                     t.get(e + "cls_token", (D,)), t.get(e + "position_embeddings", (T, D)))

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
    head = lambda: (t.get("vit.layernorm.weight"), t.get("vit.layernorm.bias"),
                    t.get("classifier.weight"), t.get("classifier.bias"))
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
    embed = lambda: (t.get("conv_proj.weight"), t.get("conv_proj.bias"),
                     t.get("class_token", (D,)), t.get("encoder.pos_embedding", (T, D)))

    def layer(i):
        p = f"encoder.layers.encoder_layer_{i}."
        s = p + "self_attention."
        return dict(ln1_w=t.get(p + "ln_1.weight"), ln1_b=t.get(p + "ln_1.bias"),
                    **split_qkv(t.get(s + "in_proj_weight"), t.get(s + "in_proj_bias"), D),
                    proj_w=t.get(s + "out_proj.weight"), proj_b=t.get(s + "out_proj.bias"),
                    ln2_w=t.get(p + "ln_2.weight"), ln2_b=t.get(p + "ln_2.bias"),
                    fc1_w=t.get(p + mlp + ".weight"), fc1_b=t.get(p + mlp + ".bias"),
                    fc2_w=t.get(p + mlp2 + ".weight"), fc2_b=t.get(p + mlp2 + ".bias"))
    head = lambda: (t.get("encoder.ln.weight"), t.get("encoder.ln.bias"),
                    t.get("heads.head.weight"), t.get("heads.head.bias"))
    return t, cfg, embed, layer, head, None, "torchvision"


def plan_timm(src, heads):
    t = Tensors(read_any(src), src)
    for bad, why in (("fc_norm.weight", "global average pooling (fc_norm)"),
                     ("reg_token", "register tokens"), ("blocks.0.ls1.gamma", "LayerScale")):
        if t.has(bad):
            raise CheckpointError(f"{src}: {why} is not supported; vitrun runs class-token ViTs")
    L = count_layers(t.t, r"blocks\.(\d+)\.")
    cfg = shape_config(t, "patch_embed.proj.weight", "pos_embed", "blocks.0.mlp.fc1.weight",
                       "head.weight", L, heads, src)
    cfg["layer_norm_eps"] = 1e-6
    D, T = cfg["hidden_size"], (cfg["image_size"] // cfg["patch_size"]) ** 2 + 1
    embed = lambda: (t.get("patch_embed.proj.weight"), t.get("patch_embed.proj.bias"),
                     t.get("cls_token", (D,)), t.get("pos_embed", (T, D)))

    def layer(i):
        p = f"blocks.{i}."
        return dict(ln1_w=t.get(p + "norm1.weight"), ln1_b=t.get(p + "norm1.bias"),
                    **split_qkv(t.get(p + "attn.qkv.weight"), t.get(p + "attn.qkv.bias"), D),
                    proj_w=t.get(p + "attn.proj.weight"), proj_b=t.get(p + "attn.proj.bias"),
                    ln2_w=t.get(p + "norm2.weight"), ln2_b=t.get(p + "norm2.bias"),
                    fc1_w=t.get(p + "mlp.fc1.weight"), fc1_b=t.get(p + "mlp.fc1.bias"),
                    fc2_w=t.get(p + "mlp.fc2.weight"), fc2_b=t.get(p + "mlp.fc2.bias"))
    head = lambda: (t.get("norm.weight"), t.get("norm.bias"), t.get("head.weight"),
                    t.get("head.bias"))
    return t, cfg, embed, layer, head, None, "timm"


PLANS = {"hf": plan_hf, "torchvision": plan_torchvision, "timm": plan_timm}


def convert(fmt, src, dst, heads=None, shards=1, labels_file=None, preprocess=None, mean=None,
            std=None):
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
    pre = vm.preprocess_preset(preprocess or kind, cfg["image_size"], mean, std)
    w = vm.ModelWriter(dst, cfg, pre, labels=labels, shards=shards, source=f"{fmt}:{src}")
    try:
        w.write_embed(*parts[0])
        for i in range(cfg["num_layers"]):
            w.write_layer(i, parts[1 + i])
        w.write_head(*parts[-1])
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
    ap.add_argument("--preprocess", choices=["hf", "torchvision", "timm"],
                    help="preprocessing preset (default: the source library's)")
    ap.add_argument("--mean", type=float, nargs=3, metavar=("R", "G", "B"),
                    help="normalisation mean instead of the preset's")
    ap.add_argument("--std", type=float, nargs=3, metavar=("R", "G", "B"),
                    help="normalisation std instead of the preset's")
    a = ap.parse_args(argv)
    try:
        cfg, files = convert(a.format, a.src, a.dst, a.heads, a.shards, a.labels, a.preprocess,
                             a.mean, a.std)
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
