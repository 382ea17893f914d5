#!/usr/bin/python3
"""test_tarshard.py - the webdataset shard reader (io/tarshard.c) and the
shard list (io/braces.c, io/shardlist.c) against Python.

Shards are written with Python's tarfile in webdataset's layout (ustar, pax
and GNU names; gzip, bzip2, xz, zstd), then broken on purpose (cut in a
header, in a member, between members, in the end blocks; a bad checksum).
Every sample tarshard_dump prints is compared with a model of webdataset's
grouping written here from webdataset's rules (tariterators.py:
tar_file_iterator, base_plus_ext, group_by_keys) and the reader's documented
additions (duplicates, limits, breaks; io/tarshard.h). Brace patterns are
compared with bash's own expansion. Exits 1 on any difference, naming it.

    test_tarshard.py --dump build/tests/tarshard_dump
"""
import argparse
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--dump", required=True)
args = ap.parse_args()

failures = []


def fail(what):
    failures.append(what)
    print("FAIL:", what)


def run(*argv):
    r = subprocess.run([args.dump, *map(str, argv)], capture_output=True, timeout=120)
    if r.returncode != 0:
        fail(f"tarshard_dump {' '.join(map(str, argv))} exited {r.returncode}: {r.stderr!r}")
        return []
    return [json.loads(x) for x in r.stdout.decode().splitlines()]


def raw(s):
    """tarshard_dump writes byte b >= 0x80 as \\u00XX: back to bytes"""
    return s.encode("latin-1")


