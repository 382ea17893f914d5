#!/usr/bin/env python3
"""Converts a ViT checkpoint to the vitrun model format (docs/MODEL_FORMAT.md).

    convert_checkpoint.py --format hf           HF_MODEL_FOLDER  OUT.h5
    convert_checkpoint.py --format torchvision  vit_b_16.pth     OUT.h5
    convert_checkpoint.py --format timm         model.safetensors OUT.h5 --arch NAME
        [--heads N] [--shards N] [--labels FILE]
        [--preprocess hf|torchvision|timm|clip|siglip|dinov2]

hf:          HF transformers folders (config.json + model.safetensors or
             pytorch_model.bin): ViT, DeiT (with teacher), CLIP and SigLIP
             (vision towers, or the vision part of the full models), DINOv2
             (with and without registers); settings from config.json, labels
             from id2label, preprocessing from preprocessor_config.json
             (scripts/convert_hf.py).
torchvision: a VisionTransformer state dict (vit_b_16 and friends).
timm:        vision_transformer / deit state dicts (.safetensors or .pth):
             every variant vitrun runs; what the names cannot tell from
             --arch NAME (timm's model name, scripts/vit_archs.py) or --act,
             --eps, --pooling, --head (scripts/convert_plans.py).
openclip:    OpenAI CLIP and OpenCLIP checkpoints (visual.*, module.visual.*;
             OpenAI's TorchScript .pt too): --arch NAME (ViT-B-16,
             ViT-L-14-quickgelu, ...) or --act.
dinov2:      DINOv2's own hub checkpoints (registers, LayerScale, SwiGLU).

The head count cannot be read off the shapes: it comes from config.json or
--arch, or pass --heads, or the standard count for the standard widths is
used (192->3, 384->6, 768->12, 1024->16, 1280->16, 1536->24) and said so. Unknown or
missing tensors are an error that lists them.
"""
import argparse
import os
import sys


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vit_archs as archs  # noqa: E402
import vitrun_model as vm  # noqa: E402
from checkpoint_readers import CheckpointError  # noqa: E402
from convert_hf import plan_hf  # noqa: E402
from convert_plans import plan_dinov2, plan_openclip, plan_timm, plan_torchvision  # noqa: E402


PLANS = {"hf": plan_hf, "torchvision": plan_torchvision, "timm": plan_timm,
         "openclip": plan_openclip, "dinov2": plan_dinov2}
ARCH_FORMATS = ("timm", "openclip")  # the formats whose settings --arch names
# how each library resamples the position table for another size (runtime/posembed.h);
# DINOv2's own files: see plan_dinov2
POS_RESAMPLE = {"hf": "bicubic", "torchvision": "bicubic_align_corners",
                "timm": "bicubic_antialias", "openclip": "bicubic_antialias",
                "dinov2": "bicubic_antialias"}


def preset_of(p):
    """The library preset whose rule gives a preprocessing dict's geometry
    (what vitrun re-derives for --image-size)."""
    h, w = vm.hw(p["crop_size"])
    rh, rw = vm.hw(p["resize_size"])
    if p["resize"] == "exact":
        return ("hf" if p["interpolation"] == "bilinear" else "siglip"), None
    if rh == max(h, w):
        return "clip", None
    if p["interpolation"] == "bilinear":
        return "torchvision", None
    return "timm", max(h, w) / rh


def preprocess_for(kind, image_size, mean, std):
    """A preset by name (hf, torchvision, timm, clip, siglip, dinov2) or an
    --arch entry's (or preprocessor_config.json's) own preprocessing dict, for
    a model of image_size."""
    if isinstance(kind, dict):
        p = dict(kind, rescale=1.0 / 255.0)
        if tuple(vm.hw(p["crop_size"])) != tuple(vm.hw(image_size)):
            raise CheckpointError(f"the --arch preprocessing crops to {p['crop_size']}, the "
                                  f"model takes {image_size}; pass --preprocess")
        p["mean"], p["std"] = tuple(p["mean"]), tuple(p["std"])
        p["preset"], pct = preset_of(p)
        if pct:
            p["crop_pct"] = pct
        if mean is not None:
            p["mean"] = tuple(mean)
        if std is not None:
            p["std"] = tuple(std)
        return p
    return vm.preprocess_preset(kind, image_size, mean, std)


def at_size(cfg, pre, size, mean, std):
    """The model at another image size (--image-size): the position table
    stays on its grid (vitrun resamples it as the library does), the
    preprocessing follows the size."""
    h, w = size
    p = cfg["patch_size"]
    if h % p or w % p:
        raise CheckpointError(f"--image-size {h}x{w} is not a multiple of the patch size {p}")
    H, W = vm.hw(cfg["image_size"])
    cfg["pos_grid"] = [H // p, W // p]
    cfg["image_size"] = [h, w] if h != w else h
    kept = {k: pre[k] for k in ("interpolation", "mean", "std")}
    pre = vm.preprocess_preset(pre["preset"], (h, w), crop_pct=pre.get("crop_pct"))
    pre.update(kept)
    if mean is not None:
        pre["mean"] = tuple(mean)
    if std is not None:
        pre["std"] = tuple(std)
    return pre


def convert(fmt, src, dst, heads=None, shards=1, labels_file=None, preprocess=None, mean=None,
            std=None, arch=None, over=None, image_size=None):
    if fmt in ARCH_FORMATS:
        entry = archs.lookup(fmt, arch) if arch else None
        if entry and entry.get("tag") == "openai" and entry["activation"] == "gelu":
            print(f"convert_checkpoint.py: note: {fmt} builds {arch} with exact GELU; OpenAI's "
                  "CLIP weights were trained with quick_gelu (the -quickgelu / _quickgelu_ "
                  "names, or --act quick_gelu, reproduce OpenAI's own model)", file=sys.stderr)
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
    # CLIP and SigLIP towers (a projection, or an attention-pool head without
    # a classifier) are used with unit-norm embeddings: vitrun's default for them
    if "normalize_embedding" not in cfg:
        cfg["normalize_embedding"] = int(cfg.get("head") == "projection" or
                                         (cfg.get("pooling") == "map" and cfg.get("head") == "none"))
    # Fetch every tensor first so that missing/unexpected names are reported
    # before an output file is created.
    parts = [embed()] + [layer(i) for i in range(cfg["num_layers"])] + [head()]
    t.finish()
    pre = preprocess_for(preprocess or kind, cfg["image_size"], mean, std)
    cfg.setdefault("pos_resample", POS_RESAMPLE[fmt])
    if image_size and tuple(image_size) != vm.hw(cfg["image_size"]):
        pre = at_size(cfg, pre, image_size, mean, std)
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
    ap.add_argument("--image-size", metavar="H[xW]",
                    help="write the model for this input size: vitrun resamples the position "
                    "table as the source library does, the preprocessing follows the size")
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
        size = None
        if a.image_size:
            try:
                size = tuple(int(x) for x in a.image_size.lower().split("x"))
                size = size * 2 if len(size) == 1 else size
                if len(size) != 2 or min(size) < 1:
                    raise ValueError
            except ValueError:
                raise CheckpointError(f"--image-size is H or HxW in pixels; got '{a.image_size}'")
        cfg, files = convert(a.format, a.src, a.dst, a.heads, a.shards, a.labels, a.preprocess,
                             a.mean, a.std, a.arch, over, size)
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
