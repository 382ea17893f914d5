"""Hosts made of network namespaces, for the tests that run MPI jobs across
"hosts" on one machine (test_multihost.py, test_shaped_links.py).

Each host is a namespace with its own address on a private subnet, joined by
a veth pair to a bridge that lives in a namespace of its own, so nothing is
added to the root namespace. mpirun runs inside the first host and reaches
the others through a plm_rsh_agent script that plays ssh: it enters the
host's namespace, gives it its own hostname (a UTS namespace) and its own
TMPDIR (Open MPI's session directory is named after the hostname, and
daemons that share one collide), and runs the command line it was given.
Only the TCP transport is allowed, on the private subnet, and ranks yield
when idle (the hosts share this machine's cores, which no host's Open MPI
knows).

shape() limits a host's link with `tc qdisc ... tbf` on both ends of its
veth pair (what the host sends, and what the bridge sends to it), as a
switch port of that rate would.

Every name starts with a tag and the creating process's pid, so a run
removes what a crashed earlier run left (its pid gone) and never touches
another live run's namespaces.
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
exec {pin}ip netns exec "$ns" unshare --uts sh -c 'hostname "$1" && exec sh -c "$2"' agent "$host" "$*"
"""


class NetError(Exception):
    pass


def ip(*args, check=True):
    p = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and p.returncode != 0:
        raise NetError(f"ip {' '.join(args)}: {p.stderr.strip() or p.returncode}")
    return p


def tc(ns, *args, check=True):
    p = subprocess.run(["ip", "netns", "exec", ns, "tc", *args], capture_output=True,
                       text=True, timeout=30)
    if check and p.returncode != 0:
        raise NetError(f"tc {' '.join(args)} (in {ns}): {p.stderr.strip() or p.returncode}")
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
    for pid in ip("netns", "pids", name, check=False).stdout.split():
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


def missing_tools(extra=()):
    """The commands a network of hosts needs that this machine lacks."""
    return [t for t in ("ip", "unshare", *extra) if not shutil.which(t)]


