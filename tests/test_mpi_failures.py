#!/usr/bin/env python3
"""Failures on real MPI ranks end the job with one clear message, never a hang.

- a layout that does not fit the rank count: exit 2, one message, from rank 0;
- a shard file only stage 1 needs is missing: every rank agrees, exit 2, the
  message names the file (and the rank that found it), once; also with int8
  on pp 2 x tp 2, whose TP groups agree layer by layer while loading;
- the output cannot be created (only the writer rank knows): exit 1, once;
- one rank is SIGKILLed part-way through a run: mpirun returns non-zero
  within 30 s.
"""
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from testlib import PYTHON, Checker, run, test_parser  # noqa: E402


def vnni():
    with open("/proc/cpuinfo") as f:
        return "avx512_vnni" in f.read()


def main():
    ap = test_parser()
    a = ap.parse_args()
    mpi = lambda n: [a.mpiexec, a.np_flag, str(n)] + shlex.split(a.mpi_flags)
    ck = Checker("failures across MPI ranks")

    def expect(what, cmd, code, needle, timeout=60):
        t0 = time.time()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return ck.check(what, False, f"hung for {timeout} s")
        msgs = [ln for ln in (p.stdout + p.stderr).splitlines() if ln.startswith("vitrun:")]
        ok = p.returncode == code and len(msgs) == 1 and needle in msgs[0]
        ck.check(what, ok, f"exit {p.returncode} after {time.time() - t0:.1f} s, "
                 f"{len(msgs)} message(s): {msgs[0][:200] if msgs else (p.stderr[-300:])}")

    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "m.h5")
        run([PYTHON, os.path.join(a.scripts, "make_model.py"), "--image-size", "32",
             "--patch-size", "8", "--hidden", "64", "--layers", "4", "--heads", "4",
             "--mlp-dim", "128", "--classes", "10", "--shards", "2", model])
        base = [a.vitrun, "--model", model, "--synthetic", "16", "--output",
                os.path.join(tmp, "o.h5")]
        run(mpi(2) + base + ["--pp", "2", "--quiet"])
        ck.check("control: the model runs on pp=2", True)
        expect("3 ranks for pp 2", mpi(3) + base + ["--pp", "2"], 2, "3 ranks")
        expect("--tp beyond the head count", mpi(5) + base + ["--tp", "5"], 2,
               "heads")
        os.rename(os.path.join(tmp, "m.shard-01.h5"), os.path.join(tmp, "gone.h5"))
        expect("shard missing for stage 1 only", mpi(2) + base + ["--pp", "2"], 2,
               "m.shard-01.h5")
        # int8 with tp > 1 agrees with its TP group layer by layer while
        # loading: stage 1's group fails at its first layer, stage 0's loads
        if vnni():
            expect("int8 pp 2 x tp 2, shard missing for stage 1 only",
                   mpi(4) + base + ["--pp", "2", "--tp", "2", "--precision", "int8"], 2,
                   "m.shard-01.h5")
        os.rename(os.path.join(tmp, "gone.h5"), os.path.join(tmp, "m.shard-01.h5"))
        bad_out = base[:-1] + [os.path.join(tmp, "no", "such", "dir", "o.h5")]
        expect("output folder missing (writer rank only)", mpi(4) + bad_out + ["--pp", "2",
               "--tp", "2"], 1, "no/such/dir/o.h5")

        big = os.path.join(tmp, "big.h5")
        run([PYTHON, os.path.join(a.scripts, "make_model.py"), "--preset", "vit-ti16",
             "--classes", "10", big])
        cmd = mpi(2) + [a.vitrun, "--model", big, "--synthetic", "100000", "--pp", "2",
                        "--threads", "1", "--output", os.path.join(tmp, "big_out.h5")]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        children = []
        for _ in range(100):  # wait for both ranks to be up and scoring
            time.sleep(0.1)
            out = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True)
            children = [int(x) for x in out.stdout.split()]
            if len(children) >= 2:
                break
        time.sleep(3)
        if not children:
            ck.check("found the ranks to kill", False)
        else:
            os.kill(children[0], signal.SIGKILL)
            t0 = time.time()
            try:
                p.communicate(timeout=30)
                ck.check("mpirun ends within 30 s after a rank is SIGKILLed",
                         p.returncode != 0, f"exit {p.returncode} after {time.time() - t0:.1f} s")
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                ck.check("mpirun ends within 30 s after a rank is SIGKILLed", False, "hung")
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
