#!/usr/bin/env python3
"""A pipeline whose stages run on different hosts, against the single process.

The hosts are network namespaces this test creates (tests/netns.py: one per
(replica, stage), TCP over veth pairs and a bridge, mpirun in the first host
reaching the others through an ssh-like agent). --map-by node deals the world
ranks round-robin over the hosts, so world ranks 0 and 1 sit on different
hosts: the stages land on one host each only because vitrun orders its rank
grid by node.

Checks: every rank ran in the namespace, with the hostname and the address of
the host it was mapped to; each host holds the ranks of exactly one pipeline
stage, with all its TP ranks (from the --report JSON, whose layout counts the
nodes, and from --plan's placement line); the output equals one process
without MPI (paths, ok, errors and top-k indices identical, logits within
1e-5 relative); the activations crossed the veths (each stage's host sent at
least the bytes its ranks report as sent to the next stage, and the next host
received them).

Exits 77 (CTest's skip) when not root or when network namespaces are not
available. Everything it creates (namespaces, links, the temporary folder,
processes in the namespaces) is removed at the end, also on failure, and the
leftovers of a crashed earlier run are removed at the start.
"""
import json
import os
import re
import shlex
import shutil
import sys
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from netns import NetError, Network, missing_tools, run_mpi, sigterm_cleans  # noqa: E402
from testlib import PYTHON, SKIP, Checker, rel_diff, run, test_parser  # noqa: E402

WHERE = """#!/bin/sh
# Records where this rank runs, then becomes the rank.
{{ hostname; ip netns identify $$; ip -4 -o addr show scope global; }} \\
    > {dir}/where.$OMPI_COMM_WORLD_RANK
exec "$@"
"""