def fnv(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


# --- the model: webdataset's rules ------------------------------------------
BASE_PLUS_EXT = re.compile(rb"^((?:.*/|)[^.]+)[.]([^/]*)$")  # base_plus_ext
SKIP_META = re.compile(rb"__[^/]*__($|/)")  # tar_file_iterator's skip_meta
NAME_LEN, MAX_MEMBERS, FOUND_LEN, CLS_MAX = 4096, 1024, 96, 64


def usable(m):
    """(key, ext) of a member that goes into a sample, else None"""
    name = m["name"]
    if not m["reg"]:
        return None
    if b"/" not in name and name.startswith(b"__") and name.endswith(b"__"):
        return None
    if SKIP_META.match(name):
        return None
    k = BASE_PLUS_EXT.match(name)
    return (k.group(1), k.group(2).lower()) if k else None


def parse_cls(b):
    b = b.strip(b" \t\r\n\x0b\x0c")
    if not re.fullmatch(rb"[+-]?[0-9]+", b):
        return None
    v = int(b)
    return v if -2**63 <= v < 2**63 else None


class Sample:
    def __init__(self, key, offset):
        self.key, self.offset, self.members = key, offset, 0
        self.error = None  # the first reason
        self.image = None
        self.image_ext = b""
        self.got_image = False
        self.has_cls = self.cls_bad = 0
        self.cls = 0
        self.exts = {}
        self.found, self.found_cut = b"", False

    def bad(self, *reason):
        if self.error is None:
            self.error = reason


def model(members, keys=b"jpg;jpeg;png;webp", limit=256 << 20, stop=None):
    """The samples of members[:stop[1]] and how the shard ends. stop: None
    (a clean end), ("header", i) the tar breaks before member i's data, or
    ("inside", i) inside member i's data."""
    keys = [k.lower() for k in keys.split(b";") if k]
    samples, seen, cur = [], {}, None
    n = len(members) if stop is None else stop[1]
    for i, m in enumerate(members[:n + (stop is not None and stop[0] == "inside")]):
        ke = usable(m)
        if ke is None:
            continue
        key, ext = ke
        if cur is None or key != cur.key:
            if cur is not None:
                samples.append(cur)
            cur = Sample(key, m["offset"])
            if len(key) >= NAME_LEN:
                cur.bad("longkey", len(key))
            if key in seen:
                cur.bad("dupkey", seen[key])
            else:
                seen[key] = m["offset"]
        if i == n:  # the member the tar breaks inside: its sample ends here
            cur.members += 1
            cur.error, cur.image = ("inside",), None
            samples.append(cur)
            return samples, "inside"
        cur.members += 1
        if cur.members > MAX_MEMBERS:
            cur.bad("members")
        else:
            if ext in cur.exts:
                cur.bad("dupmember", ext, cur.exts[ext])
            else:
                cur.exts[ext] = m["offset"]
            add = (b", " if cur.found else b"") + ext
            if cur.found_cut:
                pass
            elif len(cur.found) + len(add) < FOUND_LEN - 6:
                cur.found += add
            else:
                cur.found += b", ..." if cur.found else b"..."
                cur.found_cut = True
        data = m["data"]
        if not cur.got_image and ext in keys:
            cur.got_image, cur.image_ext = True, ext
            if len(data) > limit:
                cur.bad("limit", len(data))
            elif not data:
                cur.bad("empty")
            elif cur.error is None:
                cur.image = data
        elif ext == b"cls" and len(data) <= CLS_MAX and not cur.has_cls and not cur.cls_bad:
            v = parse_cls(data)
            cur.has_cls, cur.cls_bad, cur.cls = int(v is not None), int(v is None), v or 0
        elif ext == b"cls" and not cur.has_cls:
            cur.cls_bad = 1
    if cur is not None:
        samples.append(cur)
    for s in samples:
        if not s.got_image:
            s.bad("noimage", s.found)
    return samples, "end" if stop is None else "header"


def reason(err):
    """tarshard.c's error string as the model's tuple"""
    e = raw(err)
    pats = [(rb"no image member; found: (.*)$", "noimage", lambda g: (g[0],)),
            (rb"duplicate key; first at byte (\d+)$", "dupkey", lambda g: (int(g[0]),)),
            (rb"duplicate member \.(.*); first at byte (\d+)$", "dupmember",
             lambda g: (g[0], int(g[1]))),
            (rb"image member of (\d+) bytes is over the limit", "limit", lambda g: (int(g[0]),)),
            (rb"image member \..* is empty", "empty", lambda g: ()),
            (rb"key of (\d+) bytes", "longkey", lambda g: (int(g[0]),)),
            (rb"over \d+ members with this key", "members", lambda g: ()),
            (rb"the tar breaks inside member", "inside", lambda g: ())]
    for rx, name, f in pats:
        m = re.match(rx, e)
        if m:
            return (name, *f(m.groups()))
    return ("?", e)


def compare(label, got, want, end):
    """got: tarshard_dump's lines; want, end: the model's"""
    if not got:
        return
    tail = got[-1]
    rows = got[:-1]
    if "open" in tail or "end" not in tail:
        fail(f"{label}: no end line: {tail}")
        return
    if len(rows) != len(want):
        fail(f"{label}: {len(rows)} samples, expected {len(want)}: got keys "
             f"{[r['key'][:30] for r in rows][:12]}, expected "
             f"{[w.key[:30] for w in want][:12]}")
    for r, w in zip(rows, want):
        key = raw(r["key"])
        exp_key = w.key[:NAME_LEN - 1]
        what = f"{label}: sample {exp_key[:60]!r}"
        if key != exp_key:
            fail(f"{what}: key {key[:60]!r}")
            continue
        ok = int(w.error is None)
        if (r["ok"], r["offset"], r["members"]) != (ok, w.offset, w.members):
            fail(f"{what}: ok, offset, members {r['ok'], r['offset'], r['members']}, "
                 f"expected {ok, w.offset, w.members} ({r['error']})")
        if not ok and reason(r["error"]) != w.error:
            fail(f"{what}: error {reason(r['error'])}, expected {w.error}")
        if ok:
            got_img = (r["image_len"], int(r["image_fnv"], 16), raw(r["image_ext"]))
            exp_img = (len(w.image), fnv(w.image), w.image_ext)
            if got_img != exp_img:
                fail(f"{what}: image {got_img}, expected {exp_img}")
            if (r["has_cls"], r["cls"], r["cls_bad"]) != (w.has_cls, w.cls, w.cls_bad):
                fail(f"{what}: cls {r['has_cls'], r['cls'], r['cls_bad']}, expected "
                     f"{w.has_cls, w.cls, w.cls_bad}")
    want_end = 0 if end == "end" else -1
    if tail["end"] != want_end:
        fail(f"{label}: ends {tail['end']} ({tail['message']}), expected {want_end}")
    elif want_end and not (tail["error"] and tail["message"]):
        fail(f"{label}: -1 without a reason")
    if len(got) > 1 and "again" in got[-1]:
        fail(f"{label}: a finished reader did not stay finished")


# --- writing shards ----------------------------------------------------------
def write_tar(path, entries, fmt=tarfile.PAX_FORMAT):
    """entries: (name, data) for regular files, or (name, kind[, target])
    for 'dir', 'sym', 'lnk'. Returns the members as tarfile reads them back:
    name bytes, regular or not, data, header and data offsets, the end."""
    with tarfile.open(path, "w", format=fmt) as t:
        for e in entries:
            name, what = e[0], e[1]
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if isinstance(what, bytes):
                ti.size = len(what)
                t.addfile(ti, io.BytesIO(what))
            else:
                ti.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE,
                           "lnk": tarfile.LNKTYPE}[what]
                ti.linkname = e[2] if len(e) > 2 else ""
                t.addfile(ti)
    out = []
    with tarfile.open(path, "r") as t:
        for m in t.getmembers():
            data = t.extractfile(m).read() if m.isreg() else b""
            end = m.offset_data + (m.size + 511) // 512 * 512 if m.isreg() else m.offset_data
            out.append(dict(name=m.name.encode("utf-8", "surrogateescape"), reg=m.isreg(),
                            data=data, offset=m.offset, offset_data=m.offset_data, end=end))
    return out


