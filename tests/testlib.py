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
