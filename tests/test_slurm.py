"""cluster/score.sbatch, score_array.sbatch and score_shards.sbatch on a real Slurm.

Stands up Slurm on this machine from Debian's munge, slurmctld and slurmd,
started by hand in a temporary folder (its own munge key and socket, its own
slurm.conf on free ports, three nodes n1-n3 served by three slurmd on this
host) and stops every daemon by PID at the end, whatever happened. Then:

  1. one node, 4 ranks, pp=2 tp=2, a JPEG directory with --labels and --logits;
  2. two nodes, 2 ranks each, pp=2 tp=2 (TCP between the ranks);
  3. score_array.sbatch: 3 tasks over the directory and 2 over a list file
     (relative and absolute paths, a blank line), each with sliced labels;
     the parts concatenated;
  3b. score_shards.sbatch: 3 tasks with --claim sharing one output folder
     over tar shards of the images: each shard once, rows bit-identical to
     one process's;
  4. the time-limit path: USR1 to the job's batch shell (what
     --signal=B:USR1@120 sends) while it scores the images REPS = 8 times
     over (hard links, a job of about 17 s); vitrun stops with exit 75
     leaving OUT.part and OUT.journal, the job requeues itself and resumes;
     then the same job submitted again on the finished output does nothing.
     (scancel --batch --signal=USR1 sends exactly what the time limit would;
     a real limit's warning comes at Slurm's 30 s check, too late or too early
     for a test of seconds);
  5. USR1 as soon as the batch shell has set its trap, while srun and vitrun
     start: however it lands, the job ends complete, bit-identical to test 1.

Each output is compared dataset by dataset with a single-process vitrun run
of the same model and input: path, ok, error and topk_index exactly (top-k
swaps only between near-tied logits), logits within 1e-5 relative (tensor
parallelism sums proj and fc2 in another order: 0.8e-6 to 1.1e-6 seen on
the default model) and probabilities within what that moves a softmax; stopped and resumed jobs must be bit-identical to the
uninterrupted job of the same layout (test 1). The accuracy line of --labels
must match the single process's.
"""
import argparse
import csv
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from test_resume import journal_rows  # noqa: E402
from testlib import PYTHON, SKIP, Checker, rel_diff, run, topk_ok  # noqa: E402

NODES = ["n1", "n2", "n3"]
CPUS = 4            # per node, declared: more than this VM has, on purpose
N_IMAGES = 5000  # enough for a 4-rank job to take seconds: time to stop it mid-run
COMMANDS = ["munged", "slurmctld", "slurmd", "sbatch", "scontrol", "scancel", "squeue", "sinfo",
            "srun"]
SBIN_PATH = os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin"
DONE = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
        "BOOT_FAIL", "DEADLINE", "PREEMPTED"}
# the scripts' settings: none may leak in from the caller's environment
SCRIPT_VARS = ("MODEL", "INPUT", "OUTPUT", "OUTDIR", "PARTS", "PP", "TP", "BATCH", "THREADS",
               "LABELS", "VITRUN", "SRUN_MPI", "MAX_RESTARTS")
