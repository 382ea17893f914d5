#!/usr/bin/env python3
"""A pipeline whose stages run on different hosts, against the single process.

The hosts are network namespaces this test creates: one per (replica, stage),
each with its own address on a private subnet, joined by veth pairs to a
bridge that lives in a namespace of its own, so nothing is added to the root
namespace. mpirun runs inside the first host and reaches the others through
a plm_rsh_agent script that plays ssh: it enters the host's namespace, gives
it its own hostname (a UTS namespace) and its own TMPDIR (Open MPI's session
directory is named after the hostname, and daemons that share one collide),
and runs the command line it was given. Only the TCP transport is allowed, on
the private subnet, and ranks yield when idle (the hosts share this machine's
cores, which no host's Open MPI knows). --map-by node deals the world ranks
round-robin over the hosts, so world ranks 0 and 1 sit on different hosts:
the stages land on one host each only because vitrun orders its rank grid by
node.

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
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from testlib import PYTHON, SKIP, Checker, rel_diff, run, test_parser  # noqa: E402

TAG = "vrmh"                      # namespaces vrmh<pid>-br, vrmh<pid>-h0, ...; /tmp/vrmh<pid>-*
SUBNET, HOST_IP = "10.231.7.0/24", "10.231.7.{}"
OWN = re.compile(rf"^{TAG}(\d+)-")

AGENT = """#!/bin/sh
# plm_rsh_agent: called like ssh, `agent HOST WORD...`, where the words are one
# shell command line (already quoted for a remote shell).
host=$1
shift
case $host in
{cases}
  *) echo "agent: unknown host '$host'" >&2; exit 255;;
esac
echo "$host" >> {log}
TMPDIR={hosts_tmp}/$host
export TMPDIR
exec ip netns exec "$ns" unshare --uts sh -c 'hostname "$1" && exec sh -c "$2"' agent "$host" "$*"
"""

WHERE = """#!/bin/sh
# Records where this rank runs, then becomes the rank.
{{ hostname; ip netns identify $$; ip -4 -o addr show scope global; }} \\
    > {dir}/where.$OMPI_COMM_WORLD_RANK
exec "$@"
"""


class NetError(Exception):
    pass


def ip(*args, check=True):
    p = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and p.returncode != 0:
        raise NetError(f"ip {' '.join(args)}: {p.stderr.strip() or p.returncode}")
    return p


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def netns_names():
    p = ip("netns", "list", check=False)
    return [ln.split()[0] for ln in p.stdout.splitlines() if ln.strip()]


def remove_netns(name):
    """Kills what still runs in the namespace, deletes its links, then the namespace."""
    pids = ip("netns", "pids", name, check=False).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    for _ in range(50):
        if not ip("netns", "pids", name, check=False).stdout.split():
            break
        time.sleep(0.1)
    links = ip("-n", name, "-o", "link", "show", check=False).stdout
    for ln in links.splitlines():
        dev = ln.split(":")[1].strip().split("@")[0] if ":" in ln else ""
        if dev and dev != "lo":
            ip("-n", name, "link", "del", dev, check=False)
    ip("netns", "del", name, check=False)


def stale(pid):
    """A run that is gone, or an earlier one whose pid this run now has."""
    return pid == os.getpid() or not pid_alive(pid)


def clean(ours=False):
    """Removes this run's namespaces (ours) or those of runs that are gone, with
    their temporary folders."""
    for ns in netns_names():
        m = OWN.match(ns)
        if m and (int(m.group(1)) == os.getpid() if ours else stale(int(m.group(1)))):
            print(f"  removing namespace {ns}" + ("" if ours else " (left by a crashed run)"))
            remove_netns(ns)
    if not ours:
        for d in os.listdir(tempfile.gettempdir()):
            m = OWN.match(d)
            if m and stale(int(m.group(1))):
                shutil.rmtree(os.path.join(tempfile.gettempdir(), d), ignore_errors=True)


def make_network(prefix, hosts):
    """A bridge namespace and one namespace per host; returns {host: (ns, address)}.
    Every device is created inside a namespace: the root namespace never sees one."""
    br = prefix + "br"
    ip("netns", "add", br)
    ip("-n", br, "link", "add", "br0", "type", "bridge")
    ip("-n", br, "link", "set", "br0", "up")
    net = {}
    for i, h in enumerate(hosts):
        ns, addr = prefix + h, HOST_IP.format(i + 1)
        ip("netns", "add", ns)
        ip("-n", br, "link", "add", h, "type", "veth", "peer", "name", "eth0", "netns", ns)
        ip("-n", br, "link", "set", h, "master", "br0", "up")
        ip("-n", ns, "addr", "add", addr + "/24", "dev", "eth0")
        ip("-n", ns, "link", "set", "eth0", "up")
        ip("-n", ns, "link", "set", "lo", "up")
        net[h] = (ns, addr)
    return net


def veth_bytes(net):
    """{host: (rx, tx)} of each host's eth0."""
    out = {}
    for h, (ns, _) in net.items():
        s = json.loads(ip("-n", ns, "-s", "-j", "link", "show", "dev", "eth0").stdout)[0]["stats64"]
        out[h] = (s["rx"]["bytes"], s["tx"]["bytes"])
    return out


