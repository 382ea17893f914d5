#!/usr/bin/env python3
"""vitrun against torchvision's own VisionTransformer, the model users trust.

A torchvision ViT with seeded random weights (LayerNorm and bias terms
perturbed too, so none of them sits at its trivial default) is saved as a
state dict, converted, and scored by vitrun from uint8 pixels; torchvision
scores the same pixels through ToTensor + Normalize. Logits and the pooled
class token are compared. --arch b16 runs the real ViT-B/16 architecture.
Skipped (exit 77) when python3-torch / python3-torchvision are missing.
"""
import argparse
import os
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from testlib import PYTHON, SKIP, Checker, run, topk_ok  # noqa: E402

ARCHS = {  # image, patch, layers, heads, hidden, mlp, classes, images
    "small": (48, 8, 4, 6, 96, 200, 17, 6),
    "b16": (224, 16, 12, 12, 768, 3072, 1000, 2),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vitrun", required=True)
    ap.add_argument("--scripts", required=True)
    ap.add_argument("--arch", choices=sorted(ARCHS), default="small")
    ap.add_argument("--bound", type=float, default=2e-5)
    a = ap.parse_args()
    try:
        import torch
        from torchvision.models.vision_transformer import VisionTransformer
    except ImportError as e:
        print(f"SKIPPED: needs python3-torch and python3-torchvision ({e})")
        return SKIP
    image, patch, layers, heads, hidden, mlp, classes, n = ARCHS[a.arch]
    torch.manual_seed(0)
    torch.set_num_threads(2)
    model = VisionTransformer(image_size=image, patch_size=patch, num_layers=layers,
                              num_heads=heads, hidden_dim=hidden, mlp_dim=mlp,
                              num_classes=classes).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "ln" in name or name.startswith("heads"):
                p.add_(torch.randn_like(p) * 0.1)  # zeros/ones by default: make them count
    ck = Checker(f"torchvision VisionTransformer ({a.arch}: {layers} layers, width {hidden}, "
                 f"{heads} heads, {image}px)")
    with tempfile.TemporaryDirectory() as tmp:
        pth, h5 = os.path.join(tmp, "vit.pth"), os.path.join(tmp, "vit.h5")
        torch.save(model.state_dict(), pth)
        cmd = [PYTHON, os.path.join(a.scripts, "convert_checkpoint.py"), "--format",
               "torchvision", pth, h5]
        if hidden not in (192, 384, 768, 1024, 1280):
            cmd += ["--heads", str(heads)]
        run(cmd)
        rng = np.random.default_rng(1)
        images = rng.integers(0, 256, size=(n, image, image, 3), dtype=np.uint8)
        inp, out = os.path.join(tmp, "in.h5"), os.path.join(tmp, "out.h5")
        with h5py.File(inp, "w") as f:
            f["images"] = images
        run([a.vitrun, "--model", h5, "--input", inp, "--output", out, "--batch", "4",
             "--threads", "2", "--logits", "--embeddings", "--topk", "5", "--quiet"])

        from torchvision import transforms
        x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(255)
        x = transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))(x)
        with torch.no_grad():
            logits = model(x).double().numpy()
            tokens = model._process_input(x)
            tokens = torch.cat([model.class_token.expand(n, -1, -1), tokens], dim=1)
            pooled = model.encoder(tokens)[:, 0].double().numpy()
        with h5py.File(out) as f:
            ck.close("pooled class token vs torchvision", f["embedding"][:], pooled, a.bound)
            ck.close("logits vs torchvision", f["logits"][:], logits, a.bound)
            ck.check("top-5 classes agree with torchvision", topk_ok(f["topk_index"][:], logits, 5))
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
