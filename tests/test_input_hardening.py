#!/usr/bin/env python3
"""Inputs that are odd but legal are scored, inputs that cannot be are refused
promptly, in bounded memory, with a message; file names are kept as bytes
(issue 16, items 5, 8, 9, 13).

  - HDF5 `images` written with filters (gzip, shuffle, fletcher32) or in
    chunks that do not divide the dataset, uint8 and float32: every output
    dataset bit-identical to the same images stored contiguously; a dataset
    with an unwritten chunk (filtered or not), or none, is still refused.
  - Not a folder, list or HDF5 file: /dev/zero, a FIFO nobody writes to, a
    list file whose line is 10 MB, a labels file likewise or /dev/zero: exit 2
    in under 10 s naming the file, peak RSS under 300 MB; a FIFO named
    x.jpg in a folder is a failed row, not a hang.
  - An empty folder (no array to sort: UBSan flagged qsort(NULL, 0)) gets
    the clear message and no sanitizer report.
  - File names that are not UTF-8 (Latin-1 'lat\\xe9.jpg', a surrogate, a cut
    sequence), UTF-8 ones (café, Chinese) and ones with a backslash: h5py's
    asstr() reads the `path` column, escaped names map back to the bytes on
    disk, valid names are unchanged; the CSV keeps the bytes; an HDF5
    input's Latin-1 'paths' likewise; a killed and resumed run ends
    bit-identical.

Every run has a timeout; runs that must stay small are killed past the RSS
bound, so a regression costs seconds, not the machine.
"""
import codecs
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from testlib import PHOTOS, PYTHON, Checker, journal_rows, jpeg_test_args, run  # noqa: E402

RSS_MB = 300      # bound on the peak RSS of a refused input
PROMPT_S = 10     # ... and on its time
N = 23            # images in the HDF5 inputs (not a multiple of any chunk below)


def bounded(cmd, timeout=PROMPT_S, rss_mb=RSS_MB, cwd=None):
    """Runs cmd; kills it past `timeout` s or `rss_mb` MB of RSS. Returns
    (exit code or None if killed, stderr, seconds, peak RSS in MB, why killed)."""
    err = tempfile.TemporaryFile()
    t0 = time.time()
    p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=err,
                         stdin=subprocess.DEVNULL, start_new_session=True, cwd=cwd)
    killed, peak_kb = None, 0
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        peak_kb = max(peak_kb, int(line.split()[1]))
        except OSError:
            pass
        why = ("ran over %d s" % timeout if time.time() - t0 > timeout else
               "RSS over %d MB" % rss_mb if peak_kb > rss_mb * 1024 else None)
        if why and not killed:
            killed = why
            os.killpg(p.pid, signal.SIGKILL)
        time.sleep(0.02)
    p.returncode = os.waitstatus_to_exitcode(status)
    secs = time.time() - t0
    err.seek(0)
    text = err.read().decode("utf-8", "replace")
    peak = max(peak_kb, ru.ru_maxrss) / 1024
    return (None if killed else p.returncode), text, secs, peak, killed


def first_line(text):
    return (text.strip().splitlines() or [""])[0][:200]


def h5_rows(path):
    with h5py.File(path) as f:
        return {k: f[k][...] for k in f}


def same_rows(a, b):
    """(equal, detail): every dataset of two outputs bit for bit, and the
    worst logit difference."""
    if sorted(a) != sorted(b):
        return False, f"datasets {sorted(a)} vs {sorted(b)}"
    worst = float(np.abs(a["logits"].astype(np.float64) - b["logits"]).max()) \
        if "logits" in a and a["logits"].shape == b["logits"].shape else float("inf")
    bad = [k for k in a if a[k].shape != b[k].shape or not np.array_equal(a[k], b[k])]
    return not bad, f"{len(a['ok'])} rows; worst logit difference {worst:.3g}" + \
        (f"; differ: {bad}" if bad else "")


