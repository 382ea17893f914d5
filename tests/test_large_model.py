#!/usr/bin/env python3
"""A model larger than one rank's memory limit, run on pp 2 x tp 2 ranks that
each fit, against the numpy reference.

The model has ViT-22B's structure at a reduced width (the parallel block with
q/k norm and no qkv bias, patch 14, no class token, average pooling; 8 layers
of width 768, 12 heads, MLP 3072: 57 M parameters, 229 MB of float32), as
timm's ParallelScalingBlock state dict, converted into 4 shard files.

Two limits per rank, both real:
- --memory-per-rank (the performance model's count of a rank's weights and
  buffers): one rank is refused before anything is read (exit 2, the message
  naming the need and the fix, no output); pp 2 x tp 2 runs under it, and
  --layout auto on 4 ranks picks a layout the model puts under it;
- RLIMIT_AS on every rank (prlimit around vitrun, not around mpirun): one rank
  fails cleanly (exit 1, "out of memory" naming the weights) because the
  model does not fit in it; pp 2 x tp 2 runs in the same limit, its embeddings
  equal to the float64 reference (tests/reference/vit_ref.py) within 2e-5 of
  the largest, each rank having read less than a third of the weights.

The address-space limit holds the libraries' own reservations too (about
0.5 GB here: Open MPI, oneDNN, HDF5); --as-limit overrides the default.
"""
import json
import os
import shlex
import shutil
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))
import checkpoints  # noqa: E402
import vit_ref  # noqa: E402
from testlib import PYTHON, SKIP, Checker, run, test_parser  # noqa: E402

HALF = (0.5, 0.5, 0.5)
MiB = 1 << 20


def main():
    ap = test_parser()
    ap.add_argument("--memory-limit", type=int, default=200, help="--memory-per-rank, MiB")
    ap.add_argument("--as-limit", type=int, default=700, help="RLIMIT_AS per rank, MiB")
    a = ap.parse_args()
    prlimit = shutil.which("prlimit")
    if not prlimit:
        print("SKIP: prlimit (util-linux) is not installed")
        return SKIP
    mpi = lambda n: [a.mpiexec, a.np_flag, str(n)] + shlex.split(a.mpi_flags)
    limited = lambda: [prlimit, f"--as={a.as_limit * MiB}", a.vitrun]
    image, patch, C, D, H, M, L, N = 112, 14, 3, 768, 12, 3072, 8, 4
    ck = Checker(f"a ViT-22B-shaped model of {L} layers, width {D}, on ranks limited to "
                 f"{a.memory_limit} MiB (--memory-per-rank) and {a.as_limit} MiB (RLIMIT_AS)")
    P = checkpoints.random_params(image, patch, C, D, L, H, M, 0, 1e-6, seed=7,
                                  variant="parallel", class_token=False, pos_mode="patches",
                                  pool="avg", head="none")
    with tempfile.TemporaryDirectory() as tmp:
        src = checkpoints.export_timm(P, os.path.join(tmp, "vit22b.safetensors"))
        model = os.path.join(tmp, "model.h5")
        run([PYTHON, os.path.join(a.scripts, "convert_checkpoint.py"), "--format", "timm", src,
             model, "--heads", str(H), "--shards", "4", "--act", "gelu", "--eps", "1e-6"])
        os.remove(src)
        weights = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp)
                      if f.startswith("model"))
        ck.check("the model's files hold more than the memory limit",
                 weights > a.memory_limit * MiB, f"{weights / MiB:.0f} MiB")
        rng = np.random.default_rng(5)
        images = rng.integers(0, 256, size=(N, image, image, C), dtype=np.uint8)
        pixels = vit_ref.normalize_u8(images, HALF, HALF)
        inp = os.path.join(tmp, "images.h5")
        with h5py.File(inp, "w") as f:
            f["images"] = pixels.astype(np.float32)
        ref = vit_ref.forward(P, pixels)["embedding"]
        common = ["--model", model, "--input", inp, "--batch", "2", "--threads", "1",
                  "--embeddings", "--quiet"]
        mem = ["--memory-per-rank", f"{a.memory_limit}M"]

        # one rank: refused by the model's count, and out of memory under RLIMIT_AS
        out1 = os.path.join(tmp, "one.h5")
        p = run([a.vitrun, *common, *mem, "--output", out1], check=False)
        ck.check("one rank with --memory-per-rank: refused before reading (exit 2), naming "
                 "the need and the fix, nothing written",
                 p.returncode == 2 and "needs about" in p.stderr and "--pp" in p.stderr and
                 not any(os.path.exists(out1 + s) for s in ("", ".part", ".journal")),
                 f"exit {p.returncode}: {p.stderr.strip()[-240:]}")
        p = run([*limited(), *common, "--output", out1], check=False, timeout=300)
        ck.check("one rank under RLIMIT_AS: the model does not fit; a clean out-of-memory "
                 "error (exit 1), no output",
                 p.returncode == 1 and "out of memory" in p.stderr and
                 not os.path.exists(out1), f"exit {p.returncode}: {p.stderr.strip()[-240:]}")

        # pp 2 x tp 2 under both limits, against the reference
        out4, rep4 = os.path.join(tmp, "pp2tp2.h5"), os.path.join(tmp, "report.json")
        p = run(mpi(4) + [*limited(), *common, *mem, "--pp", "2", "--tp", "2", "--output", out4,
                          "--report", rep4], check=False, timeout=600)
        ck.check("pp 2 x tp 2 under both limits runs", p.returncode == 0,
                 f"exit {p.returncode}: {p.stderr.strip()[-400:]}")
        if p.returncode == 0:
            with h5py.File(out4) as f:
                got = f["embedding"][:]
                ck.close("pp 2 x tp 2: embeddings vs the float64 reference", got, ref, 2e-5)
                ck.check("every row ok", bool(np.all(f["ok"][:] == 1)))
            with open(rep4) as f:
                rep = json.load(f)
            most = max(r["weight_bytes_read"] for r in rep["ranks"])
            ck.check("each rank read less than a third of the weights",
                     0 < most < weights / 3, f"at most {most / MiB:.0f} of {weights / MiB:.0f} MiB")

        # --layout auto on 4 ranks picks a layout under the limit and runs in it
        outa = os.path.join(tmp, "auto.h5")
        auto = [x for i, x in enumerate(common) if x != "--quiet" and
                "--batch" not in common[max(i - 1, 0):i + 1]]
        p = run(mpi(4) + [*limited(), *auto, *mem, "--layout", "auto", "--output", outa],
                check=False, timeout=600)
        chose = [s for s in p.stderr.splitlines() if "--layout auto:" in s]
        ck.check("--layout auto under the limits: runs, says what it chose",
                 p.returncode == 0 and len(chose) == 1,
                 f"exit {p.returncode}: {(chose or [p.stderr.strip()[-300:]])[0]}")
        if chose:
            mb = float(chose[0].split(" MB per rank")[0].rsplit(" ", 1)[1])
            ck.check("--layout auto's choice is within --memory-per-rank by the model",
                     mb * 1e6 <= a.memory_limit * MiB, chose[0])
        if p.returncode == 0:
            with h5py.File(outa) as f:
                ck.close("--layout auto: embeddings vs the reference", f["embedding"][:], ref,
                         2e-5)
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