def main():
    ap = test_parser(mpiexec_required=False)
    ap.set_defaults(mpiexec="mpirun", mpi_flags="")
    ap.add_argument("--model", help="a 28x28 model (default: a random one made here)")
    ap.add_argument("--pp", type=int, default=2)
    ap.add_argument("--tp", type=int, default=2)
    ap.add_argument("--dp", type=int, default=1)
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=8)
    a = ap.parse_args()
    t_start = time.time()

    if os.geteuid() != 0:
        print("SKIPPED: test_multihost needs root to create network namespaces")
        return SKIP
    missing = missing_tools()
    if missing:
        print(f"SKIPPED: test_multihost needs {missing} (iproute2, util-linux)")
        return SKIP
    mpiexec = shutil.which(a.mpiexec)
    if not mpiexec:
        print(f"FAIL: {a.mpiexec} not found")
        return 1

    n_hosts, np_ = a.dp * a.pp, a.dp * a.pp * a.tp
    ck = Checker(f"multi-host: dp {a.dp} x pp {a.pp} x tp {a.tp} = {np_} ranks on {n_hosts} "
                 f"network namespaces, TCP over veth pairs and a bridge")
    sigterm_cleans("test_multihost")
    with Network("vrmh", n_hosts, 7) as nw:
        try:
            nw.build()
        except NetError as e:
            print(f"SKIPPED: cannot build the test network ({e}); network namespaces, veth "
                  f"and bridge devices are needed")
            return SKIP
        tmp, net, hosts = nw.tmp, nw.net, nw.hosts

        # inputs and model
        data = os.path.join(tmp, "fashion")
        p = run([PYTHON, os.path.join(a.scripts, "fashion_mnist.py"), data, "--count",
                 str(a.images)], check=False)
        if p.returncode != 0:
            print(f"FAIL: cannot write the Fashion-MNIST JPEG files:\n{p.stdout}{p.stderr}")
            return 1
        images = os.path.join(data, "images")
        model = a.model
        if not model:
            model = os.path.join(tmp, "model.h5")
            run([PYTHON, os.path.join(a.scripts, "make_model.py"), model, "--image-size", "28",
                 "--patch-size", "4", "--hidden", "64", "--layers", "4", "--heads", "4",
                 "--mlp-dim", "128", "--classes", "10", "--preprocess", "hf", "--shards", "2",
                 "--seed", "7"])
        common = ["--model", model, "--input", images, "--batch", str(a.batch), "--logits",
                  "--threads", "1"]

        # one process, no MPI launcher (its singleton session goes to our TMPDIR)
        env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                   OMP_NUM_THREADS="1")
        os.makedirs(os.path.join(tmp, "single-tmp"))
        single = os.path.join(tmp, "single.h5")
        run([a.vitrun] + common + ["--output", single, "--quiet"],
            env=dict(env, TMPDIR=os.path.join(tmp, "single-tmp")), timeout=60)

        # the launcher and a rank wrapper that records where each rank runs
        mpi, env_mpi = nw.mpirun(mpiexec, a.np_flag, np_, a.tp, shlex.split(a.mpi_flags))
        where_dir = os.path.join(tmp, "where")
        os.makedirs(where_dir)
        where = os.path.join(tmp, "where.sh")
        with open(where, "w") as f:
            f.write(WHERE.format(dir=shlex.quote(where_dir)))
        os.chmod(where, 0o755)
        layout = ["--pp", str(a.pp), "--tp", str(a.tp), "--dp", str(a.dp)]

        out, _ = run_mpi(mpi + [a.vitrun, "--model", model, "--plan"] + layout, env_mpi, 60)
        placement = [ln for ln in out.splitlines() if ln.startswith("placement:")]
        want = f"placement: {n_hosts} node(s); 0 tensor-parallel group(s) span nodes"
        ck.check("--plan under mpirun sees one node per host, no TP group split",
                 placement == [want], placement[0] if placement else out[-300:])

        before = nw.bytes()
        dist, report = os.path.join(tmp, "dist.h5"), os.path.join(tmp, "report.json")
        t0 = time.time()
        _, err = run_mpi(mpi + [where, a.vitrun] + common + layout +
                         ["--output", dist, "--report", report], env_mpi, 120)
        t_run = time.time() - t0
        after = nw.bytes()
        summary = [s for s in err.splitlines() if s.startswith("vitrun:") and " images in " in s]
        print(f"  {summary[0] if summary else '(no summary line)'}")

        # where every rank ran
        launched = sorted(set(open(nw.agent_log).read().split()))
        ck.check("the agent entered every host", launched == sorted(hosts), str(launched))
        host_of, bad = {}, []
        for r in range(np_):
            fn = os.path.join(where_dir, f"where.{r}")
            lines = open(fn).read().splitlines() if os.path.exists(fn) else []
            name = lines[0] if lines else "?"
            ns = lines[1] if len(lines) > 1 else "?"
            addrs = re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", "\n".join(lines[2:]))
            host_of[r] = name
            if name not in net or ns != net[name][0] or addrs != [net[name][1]]:
                bad.append(f"rank {r}: hostname {name}, namespace {ns}, addresses {addrs}")
        ck.check("every rank ran in its host's namespace with its address", not bad,
                 "; ".join(bad) or ", ".join(f"rank {r} on {h}" for r, h in host_of.items()))

        # which (replica, stage) each host holds
        with open(report) as f:
            rep = json.load(f)
        ranks = {x["rank"]: x for x in rep["ranks"]}
        ck.check("report: one node per host", rep["layout"]["nodes"] == n_hosts,
                 f"{rep['layout']['nodes']} node(s)")
        held = {h: sorted({(ranks[r]["replica"], ranks[r]["stage"]) for r in host_of
                           if host_of[r] == h}) for h in hosts}
        tps = {h: sorted(ranks[r]["tp"] for r in host_of if host_of[r] == h) for h in hosts}
        one_each = (all(len(v) == 1 for v in held.values()) and
                    len({v[0] for v in held.values() if v}) == n_hosts and
                    all(v == list(range(a.tp)) for v in tps.values()))
        ck.check("each host holds one whole stage (all its TP ranks)", one_each,
                 ", ".join(f"{h}: replica/stage {held[h]} tp {tps[h]}" for h in hosts))
        if a.tp > 1:
            ck.check("world ranks were interleaved over the hosts (--map-by node)",
                     any(host_of[r] != host_of[r + 1] for r in range(np_ - 1)),
                     " ".join(host_of[r] for r in range(np_)))

        # the answer
        with h5py.File(single) as s, h5py.File(dist) as d:
            n = len(s["path"])
            ck.check("same rows in the same order", list(d["path"][:]) == list(s["path"][:]),
                     f"{len(d['path'])} vs {n} rows")
            ck.check("ok and errors identical", np.array_equal(d["ok"][:], s["ok"][:]) and
                     list(d["error"][:]) == list(s["error"][:]),
                     f"{int(np.sum(s['ok'][:]))} of {n} ok")
            ck.check("top-k indices identical", np.array_equal(d["topk_index"][:],
                                                               s["topk_index"][:]))
            ck.close("logits vs single process", d["logits"][:], s["logits"][:], 1e-5)
            worst = rel_diff(d["logits"][:], s["logits"][:])

        # the activations crossed the wire: a stage's host sent at least what its ranks
        # sent to the next stage (activations and row metadata), whose host received it
        host_holding = {v[0]: h for h, v in held.items() if len(v) == 1}
        moved, ok = [], one_each
        for h in hosts:
            (rx0, tx0), (rx1, tx1) = before[h], after[h]
            sent = sum(ranks[r]["bytes_sent"] for r in host_of if host_of[r] == h
                       and ranks[r]["stage"] < a.pp - 1)
            moved.append(f"{h}: ranks sent {sent / 1e6:.2f} MB to the next stage, eth0 tx "
                         f"{(tx1 - tx0) / 1e6:.2f} MB rx {(rx1 - rx0) / 1e6:.2f} MB")
            if one_each and held[h][0][1] < a.pp - 1:
                nxt = host_holding[(held[h][0][0], held[h][0][1] + 1)]
                ok &= 0 < sent <= tx1 - tx0 and sent <= after[nxt][0] - before[nxt][0]
        ck.check("activations went over the veths", ok, "; ".join(moved))
        print(f"  the pp x tp run took {t_run:.1f} s; the test {time.time() - t_start:.1f} s; "
              f"worst logit difference {worst:.2e}")
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
