#!/usr/bin/env python3
"""vitrun runs OpenBLAS's kernels for the CPU it is on, without the user
knowing about OPENBLAS_CORETYPE, and leaves a user's own setting alone.

Debian's OpenBLAS 0.3.21 does not recognise newer CPUs (this machine's
Sapphire Rapids Xeon, family 6 model 207) and falls back to SSE3 ("Prescott")
kernels; vitrun then sets OPENBLAS_CORETYPE and runs
itself again. Checked from the kernel name vitrun --version reports against
the CPU flags in /proc/cpuinfo, and on scores: the same model and images
give logits within 1e-5 whichever kernels ran.
"""
import os
import sys
import tempfile

import h5py

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from testlib import PYTHON, Checker, run, test_parser  # noqa: E402

AVX512 = ("SkylakeX", "Cooperlake", "SapphireRapids")


def version_line(vitrun, env, key):
    out = run([vitrun, "--version"], env=env).stdout
    for line in out.splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    return out


def core_of(vitrun, env):
    blas = version_line(vitrun, env, "BLAS").split()
    return blas[-2] if len(blas) >= 2 else " ".join(blas)


def main():
    ap = test_parser(mpi=False)
    a = ap.parse_args()
    flags = set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    base = {k: v for k, v in os.environ.items()
            if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_THREAD_TIMEOUT", "VITRUN_BLAS_REEXEC",
                         "GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    c = Checker("OpenBLAS kernels picked for this CPU")
    core = core_of(a.vitrun, base)
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        c.check("AVX-512 CPU: AVX-512 kernels without OPENBLAS_CORETYPE", core in AVX512, core)
    elif {"avx2", "fma"} <= flags:
        c.check("AVX2 CPU: AVX2 or better kernels", core not in ("Prescott", "Core2",
                                                               "Nehalem", "Sandybridge"), core)
    else:
        print(f"  (CPU without AVX2: kernels {core} kept)")
    user = core_of(a.vitrun, dict(base, OPENBLAS_CORETYPE="Prescott"))
    c.check("the user's OPENBLAS_CORETYPE is kept", user == "Prescott", user)
    # idle OpenBLAS threads must sleep soon, not spin against vitrun's pool
    timeout = version_line(a.vitrun, base, "OPENBLAS_THREAD_TIMEOUT")
    c.check("OPENBLAS_THREAD_TIMEOUT set to 10 by vitrun", timeout == "10 (set by vitrun)",
            timeout)
    mine = version_line(a.vitrun, dict(base, OPENBLAS_THREAD_TIMEOUT="4"),
                        "OPENBLAS_THREAD_TIMEOUT")
    c.check("the user's OPENBLAS_THREAD_TIMEOUT is kept", mine == "4 (yours)", mine)
    # and OpenMP's, under oneDNN
    spin = version_line(a.vitrun, base, "GOMP_SPINCOUNT")
    c.check("GOMP_SPINCOUNT set to 1000 by vitrun", spin == "1000 (set by vitrun)", spin)
    mine = version_line(a.vitrun, dict(base, OMP_WAIT_POLICY="active"), "GOMP_SPINCOUNT")
    c.check("a user's OMP_WAIT_POLICY leaves GOMP_SPINCOUNT alone", mine.startswith("unset"),
            mine)
    # vitrun's own kernels: the CPU's best unless VITRUN_MAX_ISA caps them
    kern = version_line(a.vitrun, dict(base, VITRUN_MAX_ISA="avx2"), "Kernels")
    c.check("VITRUN_MAX_ISA=avx2 caps the kernels", kern.startswith("avx2 (VITRUN_MAX_ISA: avx2)"),
            kern)
    bad = run([a.vitrun, "--synthetic", "1", "--model", "none.h5", "--output", "none.csv"],
              env=dict(base, VITRUN_MAX_ISA="sse4"), check=False)
    c.check("an unknown VITRUN_MAX_ISA is refused, naming the choices",
            bad.returncode == 2 and "VITRUN_MAX_ISA is 'sse4'; expected scalar, avx2 or avx512"
            in bad.stderr, f"exit {bad.returncode}: {bad.stderr.strip()}")
    bad = run([a.vitrun, "--synthetic", "1", "--model", "none.h5", "--output", "none.csv"],
              env=dict(base, VITRUN_WAIT="sleep"), check=False)
    c.check("an unknown VITRUN_WAIT is refused, naming the choices",
            bad.returncode == 2 and "VITRUN_WAIT is 'sleep'; expected spin" in bad.stderr,
            f"exit {bad.returncode}: {bad.stderr.strip()}")
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "m.h5")
        run([PYTHON, os.path.join(a.scripts, "make_model.py"), "--image-size", "32",
             "--patch-size", "8", "--hidden", "96", "--layers", "2", "--heads", "3",
             "--mlp-dim", "192", "--classes", "10", model])
        logits = []
        for env in (base, dict(base, OPENBLAS_CORETYPE="Prescott")):
            out = os.path.join(tmp, f"s{len(logits)}.h5")
            # --gemm openblas: every GEMM through the kernels under test
            run([a.vitrun, "--model", model, "--synthetic", "16", "--batch", "4", "--logits",
                 "--gemm", "openblas", "--quiet", "--output", out], env=env)
            with h5py.File(out, "r") as f:
                logits.append(f["logits"][:])
        c.close("logits with the picked kernels vs SSE3 kernels", logits[0], logits[1], 1e-5)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