def run_mpi(cmd, env, timeout):
    """Runs cmd in its own session; on timeout kills the session and fails."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        sys.stderr.write(f"timed out after {timeout} s: {' '.join(cmd)}\n{out}{err}")
        raise SystemExit(1)
    if p.returncode != 0:
        sys.stderr.write(f"command failed ({p.returncode}): {' '.join(cmd)}\n{out}{err}")
        raise SystemExit(1)
    return out, err


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
    missing = [t for t in ("ip", "unshare") if not shutil.which(t)]
    if missing:
        print(f"SKIPPED: test_multihost needs {missing} (iproute2, util-linux)")
        return SKIP
    mpiexec = shutil.which(a.mpiexec)
    if not mpiexec:
        print(f"FAIL: {a.mpiexec} not found")
        return 1

    n_hosts, np_ = a.dp * a.pp, a.dp * a.pp * a.tp
    hosts = [f"h{i}" for i in range(n_hosts)]
    ck = Checker(f"multi-host: dp {a.dp} x pp {a.pp} x tp {a.tp} = {np_} ranks on {n_hosts} "
                 f"network namespaces, TCP over veth pairs and a bridge")
    clean()
    prefix = f"{TAG}{os.getpid()}-"
    # SIGTERM (a user, a batch system) still runs the finally block
    def stop(*_):
        print("test_multihost: SIGTERM, cleaning up", file=sys.stderr)
        sys.exit(1)
    signal.signal(signal.SIGTERM, stop)
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        try:
            net = make_network(prefix, hosts)
            ip("netns", "exec", net["h0"][0], "unshare", "--uts", "true")
        except NetError as e:
            print(f"SKIPPED: cannot build the test network ({e}); network namespaces, veth "
                  f"and bridge devices are needed")
            return SKIP

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

        # the launcher: agent, hostfile, rank wrapper
        hosts_tmp = os.path.join(tmp, "hosts")
        for h in ["head"] + hosts:
            os.makedirs(os.path.join(hosts_tmp, h))
        agent, log = os.path.join(tmp, "agent.sh"), os.path.join(tmp, "agent.log")
        cases = "\n".join(f"  {h}) ns={net[h][0]};;" for h in hosts)
        with open(agent, "w") as f:
            f.write(AGENT.format(cases=cases, log=shlex.quote(log),
                                 hosts_tmp=shlex.quote(hosts_tmp)))
        where_dir = os.path.join(tmp, "where")
        os.makedirs(where_dir)
        where = os.path.join(tmp, "where.sh")
        with open(where, "w") as f:
            f.write(WHERE.format(dir=shlex.quote(where_dir)))
        os.chmod(agent, 0o755)
        os.chmod(where, 0o755)
        hostfile = os.path.join(tmp, "hostfile")
        with open(hostfile, "w") as f:
            f.writelines(f"{h} slots={a.tp}\n" for h in hosts)
        # mpirun itself runs in h0, so every byte of the job stays in the test network
        mpi = (["ip", "netns", "exec", net["h0"][0], mpiexec, a.np_flag, str(np_)] +
               shlex.split(a.mpi_flags) +
               ["--hostfile", hostfile, "--map-by", "node", "--mca", "plm_rsh_agent", agent,
                "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", SUBNET,
                "--mca", "oob_tcp_if_include", SUBNET,
                # Each host's Open MPI sees as many cores as ranks, but the hosts share
                # this machine's cores: polling without yielding made the job 14x slower.
                "--mca", "mpi_yield_when_idle", "1"])
        env_mpi = dict(env, TMPDIR=os.path.join(hosts_tmp, "head"))
        layout = ["--pp", str(a.pp), "--tp", str(a.tp), "--dp", str(a.dp)]

        out, _ = run_mpi(mpi + [a.vitrun, "--model", model, "--plan"] + layout, env_mpi, 60)
        placement = [ln for ln in out.splitlines() if ln.startswith("placement:")]
        want = f"placement: {n_hosts} node(s); 0 tensor-parallel group(s) span nodes"
        ck.check("--plan under mpirun sees one node per host, no TP group split",
                 placement == [want], placement[0] if placement else out[-300:])

        before = veth_bytes(net)
        dist, report = os.path.join(tmp, "dist.h5"), os.path.join(tmp, "report.json")
        t0 = time.time()
        _, err = run_mpi(mpi + [where, a.vitrun] + common + layout +
                         ["--output", dist, "--report", report], env_mpi, 120)
        t_run = time.time() - t0
        after = veth_bytes(net)
        summary = [s for s in err.splitlines() if s.startswith("vitrun:") and " images in " in s]
        print(f"  {summary[0] if summary else '(no summary line)'}")

        # where every rank ran
        launched = sorted(set(open(log).read().split()))
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
    finally:
        clean(ours=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