def jpeg_like(n, seed):
    return bytes((seed * 31 + i * 7) & 255 for i in range(n))


tmp = tempfile.mkdtemp(prefix="vitrun-tarshard-")


def P(name):
    return os.path.join(tmp, name)


# The main shard: everything webdataset meets in the wild, in one tar.
LIMIT = 5000
main_entries = [
    ("000.jpg", jpeg_like(1200, 1)), ("000.cls", b" 42\n"), ("000.json", b'{"a": 1}'),
    ("000.txt", b"a caption"),
    ("001.png", jpeg_like(300, 2)), ("001.cls", b"-7"),
    ("002.WEBP", jpeg_like(200, 3)), ("002.CLS", b"+3\r\n"),
    ("003.JPEG", jpeg_like(100, 4)), ("003.cls", b"abc"),
    ("folder/sub/004.jpg", jpeg_like(50, 5)), ("folder/sub/004.seg.png", jpeg_like(60, 6)),
    ("005.seg.png", jpeg_like(70, 7)), ("005.jpg", jpeg_like(80, 8)),  # the first image wins
    ("006.left.jpg", jpeg_like(90, 9)), ("006.json", b"{}"),  # no image: "left.jpg" only
    ("007.json", b"{}"), ("007.txt", b"no image here"),
    ("dir.d", "dir"), ("008.jpg", jpeg_like(10, 10)), ("008.lnk", "sym", "000.jpg"),
    ("008.hard", "lnk", "000.jpg"), ("noext", b"data without an extension"),
    ("008.cls", b"99999999999999999999"),  # over int64: cls_bad
    ("__meta__", b"m"), ("__x__/009.jpg", b"meta folder"), ("009.jpg", jpeg_like(11, 11)),
    ("009.cls", b" " * 70 + b"1"),  # over CLS_MAX bytes: cls_bad
    ("a/.hidden.jpg", jpeg_like(12, 12)),  # key "a/" by the regex
    (".top.jpg", b"no key"), ("a.b/.x.jpg", b"no key"),
    ("010.jpg", jpeg_like(13, 13)), ("010.jpg", jpeg_like(14, 14)),  # adjacent duplicate
    ("011.jpg", jpeg_like(15, 15)), ("011.JPG", jpeg_like(16, 16)),  # same in lower case
    ("012.jpg", jpeg_like(LIMIT + 1, 17)), ("012.cls", b"5"),  # over the limit
    ("013.jpg", b""), ("013.cls", b"1"),  # empty image
    ("000.png", jpeg_like(20, 18)),  # key 000 again, not adjacent
    ("dé/ünï.jpg", jpeg_like(21, 19)), ("ünï.cls", b"8"),
    ("x" * 300 + "/long.jpg", jpeg_like(22, 20)),  # pax path
    ("k" * 5000 + ".jpg", jpeg_like(23, 21)),  # key over VR_NAME_LEN
    ("k" * 5000 + ".cls", b"2"),
    ("014.jpg", jpeg_like(24, 22)), ("014.json", b"{}"),
    ("015.a.b.c.jpg", jpeg_like(25, 23)), ("015.jpg", jpeg_like(26, 24)),
    ("016.jpg", jpeg_like(27, 25)),
    ("016.txt", b"x"), ("016.json", b"y"), ("016.zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", b""),
    ("017.json", b"x"),
] + [(f"017.e{i:02d}x" + "y" * 10, b"") for i in range(10)]  # a long "found:" list, cut
main = write_tar(P("main.tar"), main_entries)


