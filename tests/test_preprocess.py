"""vitrun's JPEG decoding and preprocessing against Pillow + torchvision.

Real photographs shipped by Debian (matplotlib's grace_hopper.jpg,
scikit-learn's china.jpg and flower.jpg) are re-encoded with Pillow as
baseline, progressive, 4:4:4, grayscale and CMYK JPEGs and resized to several
sizes and aspect ratios (smaller than the model input too, so the upscaling
path is covered). vitrun scores them with --dump-activations, which records
the preprocessed input tensor, and each preset is compared with what the
source library computes:

  torchvision  Resize(256) + CenterCrop(224) + ToTensor + Normalize(ImageNet)
  timm         Resize(248, bicubic) + CenterCrop(224) + ToTensor + Normalize
  hf           ViTImageProcessor: PIL resize to 224x224 bilinear, x/255, (x-0.5)/0.5
  clip         OpenCLIP's image_transform: Resize(224, bicubic) + CenterCrop(224) +
               Normalize(CLIP's mean/std)
  siglip       SiglipImageProcessor: PIL resize to 224x224 bicubic, mean = std = 0.5
  dinov2       DINOv2's make_classification_eval_transform: Resize(256, bicubic) +
               CenterCrop(224) + Normalize(ImageNet)

Bound: the same 8-bit pixels as Pillow (0 levels of difference) and the
normalised float32 within 1e-6. Extreme aspect ratios (2400x3, 3x2400) are
among them; a 12000x1 image, whose whole resize would take 2.4 GB, must be
scored in under 400 MB. With --dct-scale on, a large photo decoded at
a reduced DCT scale is checked against a looser bound and the difference is
printed.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import PHOTOS, PYTHON, SKIP, Checker, jpeg_test_args, run  # noqa: E402

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
CLIP = ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))
STD = {"torchvision": IMAGENET[1], "dinov2": IMAGENET[1], "clip": CLIP[1]}


def make_corpus(out):
    """Writes the JPEG variants; returns their paths (relative to out)."""
    from PIL import Image
    os.makedirs(out, exist_ok=True)
    names = []

    def save(im, name, **kw):
        im.save(os.path.join(out, name), "JPEG", **kw)
        names.append(name)

    for i, src in enumerate(PHOTOS):
        im = Image.open(src).convert("RGB")
        save(im, f"p{i}_baseline.jpg", quality=90)
        save(im, f"p{i}_progressive.jpg", quality=85, progressive=True)
        save(im, f"p{i}_444.jpg", quality=95, subsampling=0)
        save(im.convert("L"), f"p{i}_gray.jpg", quality=90)
        save(im.convert("CMYK"), f"p{i}_cmyk.jpg", quality=90)
        for (w, h) in [(97, 61), (300, 500), (1024, 683), (257, 256), (224, 224), (640, 230),
                       (2400, 3), (3, 2400), (1000, 9)]:
            save(im.resize((w, h), Image.LANCZOS), f"p{i}_{w}x{h}.jpg", quality=90)
    return names


def reference(path, preset, size):
    """The source library's preprocessing of one file: (C, H, W) float32 and
    the 8-bit pixels before normalisation (H, W, C)."""
    import torch
    from PIL import Image
    from torchvision import transforms as T
    im = Image.open(path).convert("RGB")
    if preset in ("hf", "siglip"):
        px = np.asarray(im.resize((size, size), Image.BILINEAR if preset == "hf"
                                  else Image.BICUBIC))
        x = px.astype(np.float32) * np.float32(1 / 255)
        x = (x - np.float32(0.5)) / np.float32(0.5)
        return x.transpose(2, 0, 1), px
    if preset == "torchvision":
        geo = T.Compose([T.Resize(round(size * 256 / 224)), T.CenterCrop(size)])
        mean, std = IMAGENET
    elif preset == "clip":
        geo = T.Compose([T.Resize(size, interpolation=T.InterpolationMode.BICUBIC),
                         T.CenterCrop(size)])
        mean, std = CLIP
    elif preset == "dinov2":
        geo = T.Compose([T.Resize(round(size * 256 / 224), interpolation=T.InterpolationMode.BICUBIC),
                         T.CenterCrop(size)])
        mean, std = IMAGENET
    else:  # timm, crop_pct 0.9, bicubic, mean = std = 0.5 (make_model's default)
        geo = T.Compose([T.Resize(int(size / 0.9), interpolation=T.InterpolationMode.BICUBIC),
                         T.CenterCrop(size)])
        mean, std = (0.5,) * 3, (0.5,) * 3
    g = geo(im)
    with torch.no_grad():
        x = T.Normalize(mean, std)(T.ToTensor()(g)).numpy()
    return x, np.asarray(g)


def main():
    a, skip = jpeg_test_args(mpi=False)
    if skip:
        return skip
    if a.workdir is None:
        import tempfile
        a.workdir = tempfile.mkdtemp(prefix="vitrun_pre_")
    try:
        import h5py
        import torchvision  # noqa: F401
    except ImportError as e:
        print(f"SKIPPED: {e} (install python3-h5py, python3-torchvision)")
        return SKIP
    os.makedirs(a.workdir, exist_ok=True)
    c = Checker("JPEG decoding and preprocessing vs Pillow/torchvision")
    img_dir = os.path.join(a.workdir, "photos")
    names = make_corpus(img_dir)
    listing = os.path.join(img_dir, "list.txt")
    with open(listing, "w") as f:
        f.write("\n".join(names) + "\n")
    size = 224
    model = os.path.join(a.workdir, "m.h5")
    run([PYTHON, os.path.join(a.scripts, "make_model.py"), "--image-size", size,
         "--patch-size", 16, "--hidden", 32, "--layers", 1, "--heads", 2, "--mlp-dim", 64,
         "--classes", 10, "--preprocess", "timm", model])
    for preset in ["hf", "torchvision", "timm", "clip", "siglip", "dinov2"]:
        dump = os.path.join(a.workdir, f"dump_{preset}.h5")
        out = os.path.join(a.workdir, f"out_{preset}.h5")
        cmd = [a.vitrun, "--model", model, "--input", listing, "--output", out,
               "--dump-activations", dump, "--dct-scale", "off", "--batch", 7, "--quiet"]
        if preset != "timm":  # timm comes from the model file's stored preset
            cmd += ["--preprocess", preset]
        run(cmd)
        with h5py.File(dump, "r") as d, h5py.File(out, "r") as o:
            got = d["pixels"][...].reshape(len(names), 3, size, size)
            ok = o["ok"][...]
        c.check(f"{preset}: every variant decoded", bool(ok.all()),
                f"{int((ok == 0).sum())} failed")
        worst_f, worst_px, where = 0.0, 0.0, ""
        std = np.array(STD.get(preset, (0.5,) * 3))
        for i, name in enumerate(names):
            ref, _ = reference(os.path.join(img_dir, name), preset, size)
            d = np.abs(got[i].astype(np.float64) - ref)
            px = float((d.max(axis=(1, 2)) * std * 255).max())
            if d.max() > worst_f:
                worst_f, worst_px, where = float(d.max()), px, name
        c.check(f"{preset}: normalised tensor vs {'HF' if preset == 'hf' else preset} on "
                f"{len(names)} JPEGs", worst_f <= 1e-6,
                f"worst |diff| {worst_f:.3e} = {worst_px:.4f} 8-bit levels ({where or 'all equal'})"
                f" (bound 1e-6)")
    # DCT-domain scaling: a large photo decoded at a reduced scale
    from PIL import Image
    big = os.path.join(a.workdir, "big")
    os.makedirs(big, exist_ok=True)
    Image.open(PHOTOS[1]).convert("RGB").resize((2560, 1708), Image.LANCZOS).save(
        os.path.join(big, "large.jpg"), quality=92)
    for mode in ["off", "on"]:
        dump = os.path.join(a.workdir, f"dump_dct_{mode}.h5")
        run([a.vitrun, "--model", model, "--input", big, "--output",
             os.path.join(a.workdir, f"dct_{mode}.h5"), "--dump-activations", dump,
             "--preprocess", "torchvision", "--dct-scale", mode, "--quiet"])
        with h5py.File(dump, "r") as d:
            got = d["pixels"][...].reshape(3, size, size)
        ref, _ = reference(os.path.join(big, "large.jpg"), "torchvision", size)
        diff = np.abs(got - ref)
        lv = diff.max(axis=(1, 2)) * np.array(IMAGENET[1]) * 255
        mean_lv = float((diff.mean(axis=(1, 2)) * np.array(IMAGENET[1]) * 255).mean())
        bound = 1e-6 if mode == "off" else 2.0  # mean levels for the scaled decode
        measure = float(diff.max()) if mode == "off" else mean_lv
        c.check(f"2560x1708 photo, --dct-scale {mode}", measure <= bound,
                f"max {lv.max():.2f} 8-bit levels, mean {mean_lv:.3f} levels "
                f"(bound: {'1e-6 max' if mode == 'off' else '2 mean levels'})")
    # An extreme aspect ratio: torchvision's Resize(256) makes a 12000x1 image
    # 3072000x256 (2.4 GB of pixels); vitrun computes only the 224x224 crop
    thin = os.path.join(a.workdir, "thin")
    os.makedirs(thin, exist_ok=True)
    Image.open(PHOTOS[0]).convert("RGB").resize((12000, 1), Image.LANCZOS).save(
        os.path.join(thin, "thin.jpg"), quality=90)
    out = os.path.join(a.workdir, "thin.h5")
    meter = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:]); "
             "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    p = run([PYTHON, "-c", meter, a.vitrun, "--model", model, "--input", thin, "--output", out,
             "--preprocess", "torchvision", "--quiet"])
    rc, kb = (int(x) for x in p.stdout.split()[-2:])
    with h5py.File(out, "r") as o:
        ok = int(o["ok"][0])
    c.check("12000x1 JPEG, Resize(256): scored with the crop's memory", rc == 0 and ok == 1
            and kb < 400 * 1024, f"exit {rc}, ok {ok}, peak RSS {kb / 1024:.0f} MB (bound 400 MB; "
            f"the whole resize would be 2.4 GB)")
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