def chunked_inputs(c, a, tmp, model):
    """Item 5: filtered and unevenly chunked HDF5 inputs score as contiguous ones."""
    rng = np.random.default_rng(5)
    u8 = rng.integers(0, 256, (N, 32, 32, 3), dtype=np.uint8)
    f32 = rng.standard_normal((N, 3, 32, 32)).astype(np.float32)
    common = ["--model", model, "--batch", "4", "--topk", "3", "--logits", "--embeddings",
              "--threads", "1", "--progress", "off"]

    def score(inp, tag):
        out = os.path.join(tmp, f"scores-{tag}.h5")
        p = subprocess.run([a.vitrun, "--input", inp, "--output", out] + common,
                           capture_output=True, text=True, timeout=120)
        return p, (h5_rows(out) if p.returncode == 0 else None)

    def write(name, data, **kw):
        path = os.path.join(tmp, name)
        with h5py.File(path, "w") as f:
            f.create_dataset("images", data=data, **kw)
        return path

    ref = {}
    for kind, data in (("uint8", u8), ("float32", f32)):
        p, ref[kind] = score(write(f"{kind}-contiguous.h5", data), f"{kind}-contiguous")
        c.check(f"{kind} contiguous (the reference) scores", p.returncode == 0,
                first_line(p.stderr))
    if ref["uint8"] is None or ref["float32"] is None:
        return
    variants = [
        ("uint8", "gzip + shuffle, chunks of 4 images (the last one partly outside)",
         dict(chunks=(4, 32, 32, 3), compression="gzip", shuffle=True)),
        ("uint8", "gzip 9, one chunk of all images", dict(chunks=(N, 32, 32, 3),
                                                         compression="gzip",
                                                         compression_opts=9)),
        ("uint8", "gzip, chunks split along rows and columns too",
         dict(chunks=(5, 16, 12, 3), compression="gzip")),
        ("uint8", "shuffle + fletcher32, extendable (extensible-array index)",
         dict(chunks=(3, 32, 32, 3), shuffle=True, fletcher32=True,
              maxshape=(None, 32, 32, 3))),
        ("uint8", "no filter, chunks of 3 images (edge chunk)", dict(chunks=(3, 32, 32, 3))),
        ("float32", "gzip + shuffle, chunks of 4 images", dict(chunks=(4, 3, 32, 32),
                                                                compression="gzip",
                                                                shuffle=True)),
        ("float32", "gzip, extendable, chunks of 7", dict(chunks=(7, 3, 32, 32),
                                                          compression="gzip",
                                                          maxshape=(None, 3, 32, 32))),
    ]
    for i, (kind, what, kw) in enumerate(variants):
        path = write(f"{kind}-variant{i}.h5", u8 if kind == "uint8" else f32, **kw)
        p, got = score(path, f"{kind}-variant{i}")
        if got is None:
            c.check(f"{kind} {what}: scored like the contiguous file", False,
                    f"exit {p.returncode}: {first_line(p.stderr)}")
            continue
        ok, detail = same_rows(got, ref[kind])
        c.check(f"{kind} {what}: every output dataset bit-identical to the contiguous file's",
                ok, detail)

    def refused(what, path, needles):
        p, _ = score(path, "refused")
        missing = [n for n in needles if n not in p.stderr]
        c.check(what, p.returncode == 2 and not missing,
                f"exit {p.returncode}{', lacks ' + str(missing) if missing else ''}: "
                f"{first_line(p.stderr)}")

    for filt, kw in (("gzip", dict(compression="gzip", shuffle=True)), ("unfiltered", {})):
        path = os.path.join(tmp, f"hole-{filt}.h5")
        with h5py.File(path, "w") as f:
            d = f.create_dataset("images", (N, 32, 32, 3), np.uint8, chunks=(4, 32, 32, 3),
                                 **kw)
            for s in range(0, N, 4):
                if s != 8:  # the chunk of images 8..11 is never written
                    d[s:s + 4] = u8[s:s + 4]
        refused(f"{filt}, one chunk of 6 never written: refused", path,
                [path, f"only part of its {N} images written", "5 of the 6 chunks"])
    path = os.path.join(tmp, "none-written.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("images", (N, 32, 32, 3), np.uint8, chunks=(4, 32, 32, 3),
                         compression="gzip")
    refused("gzip, no chunk written: refused", path, [path, f"none of its {N} images"])

    # Chunks outside the extent never come from the library (shrinking drops
    # them); a file edited to have some anyway gets each needed chunk looked
    # up: 24 images declared as 18 (8 chunks stored, 6 needed).
    for name, hole in (("outside-complete", None), ("outside-hole", 9)):
        path = os.path.join(tmp, name + ".h5")
        with h5py.File(path, "w") as f:
            d = f.create_dataset("images", (24, 32, 32, 3), np.uint8, chunks=(3, 32, 32, 3),
                                 maxshape=(None, 32, 32, 3), compression="gzip")
            for s in range(0, 24, 3):
                if s != hole:
                    d[s:s + 3] = np.concatenate([u8, u8])[s:s + 3]
        b = bytearray(open(path, "rb").read())
        dims = struct.pack("<4Q", 24, 32, 32, 3)
        if b.count(dims) != 1:
            c.check(f"{name}: the dataspace found in the file", False, "layout changed?")
            continue
        at = b.index(dims)
        b[at:at + 8] = struct.pack("<Q", 18)
        open(path, "wb").write(b)
        if hole is None:
            p, got = score(path, name)
            want_p, want = score(write("first18.h5", u8[:18]), "first18")
            ok, detail = (same_rows(got, want) if got is not None and want is not None
                          else (False, f"exit {p.returncode}: {first_line(p.stderr)}"))
            c.check("8 chunks stored for 6 needed, all there: scored as the 18 images", ok,
                    detail)
        else:
            refused("8 chunks stored for 6 needed, one needed missing: refused", path,
                    [path, "only part of its 18 images written"])