def check_shard(label, path, members, keys=None, limit=LIMIT, stop=None):
    argv = ["tar", path, limit] + ([keys] if keys else [])
    want, end = model(members, keys.encode() if keys else b"jpg;jpeg;png;webp", limit, stop)
    compare(label, run(*argv), want, end)
    return want


want_main = check_shard("main.tar", P("main.tar"), main)
print(f"main.tar: {len(want_main)} samples, "
      f"{sum(1 for s in want_main if s.error is None)} scorable")
check_shard("main.tar, keys png;LEFT.JPG", P("main.tar"), main, keys="png;LEFT.JPG")
check_shard("main.tar, limit 100", P("main.tar"), main, limit=100)

# the same in GNU format (long names as 'L' members) and plain ustar
gnu = write_tar(P("gnu.tar"), main_entries, tarfile.GNU_FORMAT)
check_shard("gnu.tar", P("gnu.tar"), gnu)
short = [e for e in main_entries if len(e[0].encode()) < 100 and e[0].isascii()]
ustar = write_tar(P("ustar.tar"), short, tarfile.USTAR_FORMAT)
check_shard("ustar.tar", P("ustar.tar"), ustar)

# compressed: the same samples
compressors = [("gz", ["gzip", "-kn"]), ("xz", ["xz", "-k"]), ("bz2", ["bzip2", "-k"]),
               ("zst", ["zstd", "-q", "-k"])]
for ext, cmd in compressors:
    if shutil.which(cmd[0]) is None:
        print(f"note: {cmd[0]} not installed, .tar.{ext} not tested")
        continue
    subprocess.run(cmd + [P("main.tar")], check=True)
    check_shard(f"main.tar.{ext}", P(f"main.tar.{ext}"), main)

# empty tar, zero-length file, not a tar
empty = write_tar(P("empty.tar"), [])
check_shard("empty.tar", P("empty.tar"), empty)
open(P("zero.tar"), "wb").close()
got = run("tar", P("zero.tar"))
if not got or got[-1].get("end") != -1 or "empty" not in got[-1]["message"]:
    fail(f"zero-length file: {got}")
with open(P("text.tar"), "wb") as f:
    f.write(b"hello, this is not a tar\n" * 40)
got = run("tar", P("text.tar"))
if not got or got[-1].get("end") != -1 or "not a tar" not in got[-1]["error"]:
    fail(f"not a tar: {got}")
got = run("tar", P("missing.tar"))
if not got or "open" not in got[0] or "No such file" not in got[0]["message"]:
    fail(f"missing shard: {got}")
got = run("tar", tmp)
if not got or "open" not in got[0] or "folder" not in got[0]["message"]:
    fail(f"a folder as a shard: {got}")


# --- broken tars ---------------------------------------------------------------
def cut(label, members, at, stop):
    data = open(P("main.tar"), "rb").read()[:at]
    with open(P("cut.tar"), "wb") as f:
        f.write(data)
    check_shard(f"{label} (cut at {at})", P("cut.tar"), members, stop=stop)
    got = run("tar", P("cut.tar"), LIMIT)
    if got and got[-1].get("end") == -1:
        print(f"  {label}: {got[-1]['error']}")


def index_of(name):
    return next(i for i, m in enumerate(main) if m["name"] == name.encode())


i = index_of("001.png")
cut("mid-image", main, main[i]["offset_data"] + 100, ("inside", i))
i = index_of("000.json")
cut("mid-json (skipped unread)", main, main[i]["offset_data"] + 3, ("inside", i))
i = index_of("noext")
cut("mid a member without an extension", main, main[i]["offset_data"] + 5, ("header", i))
i = index_of("005.jpg")
cut("mid-header", main, main[i]["offset"] + 200, ("header", i))
i = next(i for i, m in enumerate(main) if m["name"].startswith(b"xxx"))
cut("mid pax header", main, main[i]["offset"] + 700, ("header", i))
i = index_of("003.JPEG")
cut("between members (no end blocks)", main, main[i]["offset"], ("header", i))
last_end = main[-1]["end"]
cut("mid end block", main, last_end + 100, ("header", len(main)))
cut("one end block of two", main, last_end + 512, None)