ACCURACY = re.compile(r"accuracy over (\d+) scored images: top-1 [\d.]+% \((\d+)\), "
                      r"top-5 [\d.]+% \((\d+)\)")


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Cluster:
    """munged, slurmctld and one slurmd per node, all in `root`, all ours."""

    def __init__(self, root):
        self.root = root
        self.procs = []  # (name, Popen, log path)
        self.conf = os.path.join(root, "slurm.conf")
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_"))
                    and k not in SCRIPT_VARS}
        self.env.update(SLURM_CONF=self.conf, PATH=SBIN_PATH)

    def path(self, *p):
        return os.path.join(self.root, *p)

    def write_config(self):
        key = self.path("munge.key")
        with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), "wb") as f:
            f.write(os.urandom(1024))
        for d in ["state"] + [f"spool/{n}" for n in NODES] + [f"tmpfs/{n}" for n in NODES]:
            os.makedirs(self.path(d))
        open(self.path("plugstack.conf"), "w").close()
        ctld_port, *node_ports = free_ports(1 + len(NODES))
        host = socket.gethostname().split(".")[0]
        lines = [
            "ClusterName=vitruntest",
            f"SlurmctldHost={host}",
            f"SlurmctldPort={ctld_port}",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            # cred_expire is also how long a requeued job waits (default 120 s)
            f"AuthInfo=socket={self.path('munge.sock')},cred_expire=5",
            "SlurmUser=root",
            "SlurmdUser=root",
            f"StateSaveLocation={self.path('state')}",
            f"SlurmdSpoolDir={self.path('spool', '%n')}",
            f"TmpFS={self.path('tmpfs', '%n')}",
            f"SlurmctldPidFile={self.path('slurmctld.pid')}",
            f"SlurmdPidFile={self.path('slurmd-%n.pid')}",
            f"SlurmctldLogFile={self.path('slurmctld.log')}",
            f"SlurmdLogFile={self.path('slurmd-%n.log')}",
            f"PlugStackConfig={self.path('plugstack.conf')}",
            "MailProg=/bin/true",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "SchedulerType=sched/builtin",
            # a requeued job becomes eligible silently: look for it every 2 s, not 60
            "SchedulerParameters=sched_interval=2",
            "MpiDefault=none",  # the scripts must ask for pmix themselves
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "JobCompType=jobcomp/none",
            "SlurmdParameters=config_overrides",  # CPUs as declared, not as found
            "ReturnToService=2",
            "MinJobAge=600",  # keep finished jobs visible to scontrol
            "KillWait=5",
            "SlurmctldDebug=info",
            "SlurmdDebug=info",
        ]
        for n, port in zip(NODES, node_ports):
            lines.append(f"NodeName={n} NodeHostname={host} NodeAddr=127.0.0.1 Port={port} "
                         f"CPUs={CPUS} RealMemory=1000 State=UNKNOWN")
        lines.append("PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def spawn(self, name, cmd):
        log = self.path(f"{name}.out")
        with open(log, "w") as f:
            p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=self.env,
                                 start_new_session=True)
        self.procs.append((name, p, log))
        return p

    def wait_for(self, what, ok, timeout):
        t = time.time()
        while time.time() - t < timeout:
            for name, p, _ in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{name} exited with {p.returncode} while waiting "
                                       f"for {what}")
            if ok():
                return
            time.sleep(0.2)
        raise RuntimeError(f"timed out after {timeout} s waiting for {what}")

    def start(self):
        self.write_config()
        sock = self.path("munge.sock")
        self.spawn("munged", ["munged", "--foreground", f"--socket={sock}",
                              f"--key-file={self.path('munge.key')}",
                              f"--pid-file={self.path('munged.pid')}",
                              f"--seed-file={self.path('munged.seed')}",
                              f"--log-file={self.path('munged.log')}"])
        self.wait_for("munged's socket", lambda: os.path.exists(sock), 20)
        self.spawn("slurmctld", ["slurmctld", "-D", "-i"])
        self.wait_for("slurmctld", lambda: self.cmd(["scontrol", "ping"], check=False)
                      .stdout.count("UP") > 0, 30)
        for n in NODES:
            self.spawn(f"slurmd-{n}", ["slurmd", "-D", "-N", n])
        self.wait_for("the nodes to be idle", lambda: self.cmd(
            ["sinfo", "-h", "-N", "-o", "%N %t"], check=False).stdout.split().count("idle")
            == len(NODES), 60)

    def cmd(self, argv, check=True, env=None, timeout=60):
        p = subprocess.run(argv, capture_output=True, text=True, env=env or self.env,
                           timeout=timeout)
        if check and p.returncode:
            raise RuntimeError(f"{' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()}")
        return p

    def jobs(self, jobid):
        """{job id: {field: value}} of a job or of an array's tasks."""
        p = self.cmd(["scontrol", "-o", "show", "job", str(jobid)], check=False)
        out = {}
        for line in p.stdout.splitlines():
            f = dict(x.split("=", 1) for x in line.split() if "=" in x)
            out[f.get("JobId")] = f
        return out

    def wait_job(self, jobid, timeout, until=None):
        """Waits until every task of the job is finished (or until(info) holds)."""
        t = time.time()
        while time.time() - t < timeout:
            info = self.jobs(jobid)
            if until and until(info):
                return info
            if not until and info and all(j.get("JobState") in DONE and "-" not in
                                          j.get("ArrayTaskId", "0") for j in info.values()):
                return info
            time.sleep(0.2)
        states = [(j.get("JobId"), j.get("JobState")) for j in self.jobs(jobid).values()]
        raise RuntimeError(f"job {jobid}: timed out after {timeout} s; {states}")

    def our_processes(self):
        """PIDs of processes our daemons or jobs left (their environment names our slurm.conf)."""
        mark = f"SLURM_CONF={self.conf}".encode()
        pids = []
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            try:
                env = open(f"/proc/{d}/environ", "rb").read().split(b"\0")
            except OSError:
                continue
            if mark in env:
                pids.append(int(d))
        return pids

    def stop(self):
        """Cancels the jobs, stops the daemons (TERM, then KILL) and anything of ours left."""
        if any(n == "slurmctld" and p.poll() is None for n, p, _ in self.procs):
            self.cmd(["scancel", "-u", str(os.getuid())], check=False)
            t = time.time()
            while time.time() - t < 15 and self.cmd(["squeue", "-h"], check=False).stdout.strip():
                time.sleep(0.3)
        for name, p, _ in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)
        for pid in self.our_processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        # SIGKILL is delivered, not awaited: give the kernel a moment to end them
        t = time.time()
        while self.our_processes() and time.time() - t < 5:
            time.sleep(0.1)

    def dump(self, extra=()):
        """Prints the daemons' logs and the given job logs (after a failure)."""
        files = [self.path("slurmctld.log")] + [self.path(f"slurmd-{n}.log") for n in NODES]
        files += [log for _, _, log in self.procs] + list(extra)
        for f in files:
            if os.path.exists(f):
                text = open(f, errors="replace").read()
                print(f"----- {f} (last 60 lines)\n" + "\n".join(text.splitlines()[-60:]))


