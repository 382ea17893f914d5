"""Shared pieces of vitrun's Python tests: running commands, comparing, reporting.

Every check goes through Checker, which prints the worst difference it saw and
whether it passed, and whose finish() prints "N passed, M failed" and gives
the exit code (1 on any failure).
"""
import os
import struct
import subprocess
import sys

import numpy as np

SKIP = 77  # CTest SKIP_RETURN_CODE

PYTHON = os.environ.get("PYTHON", sys.executable)


def run(cmd, timeout=600, check=True, env=None):
    """Runs cmd; on failure prints its output and raises."""
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
                       env=env)
    if check and p.returncode != 0:
        sys.stderr.write(f"command failed ({p.returncode}): {' '.join(map(str, cmd))}\n"
                         f"{p.stdout}{p.stderr}")
        raise SystemExit(1)
    return p


def rel_diff(got, ref):
    """max |got - ref| / max |ref| (the scale-free error the issue specifies)."""
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    if got.shape != ref.shape:
        return float("inf")
    scale = max(np.abs(ref).max(), 1e-30)
    return float(np.abs(got - ref).max() / scale)


class Checker:
    def __init__(self, title):
        self.title, self.passed, self.failed = title, 0, 0
        print(f"== {title}")

    def check(self, what, ok, detail=""):
        print(f"  {'ok  ' if ok else 'FAIL'} {what}{': ' + detail if detail else ''}")
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok

    def close(self, what, got, ref, bound):
        d = rel_diff(got, ref)
        return self.check(what, d <= bound, f"worst relative difference {d:.3e} (bound {bound:.0e})")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def topk_ok(index, logits, k):
    """Top-k indices agree with the reference logits, allowing swaps of near-ties."""
    ref = np.asarray(logits, np.float64)
    for row, idx in zip(ref, index):
        want = np.sort(row)[::-1][:k]
        if not np.allclose(row[idx], want, rtol=0, atol=1e-5 * np.abs(row).max()):
            return False
    return True


# Real photographs Debian ships (python-matplotlib-data, python3-sklearn),
# used by the JPEG tests.
PHOTOS = [
    "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg",
    "/usr/lib/python3/dist-packages/sklearn/datasets/images/china.jpg",
    "/usr/lib/python3/dist-packages/sklearn/datasets/images/flower.jpg",
]


def test_parser(mpi=True, mpiexec_required=True):
    """The arguments tests/CMakeLists.txt passes every test: the binary, the
    scripts folder and, for MPI tests, how to launch ranks."""
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--vitrun", required=True)
    ap.add_argument("--scripts", required=True)
    if mpi:
        ap.add_argument("--mpiexec", required=mpiexec_required)
        ap.add_argument("--np-flag", default="-n")
        ap.add_argument("--mpi-flags", default="--oversubscribe")
    return ap


def jpeg_test_args(mpi=True):
    """Parses the JPEG tests' arguments; returns (args, None) or (None, SKIP)
    after saying why Pillow or the photographs are missing."""
    ap = test_parser(mpi, mpiexec_required=False)
    ap.add_argument("--workdir", default=None)
    a = ap.parse_args()
    try:
        import PIL  # noqa: F401
    except ImportError:
        print("SKIPPED: python3-pil is not installed")
        return None, SKIP
    missing = [p for p in PHOTOS if not os.path.exists(p)]
    if missing:
        print(f"SKIPPED: photographs missing: {missing} (install python-matplotlib-data and "
              "python3-sklearn; scripts/install_deps.sh does)")
        return None, SKIP
    return a, None


# --- the default model (models/fashion-vit.h5) on the Fashion-MNIST test JPEGs,
# shared by test_fashion_model.py and test_bf16.py.

def default_model_files(scripts, model=None):
    """(model.h5, state-dict .pth) of the default model, or None after printing
    FAIL when either is missing (both are committed with the repository)."""
    model_h5 = model or os.path.join(os.path.dirname(os.path.abspath(scripts)), "models",
                                     "fashion-vit.h5")
    pth = model_h5[:-3] + ".pth"
    for f in (model_h5, pth):
        if not os.path.exists(f):
            print(f"FAIL: {f} is missing: the default model is committed with the repository "
                  f"(scripts/train_default.py makes it)")
            return None
    return model_h5, pth


def precision_test_args(ap):
    """The precision tests' start (test_bf16.py, test_int8_fidelity.py): adds
    --model and --count to the MPI test parser, checks python3-torch, -pil
    and -h5py. Returns (args, model.h5, .pth, None), or (None, None, None,
    exit code) after saying why."""
    ap.add_argument("--model", help="default: models/fashion-vit.h5 next to scripts/")
    ap.add_argument("--count", type=int, default=10000, help="test images to check")
    a = ap.parse_args()
    try:
        import h5py  # noqa: F401
        import torch  # noqa: F401
        from PIL import Image  # noqa: F401
    except ImportError as e:
        print(f"SKIPPED: needs python3-torch, python3-pil and python3-h5py ({e})")
        return None, None, None, SKIP
    files = default_model_files(a.scripts, a.model)
    if files is None:
        return None, None, None, 1
    return a, files[0], files[1], None


def fashion_jpegs(scripts, folder, count):
    """Writes the first `count` Fashion-MNIST test images as the demo's JPEG
    files under folder/images (labels in folder/labels.txt). Returns (n, file
    names sorted as vitrun walks them, labels) or None after printing FAIL
    when the dataset is missing."""
    sys.path.insert(0, scripts)
    import fashion_mnist as fm
    try:
        n = fm.write_jpegs(folder, "test", count)
    except fm.DataError as e:
        print(f"FAIL: {e}")
        return None
    names = sorted(os.listdir(os.path.join(folder, "images")))
    labels = np.array([int(ln.split()[0]) for ln in open(os.path.join(folder, "labels.txt"))])
    return n, names, labels


def pillow_pixels(images_dir, names):
    """uint8 [N, H, W]: Pillow's grayscale decoding of the files."""
    from PIL import Image
    return np.stack([np.asarray(Image.open(os.path.join(images_dir, f)).convert("L"))
                     for f in names])


def pytorch_logits(scripts, pth, px, forward=None, batch=500):
    """float64 logits [N, classes] of the state dict `pth` in torchvision's
    VisionTransformer (scripts/train_default.py's shape) on the pixels `px`,
    normalised as in training; one thread. forward(state_dict, x), when given,
    replaces the module's forward pass (same inputs)."""
    import torch
    sys.path.insert(0, scripts)
    import train_default
    torch.set_num_threads(1)
    sd = torch.load(pth, map_location="cpu")
    if forward is None:
        net = train_default.build_model()
        net.load_state_dict(sd)
        net.eval()
        forward = lambda _, x: net(x)  # noqa: E731
    out = []
    with torch.no_grad():
        for i in range(0, len(px), batch):
            out.append(forward(sd, train_default.to_input(px[i:i + batch])).double().numpy())
    return np.concatenate(out)


def journal_rows(path):
    """Rows in the complete records of a journal: its format (docs/DESIGN.md)
    read independently of io/journal.c; -1 when there is no journal."""
    try:
        data = open(path, "rb").read()
    except FileNotFoundError:
        return -1
    if len(data) < 12 or data[:8] != b"VRJRNL01":
        return 0
    (flen,) = struct.unpack_from("<I", data, 8)
    off, rows = 12 + flen + 4, 0
    while off + 32 <= len(data):
        magic, _crc, _first, count, plen = struct.unpack_from("<IIQQQ", data, off)
        if magic != 0x31425256 or off + 32 + plen > len(data):
            break
        rows += count
        off += 32 + plen
    return rows