# a corrupt header (its checksum no longer matches): the samples before it
i = index_of("007.json")
data = bytearray(open(P("main.tar"), "rb").read())
data[main[i]["offset"] + 5] ^= 0x01
open(P("corrupt.tar"), "wb").write(data)
check_shard("corrupt header", P("corrupt.tar"), main, stop=("header", i))
data = bytearray(open(P("main.tar"), "rb").read())
data[5] ^= 0x01
open(P("corrupt0.tar"), "wb").write(data)
got = run("tar", P("corrupt0.tar"))
if not got or len(got) != 1 or got[-1].get("end") != -1 or "not a tar" not in got[0]["error"]:
    fail(f"corrupt first header: {got}")

# truncated compressed shards: a prefix of the samples (the decompressor hands
# out 64 KiB blocks: the tail of the last one is lost), then -1
rnd = random.Random(5)
entries = [(f"{k:04d}.jpg", rnd.randbytes(3000)) for k in range(100)]
write_tar(P("noise.tar"), entries)
for ext, cmd in compressors:
    if shutil.which(cmd[0]) is None:
        continue
    subprocess.run(cmd + ["-f", P("noise.tar")], check=True)
    packed = open(P(f"noise.tar.{ext}"), "rb").read()
    full = run("tar", P(f"noise.tar.{ext}"))
    for frac in (0.5, 0.02):
        open(P(f"cut.tar.{ext}"), "wb").write(packed[:int(len(packed) * frac)])
        got = run("tar", P(f"cut.tar.{ext}"))
        label = f"noise.tar.{ext} cut to {frac:.0%}"
        if not got or got[-1].get("end") != -1:
            fail(f"{label}: did not end in -1: {got[-1:]}")
            continue
        rows = got[:-1]
        if rows and rows[-1]["error"].startswith("the tar breaks inside"):
            rows = rows[:-1]
        # bzip2 hands out nothing before its 900 KB block is whole
        if rows != full[:len(rows)] or (frac > 0.1 and ext != "bz2" and not rows):
            fail(f"{label}: {len(rows)} samples, not a prefix of the whole shard's")
        print(f"  {label}: {len(rows)} of {len(full) - 1} samples, then {got[-1]['error']}")

# many members with one key (over VR_TARSHARD_MAX_MEMBERS)
many = write_tar(P("many.tar"), [("m.jpg", b"x")] + [(f"m.e{i}", b"") for i in range(1100)] +
                 [("n.jpg", b"y")])
check_shard("1101 members of one key", P("many.tar"), many)


# memory stays flat: 50,000 samples with 150-byte keys against 5,000
def maxrss_kb(path):
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], "
            "stdout=subprocess.DEVNULL, check=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    # under ASan (the sanitize test), freed memory waits in its quarantine
    # and would count as growth
    asan = os.environ.get("ASAN_OPTIONS", "")
    env = dict(os.environ, ASAN_OPTIONS=(asan + ":" if asan else "") +
               "quarantine_size_mb=0:thread_local_quarantine_size_kb=0")
    r = subprocess.run([sys.executable, "-c", code, args.dump, "tar", path], check=True,
                       capture_output=True, text=True, env=env)
    return int(r.stdout)


rss = {}
for n in (5000, 50000):
    entries = [("p" * 49 + "/" + f"{k:06d}" + "q" * 90 + ".jpg", b"z") for k in range(n)]
    entries.append((entries[0][0], b"z"))  # the first key again, at the very end
    with tarfile.open(P(f"big{n}.tar"), "w", format=tarfile.USTAR_FORMAT) as t:
        for name, d in entries:
            ti = tarfile.TarInfo(name)
            ti.size = len(d)
            t.addfile(ti, io.BytesIO(d))
    got = run("tar", P(f"big{n}.tar"))
    if len(got) != n + 2 or got[-2]["ok"] != 0 or "duplicate key" not in got[-2]["error"]:
        fail(f"{n} samples: {len(got) - 1} read, the last {got[-2] if len(got) > 1 else None}")
    rss[n] = maxrss_kb(P(f"big{n}.tar"))
    os.remove(P(f"big{n}.tar"))
