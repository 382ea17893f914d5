#!/usr/bin/env python3
"""Stage-to-stage transfer modes: 1/T slices + allgather, one copy per TP group +
broadcast, or a full copy per TP rank.

Runs vitrun on pp x tp ranks in each --send mode in turn (rotating the order), several
rounds, on a model whose stages are thin (few layers) so that transfers weigh,
and prints per mode the median / min / max of throughput and of the time each
rank spent blocked in receive, send and TP collectives (from --report), and
the ratio of medians. Usage:

    bench/transfer_modes.py --vitrun build/vitrun [--rounds 5] [--pp 2 --tp 2]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vitrun", required=True)
    ap.add_argument("--mpiexec", default="mpirun")
    ap.add_argument("--mpi-flags", default="--oversubscribe --mca btl_vader_single_copy_mechanism none")
    ap.add_argument("--pp", type=int, default=2)
    ap.add_argument("--tp", type=int, default=2)
    ap.add_argument("--layers", type=int, default=2, help="encoder layers (ViT-B width)")
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    modes = ["slice", "group", "full"]
    res = {m: [] for m in modes}
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "m.h5")
        subprocess.run([PYTHON, os.path.join(HERE, "..", "scripts", "make_model.py"),
                        "--preset", "vit-b16", "--layers", str(a.layers), "--classes", "10",
                        model], check=True, capture_output=True)
        np_ = a.pp * a.tp
        for r in range(a.rounds):
            for mode in modes[r % 3:] + modes[:r % 3]:
                rep = os.path.join(tmp, f"{mode}.json")
                subprocess.run([a.mpiexec, "-np", str(np_)] + a.mpi_flags.split() +
                               [a.vitrun, "--model", model, "--synthetic", str(a.images),
                                "--batch", str(a.batch), "--threads", "1", "--pp", str(a.pp),
                                "--tp", str(a.tp), "--send", mode, "--quiet", "--report", rep,
                                "--output", os.path.join(tmp, "o.h5")], check=True, env=env)
                with open(rep) as f:
                    j = json.load(f)
                later = [x for x in j["ranks"] if x["stage"] > 0]
                res[mode].append((j["images_per_s"],
                                  sum(x["recv_wait_s"] + x["allreduce_s"] for x in later) /
                                  max(len(later), 1),
                                  sum(x["bytes_sent"] for x in j["ranks"]) / 1e6))
    print(f"{a.pp} stages x {a.tp} TP ranks, ViT-B width, {a.layers} layers, {a.images} images, "
          f"batch {a.batch}, {a.rounds} rounds (rotating order)")
    for mode, rows in res.items():
        ips = [x[0] for x in rows]
        wait = [x[1] for x in rows]
        print(f"  {mode:5s}: images/s median {statistics.median(ips):7.2f} "
              f"(min {min(ips):.2f}, max {max(ips):.2f}); later stages blocked in recv+collectives "
              f"median {statistics.median(wait):.3f} s (min {min(wait):.3f}, max {max(wait):.3f}); "
              f"sent {rows[0][2]:.1f} MB")
    base = statistics.median([x[0] for x in res["full"]])
    for mode in ("slice", "group"):
        ratio = statistics.median([x[0] for x in res[mode]]) / base
        print(f"  {mode}/full throughput ratio of medians: {ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