def endless_inputs(c, a, tmp, model):
    """Item 8: non-regular files and endless lines, refused promptly in bounded memory."""
    out = os.path.join(tmp, "endless.h5")
    base = ["--model", model, "--output", out, "--progress", "off"]

    def refused(what, args, needles):
        code, err, secs, peak, killed = bounded([a.vitrun] + base + args)
        missing = [n for n in needles if n not in err]
        c.check(what, code == 2 and not missing and not killed,
                f"{killed or f'exit {code}'} in {secs:.2f} s, peak RSS {peak:.0f} MB"
                f"{', lacks ' + str(missing) if missing else ''}: {first_line(err)}")
        return secs, peak

    expected = "a folder of JPEGs, a text file listing image paths"
    refused("--input /dev/zero: exit 2 at once, memory bounded", ["--input", "/dev/zero"],
            ["/dev/zero", "character device", expected])
    fifo = os.path.join(tmp, "pipe")
    os.mkfifo(fifo)
    refused("--input a FIFO nobody writes to: exit 2, no hang", ["--input", fifo],
            [fifo, "FIFO", expected])

    photo = os.path.join(tmp, "photo")
    os.makedirs(photo)
    shutil.copy(PHOTOS[0], os.path.join(photo, "a.jpg"))
    lst = os.path.join(photo, "list.txt")
    with open(lst, "wb") as f:
        f.write(b"a.jpg\n\n")
        f.write(b"b" * (10 << 20))  # line 3: 10 MB, no newline
    refused("a list file whose line 3 is 10 MB: exit 2 naming the file and line",
            ["--input", lst], [lst, "line 3", "longer than"])

    with open(os.path.join(photo, "ok.txt"), "w") as f:
        f.write("a.jpg\n")
    labels = os.path.join(photo, "labels.txt")
    with open(labels, "wb") as f:
        f.write(b"0 " + b"x" * (10 << 20) + b"\n")
    refused("--labels with a 10 MB line: exit 2 naming the file and line",
            ["--input", os.path.join(photo, "ok.txt"), "--labels", labels],
            [labels + ":1", "longer than"])
    refused("--labels /dev/zero: exit 2, memory bounded",
            ["--input", os.path.join(photo, "ok.txt"), "--labels", "/dev/zero"],
            ["/dev/zero"])

    # a FIFO among the JPEGs: its row fails, the run ends
    os.mkfifo(os.path.join(photo, "pipe.jpg"))
    code, err, secs, peak, killed = bounded([a.vitrun] + base + ["--input", photo], timeout=30)
    rows = h5_rows(out) if code == 0 else None
    got = rows and dict(zip([p.decode() for p in rows["path"]],
                            zip(rows["ok"], [e.decode() for e in rows["error"]])))
    c.check("a FIFO named pipe.jpg in the folder: a failed row 'not a regular file', no hang",
            got is not None and got.get("pipe.jpg") == (0, "not a regular file") and
            got.get("a.jpg", (0,))[0] == 1,
            f"{killed or f'exit {code}'} in {secs:.2f} s: {got if got else first_line(err)}")


def empty_folder(c, a, tmp, model):
    """Item 9: an empty folder (UBSan flagged qsort(NULL, 0) there)."""
    for what, make in (("an empty folder", lambda d: None),
                       ("a folder of empty folders and non-JPEG files",
                        lambda d: (os.makedirs(os.path.join(d, "sub", "deeper")),
                                   open(os.path.join(d, "sub", "notes.txt"), "w").close()))):
        d = tempfile.mkdtemp(dir=tmp)
        make(d)
        out = os.path.join(tmp, "empty.h5")
        code, err, secs, _, killed = bounded([a.vitrun, "--model", model, "--input", d,
                                              "--output", out], timeout=60)
        left = [f for f in os.listdir(tmp) if f.startswith("empty.h5")]
        c.check(f"{what}: exit 2, 'holds no .jpg, .jpeg, .png or .webp files', no UBSan "
                "report, nothing left", code == 2 and
                "holds no .jpg, .jpeg, .png or .webp files" in err and
                "runtime error:" not in err and not left,
                f"{killed or f'exit {code}'}: {first_line(err)}{'; left ' + str(left) if left else ''}")