def read_h5(path):
    with h5py.File(path) as f:
        return {k: f[k][...] for k in f}


def compare(c, what, got, ref, exact=False, path_map=None):
    """Dataset by dataset; path_map turns the reference's row names into got's.

    Not exact: logits within 1e-5 relative; probabilities within 2 max|dlogit|
    (+1e-7 for float32), the most a softmax moves when its inputs move that much."""
    if sorted(got) != sorted(ref):
        return c.check(f"{what}: datasets", False, f"{sorted(got)} vs {sorted(ref)}")
    dz = float(np.abs(got["logits"].astype(np.float64) - ref["logits"]).max())
    bad = []
    for k in ref:
        g, r = got[k], ref[k]
        if k == "path" and path_map:
            r = np.array([path_map(x.decode()).encode() for x in r])
        if g.shape != r.shape:
            bad.append(f"{k} shape {g.shape} vs {r.shape}")
        elif np.array_equal(g, r):
            continue
        elif exact:
            bad.append(f"{k} differs")
        elif k == "logits":
            if rel_diff(g, r) > 1e-5:
                bad.append(f"logits {rel_diff(g, r):.2e} relative")
        elif k == "topk_prob":
            dp = float(np.abs(g.astype(np.float64) - r).max())
            if dp > 2 * dz + 1e-7:
                bad.append(f"topk_prob {dp:.2e} apart, over 2 x {dz:.2e} + 1e-7")
        elif k in ("topk_index", "topk_label") and topk_ok(got["topk_index"], ref["logits"],
                                                           g.shape[1]):
            continue
        else:
            bad.append(f"{k} differs")
    rows = len(ref["ok"])
    how = "bit-identical" if exact else \
        f"logits within {rel_diff(got['logits'], ref['logits']):.1e} relative"
    return c.check(what, not bad, "; ".join(bad) if bad else f"{rows} rows, {how}")


