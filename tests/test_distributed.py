#!/usr/bin/env python3
"""One layout of the distributed engine against the single process and the reference.

Random parameters go through the real converter (timm naming, sharded), then
vitrun runs on `dp x pp x tp` real MPI ranks. Checks: logits within 1e-5
(relative to the largest) of the single-process run and within 2e-5 of the
numpy reference; rows in input order; two runs of the layout bitwise equal;
the --report JSON consistent with the layout (every rank present, images
counted once per stage, each rank read less than the whole model when the
model is split); --plan agreeing with the report's layer split.
"""
import json
import os
import shlex
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))
import checkpoints  # noqa: E402
import vit_ref  # noqa: E402
from testlib import PYTHON, Checker, run, test_parser  # noqa: E402

HALF = (0.5, 0.5, 0.5)


def mpi_cmd(a, np_):
    return [a.mpiexec, a.np_flag, str(np_)] + shlex.split(a.mpi_flags)


def main():
    ap = test_parser()
    ap.add_argument("--pp", type=int, default=1)
    ap.add_argument("--tp", type=int, default=1)
    ap.add_argument("--dp", type=int, default=1)
    ap.add_argument("--layers", help="override the layer split, e.g. 4,1,1,1 or 3.5,3.5")
    ap.add_argument("--send", default="slice")
    ap.add_argument("--gemm", default="auto", help="vitrun's GEMM back end")
    ap.add_argument("--batch", type=int, default=3)
    a = ap.parse_args()
    np_ = a.dp * a.pp * a.tp
    ck = Checker(f"distributed: dp {a.dp} x pp {a.pp} x tp {a.tp} = {np_} ranks, GEMM {a.gemm}"
                 f"{', layers ' + a.layers if a.layers else ''}, send {a.send}, batch {a.batch}")
    # 7 layers and 5 heads: most splits are uneven. 23 images: the last batch is short.
    image, patch, C, D, H, M, L, K, N = 32, 8, 3, 60, 5, 100, 7, 11, 23
    P = checkpoints.random_params(image, patch, C, D, L, H, M, K, 1e-6, seed=11)
    with tempfile.TemporaryDirectory() as tmp:
        src = checkpoints.export_timm(P, os.path.join(tmp, "vit.safetensors"))
        model = os.path.join(tmp, "model.h5")
        run([PYTHON, os.path.join(a.scripts, "convert_checkpoint.py"), "--format", "timm", src,
             model, "--heads", str(H), "--shards", "3", "--act", "gelu", "--eps", "1e-6"])
        images = np.random.default_rng(5).integers(0, 256, (N, image, image, C), dtype=np.uint8)
        inp = os.path.join(tmp, "in.h5")
        with h5py.File(inp, "w") as f:
            f["images"] = images
        common = ["--model", model, "--input", inp, "--batch", str(a.batch), "--logits",
                  "--embeddings", "--topk", "3", "--threads", "1", "--gemm", a.gemm]
        single = os.path.join(tmp, "single.h5")
        run([a.vitrun] + common + ["--output", single, "--quiet"])
        layout = ["--pp", str(a.pp), "--tp", str(a.tp), "--dp", str(a.dp), "--send", a.send]
        if a.layers:
            layout += ["--layers", a.layers]
        outs = []
        for i in range(2):
            out, rep = os.path.join(tmp, f"dist{i}.h5"), os.path.join(tmp, f"report{i}.json")
            p = run(mpi_cmd(a, np_) + [a.vitrun] + common + layout +
                    ["--output", out, "--report", rep], timeout=300)
            outs.append(out)
        summary = [s for s in p.stderr.splitlines() if s.startswith("vitrun:")]
        ck.check("one summary line, from rank 0", len(summary) == 1, summary[0] if summary else "")

        ref = vit_ref.forward(P, vit_ref.normalize_u8(images, *[HALF, HALF]))
        with h5py.File(single) as s, h5py.File(outs[0]) as d0, h5py.File(outs[1]) as d1:
            ck.close("logits vs single process", d0["logits"][:], s["logits"][:], 1e-5)
            ck.close("embeddings vs single process", d0["embedding"][:], s["embedding"][:], 1e-5)
            ck.close("logits vs numpy reference", d0["logits"][:], ref["logits"], 2e-5)
            same = all(np.array_equal(d0[k][:], d1[k][:]) for k in ("logits", "embedding"))
            ck.check("two runs bitwise identical", same,
                     f"max diff {np.abs(d0['logits'][:] - d1['logits'][:]).max():.3e}")
            paths = [x.decode() for x in d0["path"][:]]
            ck.check("rows in input order", paths == [str(i) for i in range(N)], str(paths[:6]))
            ck.check("all rows ok", bool(np.all(d0["ok"][:] == 1)))
            ck.check("top-1 equals the single process",
                     np.array_equal(d0["topk_index"][:, 0], s["topk_index"][:, 0]))

        with open(os.path.join(tmp, "report0.json")) as f:
            r = json.load(f)
        ranks = r["ranks"]
        ck.check("report lists every rank", sorted(x["rank"] for x in ranks) == list(range(np_)))
        per_stage = [sum(x["images"] for x in ranks if x["stage"] == s and x["tp"] == 0)
                     for s in range(a.pp)]
        ck.check("each stage scored every image once", per_stage == [N] * a.pp, str(per_stage))
        ck.check("report images and throughput", r["images"] == N and r["images_per_s"] > 0)
        # 1 thread a rank: the pipeline's waits nap where the ranks outnumber the CPUs
        cpus = len(os.sched_getaffinity(0))
        want = "nap" if np_ > cpus else "spin"
        ck.check(f"report: pipeline waits {want} ({np_} ranks, {cpus} CPUs)",
                 r.get("pipeline_wait") == want, str(r.get("pipeline_wait")))
        ck.check("report: the micro-batch used (--batch, or N when smaller)",
                 r["layout"]["batch"] == min(a.batch, N), f"{r['layout']['batch']}")
        full = 4 * sum(np.asarray(v).size for k, v in P.items() if isinstance(v, np.ndarray))
        full += 4 * sum(np.asarray(v).size for Lw in P["layers"] for v in Lw.values())
        most = max(x["weight_bytes_read"] for x in ranks)
        if a.pp * a.tp > 1:
            ck.check("no rank read the whole model", most < full,
                     f"largest {most / 1e3:.1f} kB of {full / 1e3:.1f} kB")
        else:
            ck.check("one rank read the whole model", most == full, f"{most} vs {full}")
        if a.tp > 1:
            ck.check("TP ranks allreduced", all(x["bytes_allreduced"] > 0 for x in ranks))
        plan = run([a.vitrun, "--model", model, "--plan"] + layout).stdout
        ck.check("--plan prints every rank", len([ln for ln in plan.splitlines()
                                                  if ln.strip()[:1].isdigit()]) == np_, "")
        split = r["layer_split"]
        if a.layers:
            want = np.cumsum([0] + [float(x) for x in a.layers.split(",")]).tolist()
            ck.check("--layers honoured", split == want, str(split))
        ck.check("layer split covers the model", split[0] == 0 and split[-1] == L, str(split))
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
