"""Interrupted runs resumed with --resume end with exactly the uninterrupted output.

A directory of a few hundred real-photo JPEGs (plus broken files) is scored
once without interruption. Then runs are killed and resumed:

  - SIGKILL at start-up, at ~30 % and at ~70 %, each time resuming the last;
  - SIGTERM: a clean stop with exit code 75, OUT.part and OUT.journal kept;
  - a torn journal tail (bytes of a half-written record) is cut off;
  - CSV output, killed and resumed, byte-identical to the uninterrupted CSV;
  - with --mpiexec, a pp=2 job: one rank SIGKILLed (mpirun aborts), SIGUSR1
    to mpirun (forwarded: exit 75), SIGTERM to every rank (as Slurm does);
  - refusals: a journal without --resume, a resume with another --batch;
  - the journal deleted and the folder grown: --resume lists it afresh;
  - every row journaled but the final rename blocked: --resume commits;
  - a crafted journal record (valid CRC, a class index out of range) is
    dropped and scored again;
  - --resume on a finished output does nothing;
  - an HDF5 input replaced between kill and resume is refused; the same
    input named by another path resumes;
  - a second run on a live output is refused naming the first;
  - a stop signal during a (hung) model load: exit 75 at once.

Every finished output is compared dataset by dataset, bit for bit, with the
uninterrupted run of the same layout (where a grown folder changes the last
micro-batch's images, its rows to float32 rounding). Kill points are chosen by reading the
journal's record headers while the run goes (format: docs/DESIGN.md).
"""
import os
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from testlib import PHOTOS, PYTHON, Checker, journal_rows, jpeg_test_args, run  # noqa: E402

N_GOOD = 240


