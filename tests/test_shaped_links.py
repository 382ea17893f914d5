#!/usr/bin/env python3
"""The performance model's network term against real TCP at real rates.

Two hosts (network namespaces, tests/netns.py) whose links are shaped with
`tc tbf` to 10 Gbit/s, then to 1 Gbit/s. At each rate:

1. `vitrun --calibrate` runs one rank per host: the network's alpha and beta
   it measures must be the shaped rate (beta within 80-105% of it, the
   median of the rounds), since the model's network term stands on them.
2. Each round calibrates, the model predicts (vitrun --plan --nodes 2
   --ranks-per-node 1 --json with that profile) and the job runs, each
   layout over the same synthetic images,
   for pipeline parallelism (pp 2: a stage per host, the residual stream
   crossing the link once per micro-batch), tensor parallelism (tp 2: the
   TP group split over the hosts, four ring exchanges per layer on the
   link) and tp 2 with --wire bf16. Measured: the --report images/s, the
   median of the rounds. Predicted: the same run from the model (n
   micro-batches take n + pp - 1 periods and the first one's sends), the
   median of the rounds' predictions (this machine's compute rates drift
   by +-10% within a minute; a calibration next to each round's runs
   spreads that drift over both sides). The rows the model calls
   network-bound test its network term: they must be within --bound (15%,
   the issue's target) of measured. The compute-bound rows (4 runs here:
   +2% to +11%) are held to --compute-bound (25%): compute is not what
   this test is about (scripts/predict_check.py is), the two hosts share
   this machine's two CPUs with everything else on it, and a CI machine
   is noisier still.
3. The bytes: what the model says crosses the link per micro-batch (its
   tp_bytes or pp_bytes, times the micro-batches) against what the veths
   counted, within 10% (TCP/IP headers and MPI's own messages are the
   rest).
4. --wire bf16 pays where the network bounds: at 1 Gbit/s the model calls
   tp 2 network-bound, and bf16 is measured at least 1.25x faster there,
   and predicted so. Where a node computes so slowly that tp 2 is still
   compute-bound at 1 Gbit/s (an AVX2 core), the test adds 0.5 Gbit/s (and
   then 0.25) so that some row tests the network term at the 15% bound.

Prints every row (predicted, measured with min and max, error). Exits 77
(CTest's skip) when not root or when network namespaces or tc are missing;
removes everything it creates, also on failure.
"""
import json
import os
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from netns import NetError, Network, missing_tools, run_mpi, sigterm_cleans  # noqa: E402
from testlib import PYTHON, SKIP, Checker, run, test_parser  # noqa: E402

LAYOUTS = [  # name, vitrun's layout options, (pp, tp), wire bf16
    ("pp2", ["--pp", "2"], (2, 1), False),
    ("tp2", ["--tp", "2"], (1, 2), False),
    ("tp2 bf16", ["--tp", "2", "--wire", "bf16"], (1, 2), True),
]