# Item 13: names as bytes. Latin-1, UTF-8 (accented, Chinese), backslashes in
# valid and invalid names, a literal "\\x41" that must not be taken for an
# escape, a UTF-16 surrogate and a cut-off sequence (not UTF-8 either).
NAMES = [b"lat\xe9.jpg", "caf\u00e9.jpg".encode(), "\u4e2d\u6587/\u56fe.jpg".encode(),
         b"back\\slash.jpg", b"x41\\x41-lat\xe9.jpg", b"sur\xed\xa0\x80.jpg",
         b"cut\xe2\x82.jpg", b"plain.jpg"]


def unescape(name):
    """The bytes of an escaped 'path' entry (\\xNN and \\\\, nothing else), decoded
    independently of vitrun's code and of codecs.escape_decode."""
    b, out, i = name.encode("utf-8"), bytearray(), 0
    while i < len(b):
        if b[i:i + 2] == b"\\\\":
            out += b"\\"
            i += 2
        elif b[i:i + 2] == b"\\x":
            out.append(int(b[i + 2:i + 4], 16))
            i += 4
        else:
            out.append(b[i])
            i += 1
    return bytes(out)


def raw_names(rows):
    """(bytes of each row's name, detail) from an HDF5 output, through asstr()."""
    with h5py.File(rows) as f:
        try:
            text = list(f["path"].asstr()[:])
        except UnicodeDecodeError as e:
            return None, f"asstr() raises {e}"
        if "path_escaped" not in f:
            return None, "no 'path_escaped' column"
        esc = f["path_escaped"][:]
    raw = [unescape(t) if e else t.encode("utf-8") for t, e in zip(text, esc)]
    return (raw, text, esc), ""