def make_corpus(root):
    from PIL import Image
    rng = np.random.default_rng(1)
    srcs = [Image.open(p).convert("RGB") for p in PHOTOS]
    for i in range(N_GOOD):
        im = srcs[i % 3]
        w, h = im.size
        cw, ch = int(rng.integers(48, w // 2)), int(rng.integers(48, h // 2))
        x0, y0 = int(rng.integers(0, w - cw)), int(rng.integers(0, h - ch))
        d = os.path.join(root, f"part{i % 6}")
        os.makedirs(d, exist_ok=True)
        im.crop((x0, y0, x0 + cw, y0 + ch)).save(os.path.join(d, f"img{i:04d}.jpg"), quality=85)
    open(os.path.join(root, "part2", "empty.jpg"), "wb").close()
    with open(os.path.join(root, "part4", "cut.jpg"), "wb") as f:
        f.write(open(os.path.join(root, "part0", "img0000.jpg"), "rb").read()[:500])


def same_h5(a, b):
    with h5py.File(a) as x, h5py.File(b) as y:
        if sorted(x) != sorted(y):
            return False, f"datasets {sorted(x)} vs {sorted(y)}"
        for k in x:
            if not np.array_equal(x[k][...], y[k][...]):
                return False, f"dataset {k} differs"
        return True, f"{len(x['ok'])} rows, {len(x)} datasets equal"


def rank_pids(out):
    """PIDs of the vitrun processes writing `out` (the MPI ranks, not mpirun)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            argv = open(f"/proc/{d}/cmdline", "rb").read().split(b"\0")
            exe = os.path.basename(os.readlink(f"/proc/{d}/exe"))
        except OSError:
            continue
        if exe == "vitrun" and out.encode() in argv:
            pids.append(int(d))
    return sorted(pids)


class Job:
    """A run in the background that can be killed when its journal has rows."""

    def __init__(self, cmd, out):
        self.out = out
        self.p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, start_new_session=True)

    def wait_rows(self, rows, timeout=120):
        t = time.time()
        while journal_rows(self.out + ".journal") < rows:
            if self.p.poll() is not None or time.time() - t > timeout:
                return False
            time.sleep(0.01)
        return True

    def finish(self, timeout=120):
        out, err = self.p.communicate(timeout=timeout)
        return self.p.returncode, err


def main():
    a, skip = jpeg_test_args()
    if skip:
        return skip
    c = Checker("resume after SIGKILL / SIGTERM / SIGUSR1" + (", MPI" if a.mpiexec else ""))
    tmp = tempfile.mkdtemp(prefix="vitrun_resume_")
    try:
        root = os.path.join(tmp, "images")
        make_corpus(root)
        n = N_GOOD + 2
        model = os.path.join(tmp, "model.h5")
        run([PYTHON, os.path.join(a.scripts, "make_model.py"), "--image-size", 64,
             "--patch-size", 8, "--hidden", 192, "--layers", 4, "--heads", 4, "--mlp-dim", 768,
             "--classes", 20, "--labels", "--preprocess", "torchvision", model])
        def cmd(out, *extra, batch=4, inp=None):
            return [a.vitrun, "--model", model, "--input", inp or root, "--batch", batch,
                    "--threads",
                    1, "--logits", "--embeddings", "--topk", 3, "--output", out, "--progress",
                    "off"] + list(extra)

        ref = os.path.join(tmp, "ref.h5")
        t0 = time.time()
        run(cmd(ref))
        print(f"  (uninterrupted run: {n} images in {time.time() - t0:.1f} s)")

        # SIGKILL three times, resuming each time
        out = os.path.join(tmp, "killed.h5")
        log = []
        for i, frac in enumerate([0.0, 0.3, 0.7]):
            j = Job(cmd(out, *(["--resume"] if i else [])), out)
            reached = j.wait_rows(int(frac * n)) if frac else True
            if not frac:
                time.sleep(0.05)  # still starting up
            os.killpg(j.p.pid, signal.SIGKILL)
            j.finish()
            log.append(f"killed at {max(journal_rows(out + '.journal'), 0)} rows"
                       + ("" if reached else " (missed)"))
        c.check("SIGKILL leaves no OUT, only OUT.part and OUT.journal",
                not os.path.exists(out) and os.path.exists(out + ".journal"), "; ".join(log))
        p = run(cmd(out, "--resume"))
        ok, why = same_h5(out, ref)
        c.check("after 3 SIGKILLs + resume: identical to the uninterrupted run", ok, why)
        c.check("journal, manifest and .part removed at the end",
                not any(os.path.exists(out + s) for s in (".journal", ".inputs", ".part")))

        # SIGTERM: clean stop, exit 75; then a torn tail; then resume
        out = os.path.join(tmp, "term.h5")
        j = Job(cmd(out), out)
        j.wait_rows(n // 3)
        os.killpg(j.p.pid, signal.SIGTERM)
        rc, err = j.finish()
        rows = journal_rows(out + ".journal")
        c.check("SIGTERM: exit 75, rows kept, resumable message", rc == 75 and rows > 0 and
                "--resume" in err, f"exit {rc} at {rows} rows: {err.strip().splitlines()[-1]}")
        with open(out + ".journal", "ab") as f:  # half of a record that never finished
            # a length of 16 GB in the header (outside the CRC): not allocated
            f.write(struct.pack("<IIQQQ", 0x31425256, 1234, rows, 4, (1 << 34) - 16)
                    + b"\x00" * 300)
        p = run(cmd(out, "--resume"))
        ok, why = same_h5(out, ref)
        c.check("torn journal tail cut off and resumed: identical", ok and "dropped" in p.stderr,
                why + "; " + next((ln for ln in p.stderr.splitlines() if "dropped" in ln), ""))

        # SIGTERM during start-up (model load, MPI set-up): a clean stop too
        out = os.path.join(tmp, "early.h5")
        j = Job(cmd(out), out)
        time.sleep(0.05)
        os.killpg(j.p.pid, signal.SIGTERM)
        rc, err = j.finish()
        rows = journal_rows(out + ".journal")
        # on a loaded machine 0.05 s can still be inside the dynamic loader,
        # before main installs the handlers: then SIGTERM's own code, with
        # nothing written (README: exit codes)
        c.check("SIGTERM 0.05 s after start: exit 75 (or SIGTERM's own before main), "
                "resumable", rc == 75 or (rc == -signal.SIGTERM and rows <= 0),
                f"exit {rc} at {rows} rows: {(err.strip().splitlines() or [''])[-1]}")
        run(cmd(out, "--resume"))
        ok, why = same_h5(out, ref)
        c.check("stopped at start-up and resumed: identical", ok, why)

        # refusals and no-ops
        out = os.path.join(tmp, "refuse.h5")
        j = Job(cmd(out), out)
        j.wait_rows(n // 4)
        os.killpg(j.p.pid, signal.SIGKILL)
        j.finish()
        p = run(cmd(out), check=False)
        c.check("journal present without --resume: exit 2, nothing touched",
                p.returncode == 2 and "--resume" in p.stderr and os.path.exists(out + ".journal"),
                p.stderr.strip().splitlines()[-1])
        p = run(cmd(out, "--resume", batch=8), check=False)
        c.check("--resume with another --batch: exit 2 naming it",
                p.returncode == 2 and "batch=4" in p.stderr and "batch=8" in p.stderr,
                p.stderr.strip().splitlines()[-1][:200])
        run(cmd(out, "--resume"))
        before = os.stat(out).st_mtime_ns
        p = run(cmd(out, "--resume"))
        c.check("--resume on a finished output: nothing to do, no manifest left behind",
                "nothing to resume" in p.stderr and os.stat(out).st_mtime_ns == before
                and not any(os.path.exists(out + s) for s in (".journal", ".inputs", ".part")),
                ", ".join(s for s in (".journal", ".inputs", ".part")
                          if os.path.exists(out + s)) or "nothing left")
        p = run(cmd(out, "--resume", "--quiet"))
        c.check("... said even with --quiet", "nothing to resume" in p.stderr,
                p.stderr.strip()[:200])
        other = os.path.join(tmp, "other_images")
        shutil.copytree(os.path.join(root, "part0"), other)
        p = run(cmd(out, "--resume", inp=other), check=False)
        c.check("--resume on a finished output with another input: exit 2, the output "
                "untouched", p.returncode == 2 and "finished output of another run" in p.stderr
                and os.stat(out).st_mtime_ns == before,
                (p.stderr.strip().splitlines() or [""])[-1][:200])
        fresh = os.path.join(tmp, "fresh.h5")
        p = run(cmd(fresh, "--resume"))
        ok, why = same_h5(fresh, ref)
        c.check("--resume with nothing to resume: a fresh run, identical, not 'resuming'",
                ok and "resuming" not in p.stderr, why)

        # the journal deleted to start over, the folder grown since: --resume
        # starts afresh from the folder as it is now, not from the old manifest
        grown = os.path.join(tmp, "grown")
        shutil.copytree(root, grown)
        out = os.path.join(tmp, "stale.h5")
        j = Job(cmd(out, inp=grown), out)
        j.wait_rows(n // 3)
        os.killpg(j.p.pid, signal.SIGKILL)
        j.finish()
        os.remove(out + ".journal")
        shutil.copy(os.path.join(root, "part0", "img0000.jpg"), os.path.join(grown, "zz.jpg"))
        run(cmd(out, "--resume", inp=grown))
        # The micro-batches of 4 before the last hold the same images as the
        # reference's: bit for bit. The last one now holds 3 images, not 2:
        # a BLAS may block a GEMM by its row count (OpenBLAS and oneDNN on
        # AVX2 CPUs do), so its rows, and the new file's, which is
        # img0000.jpg's copy, agree to float32 rounding, not to the bit.
        with h5py.File(out) as x, h5py.File(ref) as y:
            paths = [p.decode() for p in x["path"][...]]
            ref_paths = [p.decode() for p in y["path"][...]]
            whole = n // 4 * 4
            first = all(np.array_equal(x[k][:whole], y[k][:whole]) for k in y if k != "path")
            tail = np.r_[whole:n, n if len(paths) > n else whole]
            want = np.r_[whole:n, ref_paths.index("part0/img0000.jpg")]
            worst = max(float(np.abs(x[k][:][tail] - y[k][:][want]).max() /
                              max(np.abs(y[k][:][want]).max(), 1e-30))
                        for k in ("logits", "embedding", "topk_prob"))
            same = all(np.array_equal(x[k][:][tail], y[k][:][want])
                       for k in ("ok", "error", "topk_index", "topk_label"))
        c.check("journal deleted, a file added, --resume: a fresh listing with the new file",
                paths[:n] == ref_paths and paths[-1] == "zz.jpg" and len(paths) == n + 1 and
                first and same and worst <= 1e-5,
                f"{len(paths)} rows for {n + 1} files; last {paths[-1]}; the first {whole} bit "
                f"for bit: {first}; the last micro-batch's floats within {worst:.1e} (bound "
                f"1e-05), the rest equal: {same}")

        # every row scored, then the rename to OUT fails (a folder took its
        # name): the journal holds all 242 rows, the last batch partial;
        # --resume scores nothing more and commits
        out = os.path.join(tmp, "blocked.h5")
        j = Job(cmd(out), out)
        j.wait_rows(1)
        os.makedirs(os.path.join(out, "x"))
        rc, err = j.finish()
        rows = journal_rows(out + ".journal")
        shutil.rmtree(out)
        p = run(cmd(out, "--resume"), check=False)
        ok, why = same_h5(out, ref) if p.returncode == 0 else (False, p.stderr.strip()[-200:])
        c.check("rename blocked after the last row (exit 1), folder removed, --resume: "
                "identical", rc == 1 and rows == n and ok,
                f"first run exit {rc} with {rows} of {n} rows journaled; {why}")

        # a crafted journal (its CRC made to match): a class index outside the
        # model's classes drops that record, which is scored again
        out = os.path.join(tmp, "crafted.h5")
        j = Job(cmd(out), out)
        j.wait_rows(n // 2)
        os.killpg(j.p.pid, signal.SIGKILL)
        j.finish()
        d = bytearray(open(out + ".journal", "rb").read())
        (flen,) = struct.unpack_from("<I", d, 8)
        off = 12 + flen + 4
        _, _, _, count, plen = struct.unpack_from("<IIQQQ", d, off)
        p0 = off + 32
        el, nl = struct.unpack_from("<HH", d, p0 + 1)
        struct.pack_into("<i", d, p0 + 5 + el + nl, 50_000_000)  # row 0's top-1 class
        struct.pack_into("<I", d, off + 4, zlib.crc32(bytes(d[p0:p0 + plen])))
        open(out + ".journal", "wb").write(bytes(d))
        p = run(cmd(out, "--resume"), check=False)
        ok, why = same_h5(out, ref) if p.returncode == 0 else (False, "")
        c.check("journal row with class 50000000 (CRC valid): dropped, rescored, identical",
                ok and d[p0] == 1 and "dropped" in p.stderr,
                f"exit {p.returncode}; {why}; "
                + next((ln for ln in p.stderr.splitlines() if "dropped" in ln), "nothing dropped"))

        # an HDF5 input replaced by other images of the same shape between the
        # kill and --resume: refused (the fingerprint holds the file's inode,
        # size and mtime), not a mix of two inputs; the same file named by an
        # absolute instead of a relative path resumes
        rng = np.random.default_rng(5)
        h5in = os.path.join(tmp, "in.h5")
        with h5py.File(h5in, "w") as f:
            f["images"] = rng.integers(0, 256, (400, 64, 64, 3), dtype=np.uint8)
        href = os.path.join(tmp, "href.h5")
        run(cmd(href, inp=h5in))
        out = os.path.join(tmp, "hswap.h5")
        j = Job(cmd(out, inp=h5in), out)
        j.wait_rows(120)
        os.killpg(j.p.pid, signal.SIGKILL)
        j.finish()
        swapped = os.path.join(tmp, "in2.h5")
        with h5py.File(swapped, "w") as f:
            f["images"] = rng.integers(0, 256, (400, 64, 64, 3), dtype=np.uint8)
        os.replace(swapped, h5in)
        p = run(cmd(out, "--resume", inp=h5in), check=False)
        c.check("HDF5 input replaced by other images of its shape, --resume: exit 2 naming "
                "the input", p.returncode == 2 and "input_file" in p.stderr and
                not os.path.exists(out), (p.stderr.strip().splitlines() or [""])[-1][:240])
        os.remove(out + ".journal")
        os.remove(out + ".part")
        run(cmd(href, inp=h5in))  # the reference of the input as it is now
        rel = os.path.relpath(h5in, tmp)
        jr = subprocess.Popen([os.path.abspath(a.vitrun)] + [str(x) for x in
                                                             cmd(out, inp=rel)[1:]], cwd=tmp,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              start_new_session=True)
        t = time.time()
        while journal_rows(out + ".journal") < 120 and jr.poll() is None and \
                time.time() - t < 120:
            time.sleep(0.01)
        os.killpg(jr.pid, signal.SIGKILL)
        jr.communicate()
        killed_at = journal_rows(out + ".journal")
        p = run(cmd(out, "--resume", inp=os.path.abspath(h5in)), check=False)
        ok, why = same_h5(out, href) if p.returncode == 0 else (False, p.stderr.strip()[-200:])
        c.check("killed with the input named './in.h5', resumed as '/abs/in.h5': identical",
                ok and 0 < killed_at < 400 and "resuming" in p.stderr,
                f"killed at {killed_at} rows; {why}")

        # two runs on one output: the second (a requeued job whose predecessor
        # still runs, a double submission) is refused, naming the first; the
        # first finishes untouched
        out, big = os.path.join(tmp, "twice.h5"), os.path.join(tmp, "big.h5")
        with h5py.File(big, "w") as f:  # long enough (about 5 s) to be caught running
            f["images"] = np.tile(rng.integers(0, 256, (400, 64, 64, 3), dtype=np.uint8),
                                  (10, 1, 1, 1))
        j = Job(cmd(out, inp=big), out)
        j.wait_rows(40)
        second = []
        for extra in (["--resume"], []):
            p = run(cmd(out, *extra, inp=big), check=False)
            second.append((p.returncode, (p.stderr.strip().splitlines() or [""])[-1]))
        rc, err = j.finish()
        bref = os.path.join(tmp, "bref.h5")
        run(cmd(bref, inp=big))
        ok, why = same_h5(out, bref) if rc == 0 else (False, err[-200:])
        c.check("a second run on a live output (with and without --resume): exit 2, 'another "
                "vitrun (host, pid) is writing'",
                all(r == 2 and "another vitrun" in m and f"pid {j.p.pid}" in m
                    for r, m in second), "; ".join(f"exit {r}: {m[:120]}" for r, m in second))
        c.check("the first run, undisturbed: identical, no lock file left",
                ok and not os.path.exists(out + ".lock"), why)

        # a stop signal while the model loads (here: a damaged model on which
        # libhdf5 loops for ever) ends the run at once: exit 75, nothing written
        hang = os.path.join(HERE, "fuzz", "regressions", "fuzz_model", "model_hang_H5HG.h5")
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
            out = os.path.join(tmp, f"hang_{sig.name}.h5")
            hp = subprocess.Popen([a.vitrun, "--model", hang, "--synthetic", "4", "--output",
                                   out], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=dict(os.environ,
                                                      VITRUN_HDF5_STRING_TIMEOUT="60"))
            time.sleep(1.0)
            t = time.time()
            hp.send_signal(sig)
            try:
                _, err = hp.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                hp.kill()
                _, err = hp.communicate()
            took = time.time() - t
            left = [x for x in os.listdir(tmp) if x.startswith(f"hang_{sig.name}")]
            c.check(f"{sig.name} during a hung model load: exit 75 within 2 s, nothing written",
                    hp.returncode == 75 and took < 2 and not left and
                    "before anything was written" in err,
                    f"exit {hp.returncode} after {took:.2f} s; left {left}; "
                    f"{(err.strip().splitlines() or [''])[-1][:150]}")

        # CSV, byte for byte
        ref_csv, out = os.path.join(tmp, "ref.csv"), os.path.join(tmp, "killed.csv")
        run(cmd(ref_csv))
        j = Job(cmd(out), out)
        j.wait_rows(n // 2)
        os.killpg(j.p.pid, signal.SIGKILL)
        j.finish()
        run(cmd(out, "--resume"))
        c.check("CSV killed and resumed: byte-identical",
                open(out, "rb").read() == open(ref_csv, "rb").read())

        if a.mpiexec:
            mpi = [a.mpiexec, a.np_flag, "2"] + shlex.split(a.mpi_flags)

            def mcmd(o, *extra):
                return mpi + cmd(o, "--pp", "2", *extra)

            mref = os.path.join(tmp, "mref.h5")
            run(mcmd(mref), timeout=300)
            # one rank SIGKILLed: mpirun aborts the job
            out = os.path.join(tmp, "mkill.h5")
            j = Job(mcmd(out), out)
            j.wait_rows(n // 3)
            ranks = rank_pids(out)
            if ranks:
                os.kill(ranks[-1], signal.SIGKILL)
            rc, _ = j.finish()
            c.check("pp=2: a SIGKILLed rank ends the job", rc != 0 and len(ranks) == 2,
                    f"mpirun exit {rc}, {len(ranks)} ranks found")
            run(mcmd(out, "--resume"), timeout=300)
            ok, why = same_h5(out, mref)
            c.check("pp=2: resumed after the kill: identical", ok, why)
            # SIGUSR1 to mpirun (it forwards it), then SIGTERM to each rank (as srun does)
            out = os.path.join(tmp, "musr.h5")
            for sig, who in [(signal.SIGUSR1, "mpirun"), (signal.SIGTERM, "ranks")]:
                j = Job(mcmd(out, *(["--resume"] if who == "ranks" else [])), out)
                j.wait_rows(n // 3 if who == "mpirun" else 2 * n // 3)
                if who == "mpirun":
                    os.kill(j.p.pid, sig)
                else:
                    for x in rank_pids(out):
                        os.kill(x, sig)
                rc, err = j.finish()
                c.check(f"pp=2: {sig.name} to {who}: exit 75",
                        rc == 75, f"exit {rc} at {journal_rows(out + '.journal')} rows")
            run(mcmd(out, "--resume"), timeout=300)
            ok, why = same_h5(out, mref)
            c.check("pp=2: resumed after both stops: identical", ok, why)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
