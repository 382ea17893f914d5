"""Shared pieces of vitrun's Python tests: running commands, comparing, reporting.

Every check goes through Checker, which prints the worst difference it saw and
whether it passed, and whose finish() prints "N passed, M failed" and gives
the exit code (1 on any failure).
"""
import os
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