def byte_names(c, a, tmp, model):
    root = os.path.join(tmp, "names").encode()
    for n in NAMES:
        os.makedirs(os.path.dirname(os.path.join(root, n)), exist_ok=True)
        shutil.copy(PHOTOS[0], os.path.join(root, n))
    want = sorted(NAMES)
    common = ["--model", model, "--batch", "3", "--topk", "3", "--logits", "--threads", "1",
              "--progress", "off"]
    out = os.path.join(tmp, "names.h5")
    p = subprocess.run([a.vitrun, "--input", root.decode("utf-8", "surrogateescape"),
                        "--output", out] + common, capture_output=True, timeout=120)
    if not c.check("a folder of non-UTF-8, UTF-8 and backslashed names scores (HDF5)",
                   p.returncode == 0, p.stderr.decode("utf-8", "replace").strip()[-200:]):
        return
    got, why = raw_names(out)
    c.check("h5py's f['path'].asstr()[:] reads every row", got is not None, why or
            f"{len(got[1])} rows")
    if got is None:
        return
    raw, text, esc = got
    c.check("every name maps back to the exact bytes on disk, in byte order",
            raw == want, f"{[r for r, w in zip(raw, want) if r != w] or 'all equal'}")
    valid = {n: n.decode("utf-8") for n in NAMES if not _invalid(n)}
    kept = [t for t, r, e in zip(text, raw, esc) if r in valid and (e or t != valid[r])]
    c.check("valid UTF-8 names (accented, Chinese, a backslash) stored unchanged, not marked",
            not kept and sum(esc) == len(NAMES) - len(valid),
            f"{len(valid)} unchanged, {int(sum(esc))} escaped"
            f"{'; changed: ' + str(kept) if kept else ''}")
    rule = [t for t, r, e in zip(text, raw, esc) if e and t != r.replace(b"\\", b"\\\\")
            .decode("utf-8", "backslashreplace")]
    back = [t for t, r, e in zip(text, raw, esc) if e and codecs.escape_decode(
            t.encode("utf-8"))[0] != r]
    c.check("escaped names: Python's backslashreplace of the bytes with '\\' doubled; "
            "codecs.escape_decode gives the bytes back", not rule and not back,
            f"{[t for t, e in zip(text, esc) if e]}"
            f"{'; rule differs: ' + str(rule) if rule else ''}"
            f"{'; escape_decode differs: ' + str(back) if back else ''}")

    # the CSV holds the bytes as found
    csv_out = os.path.join(tmp, "names.csv")
    p = subprocess.run([a.vitrun, "--input", root.decode("utf-8", "surrogateescape"),
                        "--output", csv_out] + common, capture_output=True, timeout=120)
    import csv
    with open(csv_out, newline="", encoding="utf-8", errors="surrogateescape") as f:
        rows = list(csv.DictReader(f))
    raw_csv = [os.fsencode(r["path"]) for r in rows]
    c.check("CSV: the path field holds the bytes as found (read with surrogateescape)",
            p.returncode == 0 and raw_csv == want, f"{len(rows)} rows")
    try:
        import pandas as pd
    except ImportError:
        print("  (pandas not installed: its read of the CSV not tried)")
    else:
        df = pd.read_csv(csv_out, encoding_errors="surrogateescape")
        c.check("pandas.read_csv(encoding_errors='surrogateescape') reads every row, "
                "os.fsencode gives the bytes", [os.fsencode(x) for x in df["path"]] == want,
                f"{len(df)} rows")

    # an HDF5 input's own 'paths' (numpy 'S', Latin-1) name its rows the same way
    h5in = os.path.join(tmp, "named.h5")
    with h5py.File(h5in, "w") as f:
        f["images"] = np.zeros((2, 32, 32, 3), np.uint8)
        f["paths"] = np.array([b"lat\xe9", b"caf\xc3\xa9"])
    h5out = os.path.join(tmp, "named-out.h5")
    p = subprocess.run([a.vitrun, "--input", h5in, "--output", h5out] + common,
                       capture_output=True, timeout=120)
    got, why = raw_names(h5out) if p.returncode == 0 else (None, p.stderr[-200:])
    c.check("HDF5 input with Latin-1 'paths': rows readable, bytes recovered",
            got is not None and got[0] == [b"lat\xe9", b"caf\xc3\xa9"] and
            list(got[2]) == [1, 0], why or f"{got[1]}")

    # killed and resumed: the journal holds the bytes, the replay escapes them
    many = os.path.join(tmp, "many").encode()
    os.makedirs(many)
    for i in range(300):
        os.link(os.path.join(root, b"lat\xe9.jpg"),
                os.path.join(many, b"lat\xe9-%03d-" % i + NAMES[i % 4].replace(b"/", b"_")))
    ref = os.path.join(tmp, "many-ref.h5")
    args = ["--input", many.decode("utf-8", "surrogateescape")] + common
    run([a.vitrun, "--output", ref] + args, timeout=300)
    out = os.path.join(tmp, "many-killed.h5")
    j = subprocess.Popen([a.vitrun, "--output", out] + args, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    t0, done = time.time(), 0
    while time.time() - t0 < 120 and j.poll() is None:
        done = journal_rows(out + ".journal")
        if done >= 30:
            break
        time.sleep(0.005)
    os.killpg(j.pid, signal.SIGKILL)
    j.wait()
    killed_at = journal_rows(out + ".journal")
    p = subprocess.run([a.vitrun, "--output", out, "--resume"] + args, capture_output=True,
                       timeout=300)
    ok, detail = (same_rows(h5_rows(out), h5_rows(ref)) if p.returncode == 0
                  else (False, f"resume exit {p.returncode}"))
    got, why = raw_names(out) if ok else (None, "")
    c.check("killed mid-run and resumed: bit-identical to the uninterrupted run, names "
            "readable", ok and got is not None and 0 < killed_at < 300 and
            sorted(got[0]) == got[0] and len(got[0]) == 300,
            f"killed at {killed_at} of 300 rows; {detail}{'; ' + why if why else ''}")


def _invalid(name):
    try:
        name.decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


def main():
    a, skip = jpeg_test_args(mpi=False)
    if skip:
        return skip
    c = Checker("input hardening: filtered HDF5, non-regular and endless inputs, empty "
                "folders, non-UTF-8 names")
    tmp = tempfile.mkdtemp(prefix="vitrun_hardening_")
    try:
        model = os.path.join(tmp, "model.h5")
        run([PYTHON, os.path.join(a.scripts, "make_model.py"), "--image-size", 32,
             "--patch-size", 8, "--hidden", 48, "--layers", 2, "--heads", 4, "--mlp-dim", 96,
             "--classes", 10, "--labels", "--preprocess", "hf", model])
        chunked_inputs(c, a, tmp, model)
        endless_inputs(c, a, tmp, model)
        empty_folder(c, a, tmp, model)
        byte_names(c, a, tmp, model)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