print(f"max RSS: {rss[5000]} KB for 5,000 samples, {rss[50000]} KB for 50,000")
# the key set grows by 16 bytes a slot (2 MiB at 50,000); keeping the keys would add 7 MB
if rss[50000] - rss[5000] > 4096:
    fail(f"memory grows with the shard: {rss[5000]} KB -> {rss[50000]} KB")

# --- brace patterns against bash -------------------------------------------------------
patterns = ["/data/laion/{00000..00012}.tar", "{a,b,c}/x{1..3}.tar", "s{0..10..3}.tar",
            "s{10..0..-4}", "x{-05..3}", "{05..1}y", "{1..010}", "{-1..01}", "p{a,}q{,b}",
            "{+1..3}", "{-00..2}", "{007..5..-2}", "a{b,c}d{e,f}g{1..2}", "{0001..3}",
            "{1..3..0}", "{01..-1}", "{3..1..2}", "{x,y}{00..02}.tar.gz", "{-0..2}",
            "{1..3..+2}", "{1..3..02}", "plain.tar", "{9..11}", "{098..101}"]
for p in patterns:
    want = subprocess.run(["bash", "-c", f"printf '%s\\n' {p}"], capture_output=True,
                          text=True, check=True).stdout.splitlines()
    got = run("pattern", p, 1000)
    mine = [g["s"] for g in got[1:] if "s" in g]
    if not got or got[0].get("count") != len(want) or mine != want:
        fail(f"pattern {p}: {got[:1]} {mine[:8]}, bash: {want[:8]}")
print(f"{len(patterns)} patterns expand as bash expands them")
refusals = [("a{{b,c}", "inside a brace"), ("{a,{b,c}}", "inside a brace"),
            ("{a,b", "never closed"), ("a}b", "closes no"), ("{1..3}}", "closes no"),
            ("{a}", "neither"), ("{}", "neither"), ("{a..c}", "neither"),
            ("{0x1..3}", "neither"), ("{1..3..a}", "neither"), ("{1...3}", "neither"),
            ("{1..99999999999999999999}", "beyond"), ("{0..99}{0..99}{0..99}", "more than"),
            ("{0..100000}", "more than")]
for p, why in refusals:
    got = run("pattern", p, 100000, "count")
    if not got or "error" not in got[0] or why not in got[0]["error"]:
        fail(f"pattern {p} not refused for '{why}': {got}")
got = run("pattern", "{0..99}{0..999}", 100000, "count")
if got != [{"count": 100000}]:
    fail(f"a pattern of exactly the cap: {got}")
got = run("pattern", "{0..9999}{0..9999}", 10**8, "count")
if got != [{"count": 10**8}]:
    fail(f"10^8 expansions, counted: {got}")


# --- shard lists ---------------------------------------------------------------------
def paths_hash(paths):
    h = 0xcbf29ce484222325
    for p in paths:
        for c in p.encode() + b"\n":
            h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def check_list(label, inp, is_shards, paths=None, stems=None, error=None):
    got = run("shards", inp)
    if not got:
        return
    if got[0]["is_shards"] != is_shards:
        fail(f"{label}: is_shards {got[0]}, expected {is_shards}")
    if error is not None:
        if len(got) != 2 or "error" not in got[1] or error not in got[1]["error"]:
            fail(f"{label}: expected an error with '{error}', got {got[1:3]}")
        else:
            print(f"  {label}: {got[1]['error'][:150]}")
        return
    if len(got) < 2 or "n" not in got[1]:
        fail(f"{label}: {got[1:2]}")
        return
    mine = [g["path"] for g in got[2:]]
    if paths is not None and (mine != paths or got[1]["n"] != len(paths)):
        fail(f"{label}: paths {mine[:6]}, expected {paths[:6]}")
    if stems is not None and [g["stem"] for g in got[2:]] != stems:
        fail(f"{label}: stems {[g['stem'] for g in got[2:]][:6]}, expected {stems[:6]}")
    if got[1]["hash"] != paths_hash(mine):
        fail(f"{label}: hash {got[1]['hash']}, expected {paths_hash(mine)}")


