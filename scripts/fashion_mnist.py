#!/usr/bin/env python3
"""Fashion-MNIST from Debian's dataset-fashion-mnist package, as JPEG files.

    /usr/bin/python3 scripts/fashion_mnist.py OUT_DIR [--split test|train] [--count N]

writes OUT_DIR/images/SPLIT-NNNNN.jpg (grayscale, Pillow quality 95: the
encoding the default model was trained on), OUT_DIR/labels.txt with one
'CLASS_INDEX PATH' line per image in sorted order (what vitrun --labels
reads) and OUT_DIR/classes.txt. The files are written to a temporary folder
that is renamed into place, so an interrupted run leaves nothing half done.

Also the module train_default.py and the tests read the dataset through.
"""
import argparse
import gzip
import io
import os
import shutil
import sys

import numpy as np

DATA = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot"]
# mean and standard deviation of the training pixels, in [0, 1]
MEAN, STD = 0.2860, 0.3530
JPEG_QUALITY = 95
FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


class DataError(Exception):
    pass


def load_idx(name):
    """An IDX file of the dataset: uint8 images [N, H, W] or labels [N]."""
    path = os.path.join(DATA, name)
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise DataError(f"{path} not found: install Debian's dataset-fashion-mnist "
                        f"(apt-get install dataset-fashion-mnist) or set FASHION_MNIST_DIR")
    except (OSError, EOFError) as e:
        raise DataError(f"{path}: not a readable gzip file ({e})")
    if len(data) < 8 or data[:2] != b"\0\0" or data[2] != 0x08:
        raise DataError(f"{path}: not an IDX file of unsigned bytes (magic {data[:4].hex()})")
    dims = data[3]
    if dims not in (1, 3) or len(data) < 4 + 4 * dims:
        raise DataError(f"{path}: expected 1 or 3 dimensions, found {dims}")
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    n = int(np.prod(shape, dtype=np.int64))
    if len(data) - (4 + 4 * dims) != n:
        raise DataError(f"{path}: header says {shape} = {n} bytes, the file holds "
                        f"{len(data) - (4 + 4 * dims)}")
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(split):
    """(images uint8 [N, 28, 28], labels uint8 [N]) of 'train' or 'test'."""
    x, y = (load_idx(f) for f in FILES[split])
    if len(x) != len(y):
        raise DataError(f"{DATA}: {len(x)} {split} images but {len(y)} labels")
    return x, y


def encode(im):
    """One grayscale image as the demo's JPEG bytes."""
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(im, "L").save(buf, "JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


def decode(data):
    """JPEG bytes to uint8 [H, W] grayscale, as Pillow decodes them."""
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


def jpeg_roundtrip(images):
    """Each image as the demo writes it and a decoder reads it back."""
    out = np.empty_like(images)
    for i, im in enumerate(images):
        out[i] = decode(encode(im))
    return out


def name_of(split, i):
    return f"{split}-{i:05d}.jpg"


def write_jpegs(out_dir, split="test", count=None):
    """Writes the JPEG files, labels.txt and classes.txt; returns the image count."""
    x, y = load(split)
    if count is not None:
        x, y = x[:count], y[:count]
    out_dir = os.path.abspath(out_dir)
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = out_dir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "images"))
    lines = []
    for i, (im, lab) in enumerate(zip(x, y)):
        name = name_of(split, i)
        with open(os.path.join(tmp, "images", name), "wb") as f:
            f.write(encode(im))
        lines.append(f"{int(lab)} {name}\n")
    with open(os.path.join(tmp, "labels.txt"), "w") as f:
        f.writelines(lines)
    with open(os.path.join(tmp, "classes.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")
    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.rename(tmp, out_dir)
    return len(y)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--split", choices=sorted(FILES), default="test")
    ap.add_argument("--count", type=int, help="only the first N images")
    a = ap.parse_args(argv)
    if a.count is not None and a.count <= 0:
        ap.error("--count must be positive")
    try:
        n = write_jpegs(a.out_dir, a.split, a.count)
    except DataError as e:
        print(f"fashion_mnist.py: {e}", file=sys.stderr)
        return 2
    print(f"wrote {n} {a.split} images to {os.path.join(a.out_dir, 'images')}, "
          f"labels in {os.path.join(a.out_dir, 'labels.txt')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