def accuracy(text):
    """(images, top-1 count, top-5 count) of the last final accuracy line."""
    m = ACCURACY.findall(text)
    return tuple(int(x) for x in m[-1]) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vitrun", required=True)
    ap.add_argument("--scripts", required=True)
    ap.add_argument("--model", default=os.path.join(REPO, "models", "fashion-vit.h5"))
    ap.add_argument("--cluster", default=os.path.join(REPO, "cluster"),
                    help="folder of score.sbatch and score_array.sbatch")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--deadline", type=int, default=270,
                    help="seconds before the test gives up and stops its cluster (keep it "
                         "under CTest's TIMEOUT: a killed test could not stop the daemons)")
    # accepted so that the test registers with vitrun_mpi_test; srun starts the ranks
    ap.add_argument("--mpiexec")
    ap.add_argument("--np-flag")
    ap.add_argument("--mpi-flags")
    a = ap.parse_args()
    vitrun = os.path.abspath(a.vitrun)
    score = os.path.join(a.cluster, "score.sbatch")
    array = os.path.join(a.cluster, "score_array.sbatch")

    if os.geteuid() != 0:
        print("SKIPPED: the Slurm test starts munged, slurmctld and slurmd itself and needs root")
        return SKIP
    missing = [x for x in COMMANDS if not shutil.which(x, path=SBIN_PATH)]
    if missing:
        print(f"FAILED: {', '.join(missing)} not found: scripts/install_deps.sh installs Slurm "
              "and munge (slurmctld slurmd slurm-client munge)")
        return 1
    if not os.path.exists(a.model):
        print(f"FAILED: model {a.model} not found (scripts/train_default.py writes it)")
        return 1

    c = Checker("vitrun under Slurm: score.sbatch, score_array.sbatch, requeue and resume")
    t_start = time.time()
    tmp = tempfile.mkdtemp(prefix="vitrun_slurm_")
    os.chmod(tmp, 0o755)  # munged wants every folder above its socket open to all
    cl = Cluster(os.path.join(tmp, "slurm"))
    os.makedirs(cl.root)
    logs = []
    # a CTest timeout would SIGKILL the test and leave the daemons: stop before it
    signal.signal(signal.SIGALRM, lambda *_: sys.exit(f"FAILED: over the {a.deadline} s deadline"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("FAILED: terminated"))
    signal.alarm(a.deadline)
    try:
        # -- data and single-process references --------------------------------
        data = os.path.join(tmp, "data")
        run([PYTHON, os.path.join(a.scripts, "fashion_mnist.py"), data, "--count", N_IMAGES])
        images, labels = os.path.join(data, "images"), os.path.join(data, "labels.txt")
        names = sorted(os.listdir(images))
        # a list file: relative paths, one absolute, a blank line; labels as the rows name them
        sub = names[:300]
        listed = [f"images/{x}" for x in sub]
        listed[7] = os.path.join(images, sub[7])
        truth = dict(ln.split(" ", 1)[::-1] for ln in open(labels).read().splitlines())
        list_file = os.path.join(data, "some.txt")
        list_labels = os.path.join(data, "some_labels.txt")
        with open(list_file, "w") as f:
            f.write("\n".join(listed[:100]) + "\n\n" + "\n".join(listed[100:]) + "\n")
        with open(list_labels, "w") as f:
            f.write("".join(f"{truth[x]} {p}\n" for x, p in zip(sub, listed)))

        def single(out, inp, lab, batch):
            p = run([vitrun, "--model", a.model, "--input", inp, "--output", out, "--batch",
                     batch, "--threads", 1, "--logits", "--labels", lab, "--progress", "off"])
            return read_h5(out), accuracy(p.stderr)

        ref_b8, acc_all = single(os.path.join(tmp, "ref_b8.h5"), images, labels, 8)
        ref_b1, _ = single(os.path.join(tmp, "ref_b1.h5"), images, labels, 1)
        ref_list, acc_list = single(os.path.join(tmp, "ref_list.h5"), list_file, list_labels, 8)
        c.check("single-process references", acc_all and acc_list,
                f"{N_IMAGES} images: top-1 {acc_all[1]}, top-5 {acc_all[2]}; list of "
                f"{len(listed)}: top-1 {acc_list[1]}")

        # -- a usage error needs no Slurm ------------------------------------
        env = dict(cl.env, INPUT=images, OUTPUT=os.path.join(tmp, "x.h5"))
        p = subprocess.run(["bash", score], capture_output=True, text=True, env=env, timeout=30)
        c.check("score.sbatch without MODEL: exit 2 saying so",
                p.returncode == 2 and "MODEL" in p.stderr, p.stderr.strip())

        # -- the cluster -----------------------------------------------------
        t0 = time.time()
        cl.start()
        print(f"  (Slurm up: {len(NODES)} nodes in {time.time() - t0:.1f} s)")
        jobs_dir = os.path.join(tmp, "jobs")
        os.makedirs(jobs_dir)
        # Slurm declares more CPUs than the host has: Open MPI, not told so, spins
        # in its waits (over 20x slower here) unless asked to yield
        base_env = dict(cl.env, MODEL=a.model, VITRUN=vitrun, THREADS="1",
                        OMPI_MCA_mpi_yield_when_idle="1",
                        OMPI_MCA_btl_vader_single_copy_mechanism="none")

        def submit(script, sbatch_args, vitrun_args=(), **env):
            p = cl.cmd(["sbatch", "--parsable", "--chdir", jobs_dir, *sbatch_args, script,
                        *vitrun_args], env=dict(base_env, **env))
            return p.stdout.strip().split(";")[0]

        def job_log(jobid):
            f = os.path.join(jobs_dir, f"vitrun-{jobid}.out")
            if f not in logs:
                logs.append(f)
            return open(f, errors="replace").read() if os.path.exists(f) else ""

        def finished_ok(what, info, log):
            states = sorted({(j["JobState"], j["ExitCode"]) for j in info.values()})
            return c.check(f"{what}: COMPLETED, exit 0", states == [("COMPLETED", "0:0")],
                           f"{states}" + ("" if states == [("COMPLETED", "0:0")] else
                                          "\n" + log[-2000:]))

        # 1. one node, pp=2 tp=2
        out1 = os.path.join(tmp, "one_node.h5")
        t0 = time.time()
        j1 = submit(score, ["-N1", "-n4"], ["--logits"], INPUT=images, OUTPUT=out1, PP="2",
                    TP="2", BATCH="1", LABELS=labels)
        info = cl.wait_job(j1, 120)
        log = job_log(j1)
        print(f"  (job {j1}: {time.time() - t0:.1f} s)")
        if finished_ok("1 node x 4 ranks, pp=2 tp=2", info, log):
            compare(c, "1 node: the single process's rows", read_h5(out1), ref_b1)
            c.check("1 node: accuracy line as the single process's", accuracy(log) == acc_all,
                    f"{accuracy(log)} vs {acc_all}")
            c.check("1 node: no .part, .journal or .inputs left",
                    not any(os.path.exists(out1 + s) for s in (".part", ".journal", ".inputs")))

        # 2. two nodes, 2 ranks each. Open MPI's shared memory crashes between
        # "nodes" on one host; TCP over the loopback it excludes by default.
        out2 = os.path.join(tmp, "two_nodes.h5")
        t0 = time.time()
        j2 = submit(score, ["-N2", "--ntasks-per-node=2"], ["--logits"], INPUT=images,
                    OUTPUT=out2, PP="2", TP="2", BATCH="8", LABELS=labels,
                    OMPI_MCA_btl="tcp,self", OMPI_MCA_btl_tcp_if_include="lo")
        info = cl.wait_job(j2, 120)
        log = job_log(j2)
        print(f"  (job {j2}: {time.time() - t0:.1f} s)")
        nodes = info[j2].get("NodeList")
        if finished_ok(f"2 nodes ({nodes}) x 2 ranks, pp=2 tp=2", info, log):
            compare(c, "2 nodes: the single process's rows", read_h5(out2), ref_b8)
            c.check("2 nodes: accuracy line as the single process's", accuracy(log) == acc_all,
                    f"{accuracy(log)} vs {acc_all}")

        # 3. arrays: 3 slices of the directory, 2 of the list file, at the same time
        t0 = time.time()
        parts_dir, parts_list = os.path.join(tmp, "parts_dir"), os.path.join(tmp, "parts_list")
        ja = submit(array, ["--array=0-2", "-n1"], ["--logits"], INPUT=images, OUTDIR=parts_dir,
                    BATCH="8", LABELS=labels)
        jb = submit(array, ["--array=0-1", "-n1"], ["--logits"], INPUT=list_file,
                    OUTDIR=parts_list, BATCH="8", LABELS=list_labels)
        for what, jid, n, outdir, ref, acc, to_abs in [
                ("array over the directory", ja, 3, parts_dir, ref_b8, acc_all,
                 lambda x: os.path.join(images, x)),
                ("array over the list file", jb, 2, parts_list, ref_list, acc_list,
                 lambda x: x if x.startswith("/") else os.path.join(data, x))]:
            info = cl.wait_job(jid, 120)
            tlogs = [job_log(f"{jid}_{i}") for i in range(n)]
            if not finished_ok(f"{what}: {n} tasks", info, "".join(tlogs)):
                continue
            parts = [read_h5(os.path.join(outdir, f"part-{i:04d}.h5")) for i in range(n)]
            sizes = [len(x["ok"]) for x in parts]
            cat = {k: np.concatenate([x[k] for x in parts]) for k in parts[0]}
            compare(c, f"{what}: parts {sizes} concatenated = the single process's rows", cat, ref,
                    path_map=to_abs)
            accs = [accuracy(t) for t in tlogs]
            total = tuple(map(sum, zip(*accs))) if all(accs) else None
            c.check(f"{what}: the parts' accuracy counts add up to the single process's",
                    total == acc, f"{accs} -> {total} vs {acc}")
        print(f"  (arrays: {time.time() - t0:.1f} s)")

        # 3b. score_shards.sbatch: tar shards of the images, 3 tasks with --claim
        # sharing one folder; each shard exactly once, equal to one process's
        import tarfile
        shard_dir = os.path.join(data, "shards")
        os.makedirs(shard_dir)
        n_shards = 6
        for k in range(n_shards):
            with tarfile.open(os.path.join(shard_dir, f"{k:05d}.tar"), "w") as t:
                for x in names[k::n_shards]:
                    t.add(os.path.join(images, x), arcname=x)
                    lab = truth[x].encode()
                    ti = tarfile.TarInfo(x.rsplit(".", 1)[0] + ".cls")
                    ti.size = len(lab)
                    t.addfile(ti, io.BytesIO(lab))
        shards_arg = os.path.join(shard_dir, "{00000..%05d}.tar" % (n_shards - 1))
        ref_shards = os.path.join(tmp, "ref_shards") + "/"
        run([vitrun, "--model", a.model, "--input", shards_arg, "--output", ref_shards,
             "--batch", 8, "--threads", 1, "--logits", "--progress", "off"])
        shared = os.path.join(tmp, "shards_out")
        t0 = time.time()
        js = submit(os.path.join(a.cluster, "score_shards.sbatch"), ["--array=0-2", "-n1"],
                    ["--logits"], SHARDS=shards_arg, OUTDIR=shared, BATCH="8", LEASE="30")
        info = cl.wait_job(js, 120)
        tlogs = [job_log(f"{js}_{i}") for i in range(3)]
        if finished_ok("score_shards.sbatch: 3 tasks with --claim on one folder", info,
                       "".join(tlogs)):
            with open(os.path.join(shared, "manifest.csv")) as f:
                man = list(csv.DictReader(f))
            got = sorted(x["shard"] for x in man)
            c.check("shard array: each shard exactly once in the manifest",
                    got == [f"{k:05d}" for k in range(n_shards)],
                    f"{got}; by job {sorted({x['job'] for x in man})}")
            same = all(
                all(np.array_equal(read_h5(os.path.join(shared, f"{k:05d}.h5"))[key],
                                   read_h5(os.path.join(ref_shards, f"{k:05d}.h5"))[key])
                    for key in ("path", "ok", "logits", "topk_index"))
                for k in range(n_shards))
            c.check("shard array: every shard's rows bit-identical to one process's", same)
        print(f"  (shard array: {time.time() - t0:.1f} s)")

        # 4. USR1 to the batch shell mid-run: stop, requeue, resume. Over the
        # images REPS times (hard links r0_ to r7_): a job of about 17 s, so
        # that the signal lands mid-run even when slurmctld is slow to pass it
        # on (scancel took 3 s, once 8.4 s, on a busy host; 4 copies took 8.4 s
        # once batch-1 HDF5 writes got faster)
        REPS = 8
        rep_dir = os.path.join(data, "images_reps")
        os.makedirs(rep_dir)
        rep_names = [f"r{r}_{x}" for r in range(REPS) for x in names]
        for x in rep_names:
            os.link(os.path.join(images, x[3:]), os.path.join(rep_dir, x))
        rep_labels = os.path.join(data, "labels_reps.txt")
        with open(rep_labels, "w") as f:
            f.write("".join(f"{truth[x[3:]]} {x}\n" for x in rep_names))
        n4, acc4 = len(rep_names), tuple(REPS * x for x in acc_all)
        out4 = os.path.join(tmp, "requeued.h5")
        t0 = time.time()
        j4 = submit(score, ["-N1", "-n4"], ["--logits"], INPUT=rep_dir, OUTPUT=out4, PP="2",
                    TP="2", BATCH="1", LABELS=rep_labels)
        t = time.time()
        while journal_rows(out4 + ".journal") <= 0 and time.time() - t < 60:
            if cl.jobs(j4).get(j4, {}).get("JobState") in DONE:
                break
            time.sleep(0.02)
        seen = journal_rows(out4 + ".journal")
        t1 = time.time()
        sent = cl.cmd(["scancel", "--batch", "--signal=USR1", j4], check=False).returncode == 0
        print(f"  (USR1 {'sent' if sent else 'NOT sent'} {t1 - t:.1f} s after submission, at "
              f"{seen} rows; scancel took {time.time() - t1:.2f} s)")
        info = cl.wait_job(j4, 60, until=lambda i: i.get(j4, {}).get("Restarts") == "1"
                           or i.get(j4, {}).get("JobState") in DONE)
        rows = journal_rows(out4 + ".journal")
        log = job_log(j4)
        c.check("USR1: vitrun stopped with exit 75, the job requeued itself",
                info[j4].get("Restarts") == "1" and "with --resume to finish" in log
                and "Exited with exit code 75" in log,
                f"state {info[j4].get('JobState')}, restarts {info[j4].get('Restarts')}")
        c.check("stopped: OUT.part and OUT.journal kept, no OUT",
                0 < rows < n4 and os.path.exists(out4 + ".part")
                and not os.path.exists(out4), f"{rows} of {n4} rows in the journal")
        info = cl.wait_job(j4, 120)  # the requeued job pends (not done) until it ends
        log = job_log(j4)
        print(f"  (job {j4}, stopped and resumed: {time.time() - t0:.1f} s)")
        if finished_ok("requeued job", info, log):
            runs = log.count("score.sbatch: job ")
            resumed = re.search(r"(\d+) rows resumed from the journal", log.split("run 2,")[-1])
            c.check("requeued job: two runs in one log, the second resumed",
                    runs == 2 and resumed, f"{runs} runs; {resumed and resumed.group(0)}")
            if c.check("uninterrupted job of the same layout (test 1) to compare with",
                       os.path.exists(out1)):
                # test 1's rows REPS times over, named as the links
                ref1 = read_h5(out1)
                ref4 = {k: np.concatenate([v] * REPS) for k, v in ref1.items()}
                ref4["path"] = np.array([x.encode() for x in rep_names])
                c.check("test 1's rows named as its images",
                        [x.decode() for x in ref1["path"]] == names)
                compare(c, "requeued job: bit-identical to the uninterrupted job (test 1) "
                        f"over the images {REPS} times", read_h5(out4), ref4, exact=True)
            c.check(f"requeued job: accuracy line as the single process's, {REPS} times over",
                    accuracy(log) == acc4, f"{accuracy(log)} vs {acc4}")
            before = os.stat(out4).st_mtime_ns
            again = submit(score, ["-N1", "-n4"], ["--logits"], INPUT=rep_dir, OUTPUT=out4,
                           PP="2", TP="2", BATCH="1", LABELS=rep_labels)
            info = cl.wait_job(again, 60)
            log_again = job_log(again)
            finished_ok("the same job again on the finished output", info, log_again)
            c.check("again: nothing to resume, output untouched",
                    "nothing to resume" in log_again and os.stat(out4).st_mtime_ns == before)
            left = [s for s in (".part", ".journal", ".inputs") if os.path.exists(out4 + s)]
            c.check("again: nothing left beside the output", not left, f"left: {left}")

        # 5. USR1 as soon as the batch shell has its trap, while srun and the
        # ranks start: srun drops it or passes it on, the ranks die of it or
        # stop; the shell repeats it every 5 s. Whichever way, the job must end
        # complete with the rows of test 1 (requeued when it was stopped).
        out5 = os.path.join(tmp, "early.h5")
        t0 = time.time()
        j5 = submit(score, ["-N1", "-n4"], ["--logits"], INPUT=images, OUTPUT=out5, PP="2",
                    TP="2", BATCH="1", LABELS=labels)
        t = time.time()
        while f"job {j5}, run 1" not in job_log(j5) and time.time() - t < 60:
            time.sleep(0.01)
        cl.cmd(["scancel", "--batch", "--signal=USR1", j5], check=False)
        info = cl.wait_job(j5, 120)
        log = job_log(j5).split("run 2,")[0]
        how = ("ranks killed by it while starting" if "User defined signal 1" in log else
               "vitrun stopped" if "Exited with exit code 75" in log else
               "srun killed by it while starting" if "requeued" in log else
               "dropped while srun started; the job ended before the repeat")
        print(f"  (job {j5}: USR1 at start-up: {how}; {info[j5].get('Restarts')} restart(s), "
              f"{time.time() - t0:.1f} s)")
        if finished_ok("USR1 at start-up: finished", info, job_log(j5)) and \
                c.check("test 1's output to compare with", os.path.exists(out1)):
            compare(c, "USR1 at start-up: bit-identical to the uninterrupted job (test 1)",
                    read_h5(out5), read_h5(out1), exact=True)
    except Exception as e:  # a daemon or a job that never finished: say so, with the logs
        c.check("the Slurm run", False, f"{type(e).__name__}: {e}")
    finally:
        signal.alarm(0)
        if c.failed:
            cl.dump(logs)
        cl.stop()
        left = cl.our_processes()
        c.check("every daemon and job process stopped", not left, f"left: {left}")
        if a.keep:
            print(f"  (kept {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"  (whole test: {time.time() - t_start:.0f} s)")
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