class Network:
    """Hosts h0..h(n-1) on subnet 10.231.<octet>.0/24; with-block removes it all."""

    def __init__(self, tag, n_hosts, octet):
        self.tag, self.octet = tag, octet
        self.own = re.compile(rf"^{tag}(\d+)-")
        self.prefix = f"{tag}{os.getpid()}-"
        self.subnet = f"10.231.{octet}.0/24"
        self.hosts = [f"h{i}" for i in range(n_hosts)]
        self.net = {}                   # {host: (namespace, address)}
        self.tmp = None

    # --- life cycle ---------------------------------------------------------
    def __enter__(self):
        self.clean()
        self.tmp = tempfile.mkdtemp(prefix=self.prefix)
        return self

    def __exit__(self, *exc):
        self.clean(ours=True)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False

    def stale(self, pid):
        """A run that is gone, or an earlier one whose pid this run now has."""
        return pid == os.getpid() or not pid_alive(pid)

    def clean(self, ours=False):
        """Removes this run's namespaces (ours) or those of runs that are gone,
        with their temporary folders."""
        for ns in netns_names():
            m = self.own.match(ns)
            if m and (int(m.group(1)) == os.getpid() if ours else self.stale(int(m.group(1)))):
                print(f"  removing namespace {ns}" + ("" if ours else " (left by a crashed run)"))
                remove_netns(ns)
        if not ours:
            for d in os.listdir(tempfile.gettempdir()):
                m = self.own.match(d)
                if m and self.stale(int(m.group(1))):
                    shutil.rmtree(os.path.join(tempfile.gettempdir(), d), ignore_errors=True)

    def build(self):
        """The bridge namespace and one namespace per host. Every device is
        created inside a namespace: the root namespace never sees one.
        NetError when this kernel or container cannot."""
        br = self.prefix + "br"
        ip("netns", "add", br)
        ip("-n", br, "link", "add", "br0", "type", "bridge")
        ip("-n", br, "link", "set", "br0", "up")
        for i, h in enumerate(self.hosts):
            ns, addr = self.prefix + h, f"10.231.{self.octet}.{i + 1}"
            ip("netns", "add", ns)
            ip("-n", br, "link", "add", h, "type", "veth", "peer", "name", "eth0", "netns", ns)
            ip("-n", br, "link", "set", h, "master", "br0", "up")
            ip("-n", ns, "addr", "add", addr + "/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "link", "set", "lo", "up")
            self.net[h] = (ns, addr)
        ip("netns", "exec", self.net["h0"][0], "unshare", "--uts", "true")
        return self

    # --- links --------------------------------------------------------------
    def shape(self, bits_per_s):
        """Every host's link at bits_per_s both ways (tbf on both veth ends;
        burst 200 us of the rate, at least 128 KiB: a GSO packet of 64 KiB must fit, and with less
        the link ran at 70% of its rate; queue up to 50 ms); None
        removes the shaping."""
        br = self.prefix + "br"
        for h in self.hosts:
            for ns, dev in ((self.net[h][0], "eth0"), (br, h)):
                tc(ns, "qdisc", "del", "dev", dev, "root", check=False)
                if bits_per_s:
                    burst = max(131072, int(bits_per_s / 8 * 200e-6))
                    tc(ns, "qdisc", "add", "dev", dev, "root", "tbf", "rate",
                       str(int(bits_per_s)), "burst", str(burst), "latency", "50ms")

    def bytes(self):
        """{host: (rx, tx)} of each host's eth0."""
        out = {}
        for h, (ns, _) in self.net.items():
            s = json.loads(ip("-n", ns, "-s", "-j", "link", "show", "dev",
                              "eth0").stdout)[0]["stats64"]
            out[h] = (s["rx"]["bytes"], s["tx"]["bytes"])
        return out

    # --- the launcher -------------------------------------------------------
    def mpirun(self, mpiexec, np_flag, nprocs, slots, flags=(), pin=False):
        """The mpirun command line that starts nprocs ranks over the hosts
        (--map-by node: round-robin, so world ranks 0 and 1 are on different
        hosts), and its environment. mpirun itself runs in h0, so every byte
        of the job stays in the test network. With pin, host i runs on CPU
        i mod this machine's CPUs (taskset), as if each had its own cores."""
        hosts_tmp = os.path.join(self.tmp, "hosts")
        for h in ["head"] + self.hosts:
            os.makedirs(os.path.join(hosts_tmp, h), exist_ok=True)
        agent = os.path.join(self.tmp, "agent.sh")
        self.agent_log = os.path.join(self.tmp, "agent.log")
        ncpu = os.cpu_count() or 1
        cases = "\n".join(f"  {h}) ns={self.net[h][0]}; cpu={i % ncpu};;"
                          for i, h in enumerate(self.hosts))
        with open(agent, "w") as f:
            f.write(AGENT.format(cases=cases, log=shlex.quote(self.agent_log),
                                 hosts_tmp=shlex.quote(hosts_tmp),
                                 pin='taskset -c "$cpu" ' if pin else ""))
        os.chmod(agent, 0o755)
        hostfile = os.path.join(self.tmp, "hostfile")
        with open(hostfile, "w") as f:
            f.writelines(f"{h} slots={slots}\n" for h in self.hosts)
        cmd = (["ip", "netns", "exec", self.net["h0"][0], mpiexec, np_flag, str(nprocs)] +
               list(flags) +
               ["--hostfile", hostfile, "--map-by", "node", "--mca", "plm_rsh_agent", agent,
                "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", self.subnet,
                "--mca", "oob_tcp_if_include", self.subnet,
                # Each host's Open MPI sees as many cores as ranks, but the hosts share
                # this machine's cores: polling without yielding made the job 14x
                # slower, and binding put every host's first rank on core 0.
                "--mca", "mpi_yield_when_idle", "1", "--bind-to", "none"])
        env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                   OMP_NUM_THREADS="1", TMPDIR=os.path.join(hosts_tmp, "head"))
        return cmd, env


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


def sigterm_cleans(name):
    """SIGTERM (a user, a batch system, CTest's timeout) still runs the
    with-block's exit."""
    def stop(*_):
        print(f"{name}: SIGTERM, cleaning up", file=sys.stderr)
        sys.exit(1)
    signal.signal(signal.SIGTERM, stop)