d = P("shards")
os.makedirs(os.path.join(d, "sub"))
os.makedirs(os.path.join(d, "dir.tar"))
names = ["b.tar.gz", "C.TGZ", "a.tar", "d.tar.bz2", "e.tar.xz", "f.tar.zst", "g.Tar"]
for n in names + ["notes.txt", "sub/h.tar"]:
    open(os.path.join(d, n), "wb").close()
os.symlink("a.tar", os.path.join(d, "link.tar"))
os.symlink("missing", os.path.join(d, "dangling.tar"))
order = sorted(names + ["link.tar"], key=lambda s: s.encode())
check_list("folder", d, 1, [f"{d}/{n}" for n in order],
           [n[:n.lower().index(".t")] for n in order])
check_list("single tar", os.path.join(d, "a.tar"), 1, [os.path.join(d, "a.tar")], ["a"])
imgs = P("images")
os.makedirs(imgs)
open(os.path.join(imgs, "x.JPG"), "wb").close()
check_list("folder of images", imgs, 0, error="holds no tar shards")
open(os.path.join(imgs, "y.tar"), "wb").close()
check_list("folder of images and tars", imgs, -1, error="holds both tar shards (y.tar)")
os.makedirs(P("void"))
check_list("empty folder", P("void"), 0, error="holds no tar shards")

lst = P("list.txt")
with open(lst, "w") as f:
    f.write("\nshards/a.tar\r\n\n/abs/z.tar.xz\nshards/sub/h.tar\n")
check_list("list file", lst, 1, [f"{tmp}/shards/a.tar", "/abs/z.tar.xz",
                                 f"{tmp}/shards/sub/h.tar"], ["a", "z", "h"])
with open(lst, "w") as f:
    f.write("a.tar\nb.tar\nc.jpg\n")
check_list("list mixing tars and images", lst, 1, error="line 3: 'c.jpg' is not a tar shard")
with open(lst, "w") as f:
    f.write("c.jpg\nb.tar\n")
check_list("image list", lst, 0, error="line 1")
with open(lst, "w") as f:
    f.write("x/a.tar\ny/a.tar.gz\n")
check_list("same stem twice", lst, 1, error="have the same name 'a'")
with open(lst, "w") as f:
    f.write("\n\n")
check_list("blank list", lst, 0, error="lists no shards")
with open(P("model.h5"), "wb") as f:
    f.write(b"\x89HDF\r\n\x1a\n" + bytes(100))
check_list("HDF5 file", P("model.h5"), 0, error="not a tar shard")
os.mkfifo(P("fifo.tar"))
os.mkfifo(P("fifo.txt"))
check_list("FIFO named .tar", P("fifo.tar"), 1, [P("fifo.tar")])
check_list("FIFO list", P("fifo.txt"), 0, error="FIFO")

pat = "/nonexistent/{00000..09999}.tar"
got = run("shards", pat)
exp = [f"/nonexistent/{k:05d}.tar" for k in range(10000)]
if (not got or got[0]["is_shards"] != 1 or got[1].get("n") != 10000 or
        got[1]["hash"] != paths_hash(exp) or [g["path"] for g in got[2:]] != exp or
        got[-1]["stem"] != "09999"):
    fail(f"pattern {pat}: {got[:3]}")
check_list("pattern with a stem twice", P("{a,b}/x.tar"), 1, error="have the same name 'x'")
check_list("pattern x.tar{,.gz}", P("x.tar{,.gz}"), 1, error="have the same name 'x'")
check_list("pattern of images", P("{1..3}.jpg"), 1, error="not a tar shard")
check_list("nested pattern", P("{a,{b}}.tar"), 1, error="inside a brace")
check_list("missing input", P("nope.txt"), 0, error="No such file")
check_list("missing tar", P("nope.tar"), 1, error="No such file")
check_list("empty stem", P(".tar"), 1, error="No such file")
open(P(".tar"), "wb").close()
check_list("empty stem", P(".tar"), 1, error="no name before its suffix")

shutil.rmtree(tmp)
if failures:
    print(f"test_tarshard: {len(failures)} failure(s)")
    sys.exit(1)
print("test_tarshard: all checks passed")