def whole_run(c, pp, batch, images):
    """The model's images/s for a run of `images` on one replica (pipeline
    fill and drain included): n micro-batches take n + pp - 1 periods and
    the first one's sends between stages (vr_perf_run_seconds)."""
    period = batch / c["images_per_s"]
    n_mb = -(-images // batch)
    return images / ((n_mb + pp - 1) * period + c["fill_send_s"])


def main():
    ap = test_parser(mpiexec_required=False)
    ap.set_defaults(mpiexec="mpirun", mpi_flags="")
    ap.add_argument("--rates", default="10,1", help="Gbit/s, comma-separated")
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bound", type=float, default=0.15,
                    help="for the rows the model calls network-bound")
    ap.add_argument("--compute-bound", type=float, default=0.25,
                    help="for the others (see the docstring)")
    ap.add_argument("--keep", help="copy profiles and reports into this folder")
    a = ap.parse_args()
    t_start = time.time()

    if os.geteuid() != 0:
        print("SKIPPED: test_shaped_links needs root to create network namespaces")
        return SKIP
    missing = missing_tools(("tc",))
    if missing:
        print(f"SKIPPED: test_shaped_links needs {missing} (iproute2, util-linux)")
        return SKIP
    mpiexec = shutil.which(a.mpiexec)
    if not mpiexec:
        print(f"FAIL: {a.mpiexec} not found")
        return 1
    rates = [float(r) for r in a.rates.split(",")]
    ck = Checker(f"shaped links: 2 network-namespace hosts at {a.rates} Gbit/s (tc tbf), "
                 f"the performance model's network term against measured runs")
    sigterm_cleans("test_shaped_links")
    with Network("vrsl", 2, 8) as nw:
        try:
            nw.build()
            nw.shape(1e9)
            nw.shape(None)
        except NetError as e:
            print(f"SKIPPED: cannot build or shape the test network ({e}); network "
                  f"namespaces, veth and bridge devices and tc's tbf are needed")
            return SKIP
        tmp = nw.tmp
        # a ViT-S/16-shaped model at half the depth: 197 tokens of 384
        model = os.path.join(tmp, "model.h5")
        run([PYTHON, os.path.join(a.scripts, "make_model.py"), model, "--image-size", "224",
             "--patch-size", "16", "--hidden", "384", "--layers", "6", "--heads", "6",
             "--mlp-dim", "1536", "--classes", "10", "--seed", "3"])
        # each host on a CPU of its own (taskset), one rank each
        mpi, env = nw.mpirun(mpiexec, a.np_flag, 2, 1, [], pin=True)
        out_h5 = os.path.join(tmp, "scores.h5")
        rows = []  # (rate, name, predicted, [measured], plan row, link bytes, pp)

        def calibrate(gbit, r):
            """A profile of the two hosts now; its beta, alpha and seconds."""
            prof = os.path.join(tmp, f"profile_{gbit:g}g_{r}.json")
            t0 = time.time()
            run_mpi(mpi + [a.vitrun, "--calibrate", prof, "--threads", "1"], env, 300)
            with open(prof) as f:
                p = json.load(f)
            # a host is one CPU of this machine (pinned): what its node has
            # (calibrate counts the machine's CPUs, which the hosts share)
            p["cores"] = 1
            with open(prof, "w") as f:
                json.dump(p, f)
            return prof, p["net_beta"], p["net_alpha"], time.time() - t0

        def predict(prof):
            """{layout name: its --plan --json row} with this profile."""
            pred = {}
            for name, lay, (pp, tp), bf16 in LAYOUTS:
                cmd = [a.vitrun, "--model", model, "--plan", "--nodes", "2",
                       "--ranks-per-node", "1", "--threads", "1", "--profile", prof, "--json"]
                cmd += ["--wire", "bf16"] if bf16 else []
                plan = json.loads(run(cmd, env=env).stdout)
                hit = [c for c in plan if (c["dp"], c["pp"], c["tp"], c["batch"]) ==
                       (1, pp, tp, a.batch)]
                if not hit:
                    raise SystemExit(f"FAIL: --plan lists no dp 1 pp {pp} tp {tp} "
                                     f"batch {a.batch}")
                pred[name] = hit[0]
            return pred

        def at_rate(gbit):
            bits = gbit * 1e9
            nw.shape(bits)
            # every round calibrates, predicts, then runs each layout: this
            # machine's rates drift by +-10% within a minute, and a
            # prediction is only as good as the calibration behind it
            measured = {name: [] for name, *_ in LAYOUTS}
            predicted = {name: [] for name, *_ in LAYOUTS}
            link, betas, plan_row = {}, [], {}
            for r in range(a.rounds):
                prof, beta, alpha, secs = calibrate(gbit, r)
                betas.append(beta)
                print(f"  {gbit:g} Gbit/s round {r + 1}: calibrated in {secs:.0f} s: alpha "
                      f"{alpha * 1e6:.1f} us, beta {beta / 1e6:.1f} MB/s")
                pred = predict(prof)
                for name, lay, (pp, _), _ in LAYOUTS:
                    predicted[name].append(whole_run(pred[name], pp, a.batch, a.images))
                    plan_row.setdefault(name, pred[name])
                    report = os.path.join(tmp, f"report_{gbit:g}g_{name.replace(' ', '_')}"
                                          f"_{r}.json")
                    for f in (out_h5, out_h5 + ".part", out_h5 + ".journal"):
                        if os.path.exists(f):
                            os.remove(f)
                    before = nw.bytes()
                    run_mpi(mpi + [a.vitrun, "--model", model, "--synthetic", str(a.images),
                                   "--batch", str(a.batch), "--threads", "1", "--quiet",
                                   "--output", out_h5, "--report", report] + lay, env, 300)
                    after = nw.bytes()
                    with open(report) as f:
                        measured[name].append(json.load(f)["images_per_s"])
                    link[name] = after["h0"][1] - before["h0"][1]
            beta = statistics.median(betas)
            ck.check(f"{gbit:g} Gbit/s: calibrate measured the shaped link "
                     f"(beta 80-105% of the rate, median of {a.rounds})",
                     0.80 <= beta / (bits / 8) <= 1.05,
                     f"beta {beta / 1e6:.1f} MB/s = {beta * 8 / bits:.3f} of "
                     f"{bits / 8e6:.0f} MB/s")
            for name, lay, (pp, tp), bf16 in LAYOUTS:
                rows.append((gbit, name, statistics.median(predicted[name]), measured[name],
                             plan_row[name], link[name], pp))
            if a.keep:
                os.makedirs(a.keep, exist_ok=True)
                for f in os.listdir(tmp):
                    if f.endswith(".json"):
                        shutil.copy(os.path.join(tmp, f), a.keep)
            return plan_row["tp2"]["bound"]

        slow_bound = {gbit: at_rate(gbit) for gbit in rates}[min(rates)]
        # the rates are 10 and 1 Gbit/s; on a node that computes
        # slowly (an AVX2 core does half an AVX-512 one's work) tp 2 is still
        # compute-bound at 1 Gbit/s, and the network term would go untested
        # at the 15% bound: halve the slowest rate until the model calls
        # fp32 tp 2 network-bound (at most twice)
        for _ in range(2):
            if slow_bound == "network":
                break
            print(f"  at {min(rates):g} Gbit/s the model calls tp 2 {slow_bound}-bound: "
                  f"adding {min(rates) / 2:g} Gbit/s")
            rates.append(min(rates) / 2)
            slow_bound = at_rate(rates[-1])

        print(f"  {'link':>9} {'layout':<9} {'bound':<8} {'predicted':>9} {'measured':>9} "
              f"{'(min-max)':>13} {'error':>7}  link bytes model/veth")
        med = {}
        for gbit, name, p_ips, m, c, tx, pp in rows:
            m_med = statistics.median(m)
            med[(gbit, name)] = (p_ips, m_med, c)
            err = p_ips / m_med - 1
            n_mb = -(-a.images // a.batch)
            model_bytes = (c["tp_bytes"] if pp == 1 else c["pp_bytes"]) * n_mb
            print(f"  {gbit:>5g} Gb/s {name:<9} {c['bound']:<8} {p_ips:>9.2f} {m_med:>9.2f} "
                  f"({min(m):>5.2f}-{max(m):<5.2f}) {err:>+7.1%}  "
                  f"{model_bytes / 1e6:.1f}/{tx / 1e6:.1f} MB")
            if c["bound"] == "network":
                ck.check(f"{gbit:g} Gbit/s {name} (network-bound): predicted within "
                         f"{a.bound:.0%} of measured", abs(err) <= a.bound,
                         f"{p_ips:.2f} vs {m_med:.2f} images/s, {err:+.1%}")
            else:
                ck.check(f"{gbit:g} Gbit/s {name} (compute-bound): predicted within "
                         f"{a.compute_bound:.0%} of measured", abs(err) <= a.compute_bound,
                         f"{p_ips:.2f} vs {m_med:.2f} images/s, {err:+.1%}")
            ck.check(f"{gbit:g} Gbit/s {name}: the model's bytes on the link are what the "
                     f"veth counted (within 10%)", 0.9 <= model_bytes / tx <= 1.1 if tx else
                     False, f"{model_bytes / 1e6:.2f} MB predicted, {tx / 1e6:.2f} MB sent")
        slow = min(rates)
        (p32, m32, c32), (p16, m16, _) = med[(slow, "tp2")], med[(slow, "tp2 bf16")]
        ck.check(f"{slow:g} Gbit/s: the model calls fp32 tp 2 network-bound",
                 c32["bound"] == "network", c32["bound"])
        ck.check(f"{slow:g} Gbit/s: --wire bf16 pays on tp 2 (measured at least 1.25x)",
                 m16 / m32 >= 1.25, f"{m16 / m32:.2f}x measured, {p16 / p32:.2f}x predicted")
        ck.check(f"{slow:g} Gbit/s: the model too says bf16 pays (at least 1.25x)",
                 p16 / p32 >= 1.25, f"{p16 / p32:.2f}x predicted, {m16 / m32:.2f}x measured")
        print(f"  the test took {time.time() - t_start:.0f} s")
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
