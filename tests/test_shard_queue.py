"""The shard queue under stragglers, lost jobs, stops and resumes.

Real MPI jobs over one folder of tar shards, each reading slowly
(VITRUN_TEST_READ_DELAY_MS, a test hook that sleeps at every micro-batch a
first stage reads) so that signals land mid-shard:

1. straggler: dp 2 in one job; after the first shard is committed, replica
   1's process is stopped (SIGSTOP) and continued only once every shard is
   finished: replica 0 takes the shards left, then the stopped replica's
   own (it helps a stalled holder), and the woken replica drops its copy;
1b. one shard on dp 2, its holder stopped mid-shard: the replica that read
   nothing (no pace of its own to compare with) still helps;
2. loss: two independent jobs with --claim --lease 2 on one dataset, one
   SIGKILLed mid-shard: the survivor takes its lapsed claims over;
3. a job with --claim killed, then a --resume: only the unfinished shards
   are done again;
4. SIGTERM to every rank (as srun sends it): exit 75, then --resume finishes.
Every time: each shard exactly once in the manifest, and every file equal,
bit for bit, to a clean run's. Wall times are printed, not asserted.
"""
import csv
import io
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))
import checkpoints  # noqa: E402
from testlib import PHOTOS, PYTHON, Checker, jpeg_test_args, run  # noqa: E402

SHARDS, PER_SHARD, DELAY_MS = 8, 6, 150


def write_shards(root, rng):
    from PIL import Image
    srcs = [Image.open(p).convert("RGB") for p in PHOTOS]
    os.makedirs(root)
    for s in range(SHARDS):
        with tarfile.open(os.path.join(root, f"{s:05d}.tar"), "w") as t:
            for i in range(PER_SHARD):
                im = srcs[(s + i) % len(srcs)]
                w, h = im.size
                x0, y0 = int(rng.integers(0, w - 64)), int(rng.integers(0, h - 64))
                b = io.BytesIO()
                im.crop((x0, y0, x0 + 64, y0 + 64)).save(b, "JPEG", quality=85)
                for ext, data in (("jpg", b.getvalue()), ("cls", str(i).encode())):
                    ti = tarfile.TarInfo(f"s{s}_{i}.{ext}")
                    ti.size = len(data)
                    t.addfile(ti, io.BytesIO(data))


def manifest(out):
    p = os.path.join(out, "manifest.csv")
    if not os.path.exists(p):
        return []
    with open(p) as f:
        return list(csv.DictReader(f))


def same_files(a, b):
    """'' when every shard's table and array in folder b equal folder a's."""
    for s in range(SHARDS):
        for ext in ("h5", "npy"):
            pa, pb = (os.path.join(x, f"{s:05d}.{ext}") for x in (a, b))
            if not os.path.exists(pb):
                return f"{pb} missing"
            if ext == "npy":
                if not np.array_equal(np.load(pa), np.load(pb)):
                    return f"{pb} differs"
                continue
            with h5py.File(pa) as fa, h5py.File(pb) as fb:
                for k in fa:
                    if not np.array_equal(fa[k][...], fb[k][...]):
                        return f"{pb}: {k} differs"
    return ""


def once_each(m):
    shards = [x["shard"] for x in m]
    return sorted(shards) == [f"{s:05d}" for s in range(SHARDS)]


def wait_for(pred, timeout, step=0.05):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if pred():
            return True
        time.sleep(step)
    return pred()


def parent_of(pid):
    try:
        return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def kill_job(p, tag):
    """SIGKILL to a job: its mpirun's process group and its ranks (Open MPI
    puts them in groups of their own), as a lost node would end them."""
    ranks = [pid for pid in vitrun_pids(tag, parent=p.pid).values()]
    os.killpg(p.pid, signal.SIGKILL)
    for pid in ranks:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    p.communicate()
    wait_for(lambda: not any(os.path.exists(f"/proc/{pid}") for pid in ranks), 30)


