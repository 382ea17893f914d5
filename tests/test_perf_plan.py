#!/usr/bin/env python3
"""vitrun --calibrate and --plan --nodes on real processes and files.

- one process: --calibrate writes a profile with every key, positive rates,
  and says the links were not measured; under mpirun with 2 ranks on this
  node it measures shared memory (and says the network was not);
- --plan --nodes 2 --ranks-per-node 2 --json with that profile: a JSON list
  of every layout of the 4 ranks (dp pp tp = 4) at batches 1 to 64, with
  dp, pp, tp, batch, images_per_s, memory_per_rank, bound; fitting layouts
  first, fastest first; the table form lists the best 10;
- --memory-per-rank below what any layout needs: every layout "memory";
- --layout auto on 2 ranks runs the best fitting layout that search lists,
  and refuses (exit 2, one message, nothing written) when none fits;
- refusals (exit 2, one message naming what is wrong): a damaged profile,
  --nodes without --plan, --calibrate with a model, a tiny --memory-per-rank,
  --layout auto with --pp;
- --shape: the same --plan --nodes --json as a model file of that shape,
  byte for byte (a classifier; a projection head with SwiGLU, no qkv bias
  and q/k norms); --threads reaches the search; refusals naming the key or
  option: an unknown key, a size of 0, an overflowing size, heads not
  dividing hidden, a missing key, --shape without --plan --nodes, with
  --model;
- scripts/scaling.py --predict on 1 and 2 reference nodes (ViT-B/16): both
  views per size, dp = 1 in the one-replica view, efficiency 1 for
  replicas, a plot, the stop summary marked predicted.
"""
import csv
import json
import math
import os
import shlex
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from testlib import PYTHON, Checker, run, test_parser  # noqa: E402

KEYS = ["cores", "mem_bytes", "gemm_fp32", "gemm_bf16", "gemm_int8", "m_half", "attn", "elem_s",
        "act_s", "decode_s", "rank_bytes", "shm_alpha", "shm_beta", "net_alpha", "net_beta"]


