#!/usr/bin/env python3
"""Trains vitrun's default model: a small ViT on Fashion-MNIST, on the CPU.

    /usr/bin/python3 scripts/train_default.py [--epochs 12] [--out models/fashion-vit.h5]

Data: Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist),
28x28 grayscale, 60k train / 10k test. The model is torchvision's
VisionTransformer (image 28, patch 4, width 64, 4 layers, 4 heads, MLP 128,
10 classes) on the grayscale image replicated to RGB, because that is what
vitrun decodes from a grayscale JPEG. Training images go through the same
JPEG encoding (Pillow, quality 95) the demo uses, so the model is scored on
the kind of pixels it learned from. Seeded; AdamW with warm-up and cosine
decay, random horizontal flips. Writes the torchvision state dict, converts
it with scripts/convert_checkpoint.py (class names, normalisation of this
dataset) and prints the test accuracy measured by PyTorch on the JPEG test
images.
"""
import argparse
import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from fashion_mnist import (CLASSES, JPEG_QUALITY, MEAN, STD, DataError,  # noqa: E402
                           jpeg_roundtrip, load)


def build_model():
    from torchvision.models.vision_transformer import VisionTransformer
    return VisionTransformer(image_size=28, patch_size=4, num_layers=4, num_heads=4,
                             hidden_dim=64, mlp_dim=128, num_classes=10)


def to_input(x_u8):
    import torch
    x = torch.from_numpy(x_u8).float().div_(255.0).sub_(MEAN).div_(STD)
    return x.unsqueeze(1).expand(-1, 3, -1, -1).contiguous()


def evaluate(model, x_u8, y, batch=500):
    import torch
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            pred = model(to_input(x_u8[i:i + batch])).argmax(1).numpy()
            correct += int((pred == y[i:i + batch]).sum())
    return correct / len(y)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument("--seed", type=int, default=0)
    # measured here: 1 thread is faster than 2 for these small matrices
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(HERE, "..", "models", "fashion-vit.h5"))
    a = ap.parse_args()
    # Debian's OpenBLAS picks slower kernels than the CPU allows unless told
    # before it loads (2x here); only where AVX-512 exists.
    if "avx512f" in open("/proc/cpuinfo").read():
        os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
    import torch
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)
    t0 = time.time()
    try:
        (xtr, ytr), (xte, yte) = load("train"), load("test")
    except DataError as e:
        print(f"train_default.py: {e}", file=sys.stderr)
        return 2
    xtr, xte = jpeg_roundtrip(xtr), jpeg_roundtrip(xte)
    print(f"data: {len(ytr)} train, {len(yte)} test (JPEG q{JPEG_QUALITY}), "
          f"{time.time() - t0:.0f} s", flush=True)
    model = build_model()
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.05)
    steps = a.epochs * math.ceil(len(ytr) / a.batch)
    warm = steps // 20
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else
        0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, steps - warm))))
    lossf = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    for ep in range(a.epochs):
        model.train()
        perm = rng.permutation(len(ytr))
        total = 0.0
        for i in range(0, len(perm), a.batch):
            idx = perm[i:i + a.batch]
            xb = xtr[idx].copy()
            flip = rng.random(len(idx)) < 0.5
            xb[flip] = xb[flip, :, ::-1]
            loss = lossf(model(to_input(xb)), torch.from_numpy(ytr[idx].astype(np.int64)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(idx)
        acc = evaluate(model, xte, yte)
        print(f"epoch {ep + 1}/{a.epochs}: loss {total / len(ytr):.4f}, test top-1 "
              f"{100 * acc:.2f}%, {time.time() - t0:.0f} s", flush=True)
    out = os.path.abspath(a.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    pth = out[:-3] + ".pth" if out.endswith(".h5") else out + ".pth"
    torch.save(model.state_dict(), pth)
    labels = pth + ".labels.txt"
    with open(labels, "w") as f:
        f.write("\n".join(CLASSES) + "\n")
    import convert_checkpoint
    rc = convert_checkpoint.main(["--format", "torchvision", pth, out, "--heads", "4",
                                  "--labels", labels, "--preprocess", "hf",
                                  "--mean", str(MEAN), str(MEAN), str(MEAN),
                                  "--std", str(STD), str(STD), str(STD)])
    os.remove(labels)
    acc = evaluate(model, xte, yte)
    print(f"test top-1 (PyTorch, JPEG test images): {100 * acc:.2f}% -> {out} "
          f"(state dict {pth}); {time.time() - t0:.0f} s in all")
    return rc


if __name__ == "__main__":
    sys.exit(main())