def vitrun_pids(tag, parent=None):
    """PIDs of the vitrun processes whose command line holds `tag` (and
    whose parent is `parent`), by their MPI rank."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
        except OSError:
            continue
        if not cmd or not cmd[0].endswith(b"vitrun") or tag.encode() not in cmd:
            continue
        if parent is not None and parent_of(int(pid)) != parent:
            continue
        rank = next((e.split(b"=")[1] for e in env if e.startswith(b"OMPI_COMM_WORLD_RANK=")),
                    b"0")
        out[int(rank)] = int(pid)
    return out


def main():
    a, skip = jpeg_test_args()
    if skip:
        return skip
    if not a.mpiexec:
        print("SKIPPED: needs --mpiexec")
        return 77
    c = Checker("shard queue: stragglers, lost jobs, stops, resumes")
    rng = np.random.default_rng(19)
    tmp = tempfile.mkdtemp(prefix="vitrun_queue_")
    procs = []
    try:
        write_shards(os.path.join(tmp, "shards"), rng)
        pattern = os.path.join(tmp, "shards", "{00000..%05d}.tar" % (SHARDS - 1))
        P = checkpoints.random_params(32, 8, 3, 48, 3, 4, 96, 7, 1e-6, seed=9)
        src = checkpoints.export_timm(P, os.path.join(tmp, "vit.safetensors"))
        model = os.path.join(tmp, "model.h5")
        run([PYTHON, os.path.join(a.scripts, "convert_checkpoint.py"), "--format", "timm", src,
             model, "--heads", "4", "--preprocess", "hf", "--act", "gelu", "--eps", "1e-6"])
        common = ["--model", model, "--input", pattern, "--batch", "2", "--logits",
                  "--embeddings", "--threads", "1", "--progress", "off"]
        mpi = shlex.split(a.mpiexec)
        flags = shlex.split(a.mpi_flags)
        env = dict(os.environ, VITRUN_TEST_READ_DELAY_MS=str(DELAY_MS))

        def job(np_, out, extra):
            cmd = mpi + [a.np_flag, str(np_)] + flags + [a.vitrun] + common + \
                ["--output", out] + extra
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env, start_new_session=True)
            procs.append(p)
            return p

        # the clean run everything is compared with
        clean = os.path.join(tmp, "clean") + "/"
        t0 = time.time()
        p = job(1, clean, [])
        err = p.communicate(timeout=300)[1]
        t_clean = time.time() - t0
        c.check("clean run: exit 0, every shard once", p.returncode == 0 and
                once_each(manifest(clean)), err.strip()[-300:])

        # 1. a straggler inside one job
        out = os.path.join(tmp, "straggler") + "/"
        t0 = time.time()
        p = job(2, out, ["--dp", "2", "--lease", "1"])
        wait_for(lambda: len(manifest(out)) >= 1, 120)
        pids = vitrun_pids(out)
        stopped = pids.get(1)
        if stopped:
            os.kill(stopped, signal.SIGSTOP)
        finished = wait_for(lambda: len(manifest(out)) >= SHARDS, 120)
        t_done = time.time() - t0
        if stopped:
            os.kill(stopped, signal.SIGCONT)
        err = p.communicate(timeout=300)[1]
        m = manifest(out)
        c.check("straggler: replica 1 stopped mid-run, replica 0 finished every shard "
                "meanwhile (its own, the rest, then the stopped one's)",
                stopped is not None and finished and p.returncode == 0,
                f"pids {pids}, exit {p.returncode}, {len(m)} shards; {err.strip()[-300:]}")
        c.check("straggler: each shard exactly once, files equal the clean run's",
                once_each(m) and not same_files(clean, out), same_files(clean, out))
        print(f"  (wall: clean 1-replica run {t_clean:.1f} s; with replica 1 stopped, every "
              f"shard done after {t_done:.1f} s; shards by replica: "
              f"{[sum(x['replica'] == r for x in m) for r in ('0', '1')]})")

        # 1b. more replicas than shards: one shard on dp 2, so one replica never
        # reads (no pace of its own); its holder stopped mid-shard must still
        # be helped, by the replica that has nothing else to do
        out = os.path.join(tmp, "idle") + "/"
        one = os.path.join(tmp, "shards", "00000.tar")
        cmd = mpi + [a.np_flag, "2"] + flags + [a.vitrun] + \
            [one if x == pattern else x for x in common] + \
            ["--output", out, "--dp", "2", "--lease", "1"]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env, start_new_session=True)
        procs.append(p)
        claims = os.path.join(out, ".vitrun", "claims")

        def holder():
            try:
                for x in os.listdir(claims):
                    if not x.startswith("."):
                        who = open(os.path.join(claims, x)).read()
                        if "/r" in who and "@" in who:
                            return int(who.split("/r", 1)[1].split("@", 1)[0])
            except (OSError, ValueError):
                pass
            return None
        wait_for(lambda: holder() is not None, 120, step=0.01)
        h = holder()
        stopped = vitrun_pids(out).get(h) if h is not None else None
        if stopped:
            os.kill(stopped, signal.SIGSTOP)
        finished = wait_for(lambda: len(manifest(out)) >= 1, 60)
        if stopped:
            os.kill(stopped, signal.SIGCONT)
        err = p.communicate(timeout=300)[1]
        m = manifest(out)
        c.check("one shard on dp 2, its holder stopped mid-shard: the replica that read "
                "nothing (no pace of its own) finishes it",
                stopped is not None and finished and p.returncode == 0 and len(m) == 1 and
                m[0]["replica"] == str(1 - h),
                f"holder replica {h} (pid {stopped}), finished while stopped {finished}, exit "
                f"{p.returncode}, by replica {[x['replica'] for x in m]}; {err.strip()[-200:]}")

        # 2. two independent jobs, one killed: the survivor takes over its claims
        out = os.path.join(tmp, "loss") + "/"
        pa = job(1, out, ["--claim", "--lease", "2"])
        pb = job(1, out, ["--claim", "--lease", "2"])
        wait_for(lambda: len(manifest(out)) >= 2, 120)
        # a run without --claim may not take a folder --claim jobs write
        po = job(1, out, ["--resume"])
        err_o = po.communicate(timeout=120)[1]
        c.check("a run without --claim on a folder --claim jobs write: exit 2, says --claim",
                po.returncode == 2 and "--claim" in err_o, err_o.strip()[-200:])
        t_kill = time.time()
        kill_job(pa, out)
        err = pb.communicate(timeout=300)[1]
        m = manifest(out)
        jobs = sorted({x["job"] for x in m})
        c.check("loss: the survivor exits 0 after taking over the killed job's claims",
                pb.returncode == 0 and once_each(m),
                f"exit {pb.returncode}, shards {[x['shard'] for x in m]}; {err.strip()[-300:]}")
        c.check("loss: each shard exactly once, files equal the clean run's bit for bit",
                once_each(m) and not same_files(clean, out), same_files(clean, out))
        left = [x for x in os.listdir(os.path.join(out, ".vitrun", "claims"))
                if not x.startswith(".clock")]
        left += os.listdir(os.path.join(out, ".vitrun", "tmp"))
        c.check("loss: no claims left, nor the killed job's half-written files (removed by "
                "the job that took its claims over)", not left, str(left))
        print(f"  (the survivor finished {time.time() - t_kill:.1f} s after the kill; jobs in "
              f"the manifest: {len(jobs)})")

        # 3. a --claim job killed, then --resume: only the unfinished shards again
        out = os.path.join(tmp, "resume") + "/"
        pa = job(1, out, ["--claim", "--lease", "2"])
        wait_for(lambda: len(manifest(out)) >= 3, 120)
        kill_job(pa, out)
        before = manifest(out)
        p = job(1, out, ["--resume"])
        err = p.communicate(timeout=300)[1]
        m = manifest(out)
        redone = [x["shard"] for x in m[len(before):] if x["shard"] in
                  {y["shard"] for y in before}]
        c.check("killed, then --resume: only the shards not finished are done",
                p.returncode == 0 and not redone and once_each(m) and
                len(m) - len(before) == SHARDS - len(before),
                f"exit {p.returncode}: {len(before)} before, {len(m) - len(before)} after, "
                f"redone {redone}; {err.strip()[-200:]}")
        c.check("killed, then --resume: files equal the clean run's", not same_files(clean, out),
                same_files(clean, out))

        # 4. SIGTERM: a clean stop, then --resume
        out = os.path.join(tmp, "term") + "/"
        p = job(2, out, ["--dp", "2"])
        wait_for(lambda: len(manifest(out)) >= 2, 120)
        for pid in vitrun_pids(out).values():  # to every rank, as srun does
            os.kill(pid, signal.SIGTERM)
        err = p.communicate(timeout=120)[1]
        n_before = len(manifest(out))
        c.check("SIGTERM: exit 75, the message says --resume", p.returncode == 75 and
                "--resume" in err and n_before < SHARDS,
                f"exit {p.returncode}, {n_before} shards; {err.strip()[-300:]}")
        tmpfiles = os.listdir(os.path.join(out, ".vitrun", "tmp"))
        c.check("SIGTERM: no temporary files left", not tmpfiles, str(tmpfiles))
        p = job(2, out, ["--dp", "2", "--resume"])
        err = p.communicate(timeout=300)[1]
        m = manifest(out)
        c.check("SIGTERM, then --resume: every shard once, files equal the clean run's",
                p.returncode == 0 and once_each(m) and not same_files(clean, out),
                f"exit {p.returncode} {same_files(clean, out)}; {err.strip()[-200:]}")
    finally:
        for p in procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                p.communicate()
        if c.failed == 0:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"(kept {tmp})")
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