def main():
    a = test_parser().parse_args()
    mpi = lambda n: [a.mpiexec, a.np_flag, str(n)] + shlex.split(a.mpi_flags)
    ck = Checker("--calibrate and --plan --nodes")
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "m.h5")
        run([PYTHON, os.path.join(a.scripts, "make_model.py"), "--image-size", "32",
             "--patch-size", "8", "--hidden", "64", "--layers", "4", "--heads", "4",
             "--mlp-dim", "128", "--classes", "10", model])
        prof = os.path.join(tmp, "node.json")
        p = run([a.vitrun, "--calibrate", prof, "--threads", "2"])
        with open(prof) as f:
            j = json.load(f)
        ck.check("one process: a profile with every key",
                 j.get("format") == "vitrun-profile 1" and all(k in j for k in KEYS),
                 str(sorted(set(KEYS) - set(j))))
        ck.check("one process: positive fp32 GEMM, attention, row-pass rates",
                 j["gemm_fp32"] > 1e9 and j["attn"] > 1e9 and j["elem_s"] > 0 and
                 j["m_half"] >= 0 and j["cores"] >= 1, str({k: j[k] for k in KEYS[:8]}))
        ck.check("one process: says the links were not measured",
                 "shared memory not measured" in p.stderr and "network not measured" in p.stderr,
                 p.stderr.strip()[-200:])
        prof2 = os.path.join(tmp, "node2.json")
        p = run(mpi(2) + [a.vitrun, "--calibrate", prof2, "--threads", "1"])
        with open(prof2) as f:
            j2 = json.load(f)
        ck.check("2 ranks: shared memory measured, the network not",
                 "shared memory measured" in p.stderr and "network not measured" in p.stderr and
                 j2["shm_beta"] > 1e8 and j2["shm_alpha"] < 1e-3, p.stderr.strip()[-200:])

        base = [a.vitrun, "--model", model, "--plan", "--nodes", "2", "--ranks-per-node", "2",
                "--profile", prof]
        p = run(base + ["--json"])
        lay = json.loads(p.stdout)
        need = ("dp", "pp", "tp", "batch", "images_per_s", "memory_per_rank", "bound",
                "period_s", "stage_compute_s", "stage_tp_s", "stage_send_s", "imbalance")
        ck.check("--json: one object per layout with the fields",
                 isinstance(lay, list) and lay and all(all(k in o for k in need) for o in lay))
        tokens = (32 // 8) ** 2 + 1  # the model's: 16 patches and the class token
        ck.check("--json: rows = batch x 17 tokens",
                 all(o.get("rows") == o["batch"] * tokens for o in lay))
        ck.check("--json: every layout uses the 4 ranks",
                 all(o["dp"] * o["pp"] * o["tp"] == 4 for o in lay))
        got = {(o["dp"], o["pp"], o["tp"]) for o in lay}
        want = {(4, 1, 1), (2, 2, 1), (1, 4, 1), (2, 1, 2), (1, 2, 2), (1, 1, 4)}
        ck.check("--json: all 6 layouts at 7 batches", got == want and len(lay) == 42,
                 f"{sorted(got)}, {len(lay)} entries")
        order = [(not o["fits"], -o["images_per_s"]) for o in lay[1:]]
        top = max(o["images_per_s"] for o in lay if o["fits"])
        near = [o for o in lay if o["fits"] and o["images_per_s"] >= 0.99 * top]

        def firm(o):  # fewest ranks a replica, rows nearest 1576, least memory
            return (o["pp"] * o["tp"], round(abs(math.log(o["rows"] / 1576)), 9),
                    o["memory_per_rank"])
        ck.check("--json: the first, of those within 1% of the fastest, has the fewest ranks "
                 "per replica, the batch nearest 1576 rows, the least memory; the rest fitting "
                 "first, fastest first",
                 order == sorted(order) and lay[0] in near and
                 firm(lay[0]) == min(firm(o) for o in near), str(lay[0]))
        ck.check("--json: bounds are named", all(o["bound"] in ("compute", "stage", "network",
                                                                "memory") for o in lay))
        p = run(base)
        rows = [ln for ln in p.stdout.splitlines()
                if len(ln.split()) >= 8 and all(x.isdigit() for x in ln.split()[:5])]
        ck.check("table: the best 10, the best first", len(rows) == 10 and
                 [int(x) for x in rows[0].split()[:3]] == [lay[0]["dp"], lay[0]["pp"],
                                                            lay[0]["tp"]], p.stdout[-300:])
        p = run(base + ["--json", "--memory-per-rank", "2M"])
        small = json.loads(p.stdout)
        ck.check("--memory-per-rank 2M: nothing fits, every bound memory",
                 all(not o["fits"] and o["bound"] == "memory" for o in small))

        # --layout auto on 2 ranks takes the best fitting layout of the same search
        rep = os.path.join(tmp, "auto.json")
        p = run(mpi(2) + [a.vitrun, "--model", model, "--synthetic", "128", "--layout", "auto",
                          "--profile", prof, "--threads", "1", "--output",
                          os.path.join(tmp, "auto.h5"), "--report", rep])
        best = [o for o in json.loads(run([a.vitrun, "--model", model, "--plan", "--nodes", "1",
                                           "--ranks-per-node", "2", "--profile", prof,
                                           "--json"]).stdout) if o["fits"]][0]
        with open(rep) as f:
            lay_run = json.load(f)["layout"]
        ck.check("--layout auto runs the best fitting layout the search lists",
                 [lay_run[k] for k in ("dp", "pp", "tp")] == [best[k] for k in ("dp", "pp", "tp")]
                 and lay_run["batch"] == min(best["batch"], 128) and "--layout auto: dp" in p.stderr,
                 f"ran {lay_run}, best {best}; {p.stderr.strip()[:160]}")
        p = run(mpi(2) + [a.vitrun, "--model", model, "--synthetic", "8", "--layout", "auto",
                          "--memory-per-rank", "2M", "--output", os.path.join(tmp, "no.h5")],
                check=False)
        msgs = [ln for ln in p.stderr.splitlines() if ln.startswith("vitrun:")]
        ck.check("--layout auto refuses when nothing fits (exit 2, one message)",
                 p.returncode == 2 and len(msgs) == 1 and "fits in 2 MB per rank" in msgs[0] and
                 not os.path.exists(os.path.join(tmp, "no.h5")), p.stderr.strip()[-200:])

        def refused(what, cmd, needle):
            p = run(cmd, check=False)
            ck.check(what, p.returncode == 2 and needle in p.stderr, p.stderr.strip()[-200:])

        bad = os.path.join(tmp, "bad.json")
        with open(bad, "w") as f:
            f.write(open(prof).read()[:-20])
        refused("a damaged profile refused, naming it", base[:-1] + [bad], "bad.json")
        refused("--nodes without --plan refused", [a.vitrun, "--model", model, "--nodes", "2",
                                                   "--ranks-per-node", "2"], "--plan")
        refused("--calibrate with a model refused", [a.vitrun, "--calibrate", prof, "--model",
                                                     model], "--calibrate")
        refused("--memory-per-rank 1K refused", base + ["--memory-per-rank", "1K"],
                "--memory-per-rank")
        refused("--layout auto with --pp refused", [a.vitrun, "--model", model, "--synthetic",
                                                    "4", "--layout", "auto", "--pp", "2",
                                                    "--output", os.path.join(tmp, "x.h5")],
                "--layout auto")
        shapes(a, ck, tmp, prof, refused)
        predict(a, ck, tmp)
    return ck.finish()


def predict(a, ck, tmp):
    """scaling.py --predict on 1 and 2 reference nodes for ViT-B/16."""
    out = os.path.join(tmp, "predict")
    p = run([PYTHON, os.path.join(a.scripts, "scaling.py"), "--predict", "--vitrun", a.vitrun,
             "--nodes", "1,2", "--towers", "vit-b16", "--out", out])
    with open(os.path.join(out, "predict.csv")) as f:
        rows = list(csv.DictReader(f))
    views = {(r["view"], r["nodes"]): r for r in rows}
    best2 = views.get(("best", "2"), {})
    ck.check("--predict: a row per view and size, the layouts use the ranks",
             len(rows) == 4 and all(int(r["dp"]) * int(r["pp"]) * int(r["tp"]) == int(r["ranks"])
                                    for r in rows) and
             all(r["dp"] == "1" for r in rows if r["view"] == "one replica"), str(rows)[:300])
    ck.check("--predict: replicas scale linearly in the model (efficiency 1 on 2 nodes, to "
             "the 1% within which the planner picks its lead)",
             abs(float(best2.get("efficiency", 0)) - 1) < 0.01 and best2.get("bound") == "compute",
             str(best2)[:200])
    ck.check("--predict: the plot and where it stops, said predicted",
             os.path.getsize(os.path.join(out, "predict.png")) > 0 and
             "where each stops scaling (predicted)" in p.stdout and "not measured" in p.stdout,
             p.stdout[-300:])


def shapes(a, ck, tmp, prof, refused):
    """--shape against model files of the same shape, and its refusals."""
    plan = ["--plan", "--nodes", "2", "--ranks-per-node", "2", "--profile", prof, "--json"]
    small = ["--image-size", "32", "--patch-size", "8", "--hidden", "64", "--layers", "4",
             "--heads", "4", "--mlp-dim", "128"]
    for name, make, spec in (
            ("classifier", ["--classes", "10"],
             "hidden=64,layers=4,heads=4,mlp=128,patch=8,image=32,classes=10"),
            ("projection, swiglu, no qkv bias, q/k norm",
             ["--head", "projection", "--embed-dim", "32", "--act", "swiglu", "--no-qkv-bias",
              "--qk-norm"],
             "qk_norm=1,patch=8,image=32,hidden=64,layers=4,heads=4,mlp=128,embed=32,act=swiglu,"
             "qkv_bias=0")):
        model = os.path.join(tmp, "shape.h5")
        run([PYTHON, os.path.join(a.scripts, "make_model.py")] + small + make + [model])
        want = run([a.vitrun, "--model", model] + plan).stdout
        got = run([a.vitrun, "--shape", spec] + plan).stdout
        ck.check(f"--shape {name}: the model file's --plan --nodes --json exactly",
                 got == want and len(json.loads(got)) == 42,
                 f"{len(got)} and {len(want)} bytes")
        os.remove(model)
    spec = "hidden=64,layers=4,heads=4,mlp=128,patch=8,image=32,classes=10"
    p = run([a.vitrun, "--shape", spec + ",block=parallel", "--threads", "1"] + plan)
    lay = json.loads(p.stdout)
    ck.check("--shape block=parallel accepted; --threads 1 in every layout",
             lay and all(o["threads"] == 1 for o in lay), p.stdout[:120])
    nodes = ["--plan", "--nodes", "1", "--ranks-per-node", "2", "--profile", prof]
    for what, bad, needle in (
            ("an unknown key", spec + ",depth=3", "unknown key 'depth'"),
            ("a size of 0", spec.replace("hidden=64", "hidden=0"), "hidden=0"),
            ("an overflowing size", spec.replace("mlp=128", "mlp=18446744073709551617"),
             "mlp=18446744073709551617"),
            ("a size over 2^20", spec.replace("mlp=128", "mlp=1048577"), "mlp=1048577"),
            ("heads not dividing hidden", spec.replace("heads=4", "heads=5"),
             "heads=5 does not divide hidden=64"),
            ("a missing key", spec.replace("patch=8,", ""), "patch is missing"),
            ("an image not a multiple of the patch", spec.replace("image=32", "image=30"),
             "image=30"),
            ("a projection with classes", spec + ",embed=16", "embed=16")):
        refused(f"--shape refuses {what}", [a.vitrun, "--shape", bad] + nodes, needle)
    refused("--shape without --plan --nodes refused", [a.vitrun, "--shape", spec, "--plan"],
            "--shape goes with --plan --nodes")
    refused("--shape with --model refused", [a.vitrun, "--shape", spec, "--model", "m.h5"] +
            nodes, "--shape describes the model instead of --model")


if __name__ == "__main__":
    sys.exit(main())
