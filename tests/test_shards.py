"""webdataset tar shards end to end: per-shard outputs, the manifest, bad
samples and broken tars, PNG and WebP members, growing a folder with --resume.

Shards are written with Python's tarfile in the webdataset layout: JPEG, PNG
(gray, gray+alpha, palette with transparency, RGBA, 16-bit; interlaced ones
in test_image_formats) and
WebP (lossy, lossless, alpha, animated) members next to .json/.txt/.cls, keys
in folders, a multi-dot name, a gzip'd shard, an empty one, one cut in the
middle of a header, one with a corrupt header, a sample without an image, a
duplicate key, a corrupt image, an image over --max-file-mb, formats under
the wrong extension, and a listed shard that does not exist.

The rows each shard must give are worked out here, independently of vitrun,
from webdataset's rules (a sample is the run of adjacent members sharing the
key: the path up to the first dot of its last component; the image is the
first member whose extension is an image key); every scored row's logits and
embedding are compared with the float64 numpy reference run on Pillow's
Image.open(f).convert('RGB') pixels. Run on one process and, with --mpiexec,
on dp 2 x pp 2 ranks (the shard queue between replicas) and tp 2: every
shard's file row by row, the manifest line by line.
"""
import io
import os
import shlex
import shutil
import sys
import tarfile
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))
import checkpoints  # noqa: E402
import vit_ref  # noqa: E402
from testlib import PHOTOS, PYTHON, Checker, jpeg_test_args, run  # noqa: E402

HALF = (0.5, 0.5, 0.5)
IMAGE_KEYS = ("jpg", "jpeg", "png", "webp")
LIMIT_MB = 1


def encode(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def images(rng):
    """name -> bytes of every kind of image member the shards hold."""
    from PIL import Image
    srcs = [Image.open(p).convert("RGB") for p in PHOTOS]

    def crop(i):
        im = srcs[i % len(srcs)]
        w, h = im.size
        cw, ch = int(rng.integers(40, 160)), int(rng.integers(40, 160))
        x0, y0 = int(rng.integers(0, w - cw)), int(rng.integers(0, h - ch))
        return im.crop((x0, y0, x0 + cw, y0 + ch))

    out = {}
    for i in range(6):
        out[f"jpeg{i}"] = encode(crop(i), "JPEG", quality=88)
    out["jpeg_gray"] = encode(crop(7).convert("L"), "JPEG", quality=90)
    out["png_rgb"] = encode(crop(8), "PNG")
    out["png_l"] = encode(crop(9).convert("L"), "PNG")
    out["png_la"] = encode(crop(10).convert("LA"), "PNG")
    out["png_rgba"] = encode(crop(11).convert("RGBA"), "PNG")
    p = crop(12).convert("P", palette=Image.ADAPTIVE, colors=16)
    out["png_p_trns"] = encode(p, "PNG", transparency=3)
    a16 = (np.asarray(crop(14).convert("L"), dtype=np.uint16) * 4).astype(np.uint16)
    out["png_i16"] = encode(Image.fromarray(a16, "I;16"), "PNG")
    out["webp_lossy"] = encode(crop(15), "WEBP", quality=80)
    out["webp_lossless"] = encode(crop(16), "WEBP", lossless=True)
    rgba = crop(17).convert("RGBA")
    arr = np.asarray(rgba).copy()
    arr[::3, :, 3] = 0  # rows fully transparent: their RGB must come out as decoded
    out["webp_alpha"] = encode(Image.fromarray(arr, "RGBA"), "WEBP", lossless=True)
    f0 = crop(18)
    f1 = crop(19).resize(f0.size)
    out["webp_anim"] = encode(f0, "WEBP", save_all=True, append_images=[f1], duration=100)
    return out


def member(t, name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = 1700000000
    t.addfile(ti, io.BytesIO(data))


def write_shards(root, im, rng):
    """Writes the shards; returns (list of shard paths, their stems)."""
    os.makedirs(root)
    paths = []

    def tar(name, mode, members):
        path = os.path.join(root, name)
        with tarfile.open(path, mode, format=tarfile.PAX_FORMAT) as t:
            for n, d in members:
                member(t, n, d)
        paths.append(path)
        return path

    # 00000: JPEGs with their metadata, keys in folders, a multi-dot name
    m = []
    for i in range(5):
        key = f"part/{i:03d}" if i % 2 else f"{i:03d}"
        m += [(key + ".json", b'{"caption": "x"}'), (key + ".jpg", im[f"jpeg{i}"]),
              (key + ".cls", str(i % 7).encode()), (key + ".txt", b"a photo")]
    m += [("dots.v2.jpg", im["jpeg5"])]  # key "dots", extension "v2.jpg": no image
    m += [("gray.jpeg", im["jpeg_gray"]), ("gray.cls", b" 3\n")]
    tar("00000.tar", "w", m)
    # 00001.tar.gz: PNG in its modes
    m = [(f"{k}.png", im[k]) for k in ("png_rgb", "png_l", "png_la", "png_rgba",
                                        "png_p_trns", "png_i16")]
    tar("00001.tar.gz", "w:gz", m)
    # 00002: WebP, and formats under another name (the bytes decide)
    m = [(f"{k}.webp", im[k]) for k in ("webp_lossy", "webp_lossless", "webp_alpha",
                                         "webp_anim")]
    m += [("png_as_jpg.jpg", im["png_rgb"]), ("webp_as_png.png", im["webp_lossy"]),
          ("jpeg_as_webp.webp", im["jpeg1"])]
    tar("00002.tar", "w", m)
    # 00003: empty
    tar("00003.tar", "w", [])
    # 00004: bad samples
    big = rng.integers(0, 256, (LIMIT_MB << 20) + 1000, dtype=np.uint8).tobytes()
    m = [("ok1.jpg", im["jpeg2"]), ("noimage.json", b"{}"), ("noimage.txt", b"t"),
         ("corrupt.jpg", b"\xff\xd8\xff\xe0" + bytes(200)), ("huge.jpg", big),
         ("dup.jpg", im["jpeg3"]), ("between.jpg", im["jpeg4"]), ("dup.jpg", im["jpeg0"]),
         ("notimage.jpg", b"plain text, not an image"), ("ok2.png", im["png_rgb"])]
    tar("00004.tar", "w", m)
    # 00005: cut inside the header of its fourth member's tar record
    p = tar("00005.tar", "w", [(f"c{i}.jpg", im[f"jpeg{i}"]) for i in range(4)])
    data = open(p, "rb").read()
    with tarfile.open(p) as t:
        offs = [x.offset for x in t.getmembers()]
    open(p, "wb").write(data[:offs[3] + 100])
    # 00006: a corrupt header (checksum) after two good samples
    p = tar("00006.tar", "w", [(f"h{i}.jpg", im[f"jpeg{i}"]) for i in range(4)])
    data = bytearray(open(p, "rb").read())
    with tarfile.open(p) as t:
        offs = [x.offset for x in t.getmembers()]
    data[offs[2] + 150] ^= 0x5A  # inside the checksum field
    open(p, "wb").write(bytes(data))
    # a listed shard that does not exist
    paths.append(os.path.join(root, "00007.tar"))
    return paths


def pillow_opens(data):
    from PIL import Image
    try:
        Image.open(io.BytesIO(data)).convert("RGB")
        return True
    except Exception:
        return False


def expected_rows(path, stem):
    """[(name, ok, error-substring, image bytes, cls)] from webdataset's rules,
    with Python's tarfile; a broken tar ends with a row for the shard."""
    rows, seen, cur, members = [], {}, None, []
    broke, end = None, 0
    try:
        t = tarfile.open(path, "r:*")
        tf_members = []
        while True:
            try:
                x = t.next()
            except (tarfile.ReadError, EOFError) as e:
                broke = str(e) or "broken"
                break
            if x is None:
                break
            if x.isfile():
                tf_members.append((x.name, t.extractfile(x).read()))
            end = x.offset_data + (x.size + 511) // 512 * 512
        # Python's tarfile takes a header with a bad checksum past the first
        # for the end: anything but zero blocks after the last member is not
        raw = open(path, "rb").read()
        if path.endswith(".gz"):
            import gzip
            raw = gzip.decompress(raw)
        if not broke and any(raw[end:]):
            broke = "corrupt header"
    except tarfile.ReadError:
        return [(stem + "/", 0, "tar", None, None)]

    def flush(key, mem):
        if key is None:
            return
        name = f"{stem}/{key}"
        exts = [e for e, _ in mem]
        img = next(((e, d) for e, d in mem if e.lower() in IMAGE_KEYS), None)
        cls = next((int(d.decode().strip()) for e, d in mem if e == "cls"), None)
        if key in seen:
            rows.append((name, 0, "duplicate", None, cls))
        elif img is None:
            rows.append((name, 0, "no image", None, cls))
        elif len(img[1]) > (LIMIT_MB << 20):
            rows.append((name, 0, "max-file-mb", None, cls))
        elif not pillow_opens(img[1]):
            rows.append((name, 0, "", None, cls))  # a reason of vitrun's own
        else:
            rows.append((name, 1, "", img[1], cls))
        seen[key] = True

    for name, data in tf_members:
        base = name.rsplit("/", 1)
        last = base[-1]
        if "." not in last:
            continue
        key = (base[0] + "/" if len(base) == 2 else "") + last.split(".", 1)[0]
        ext = last.split(".", 1)[1]
        if key != cur:
            flush(cur, members)
            cur, members = key, []
        members.append((ext, data))
    flush(cur, members)
    if broke:
        rows.append((stem + "/", 0, "", None, None))
    return rows


def pil_input(data, size):
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB").resize((size, size),
                                                                         Image.BILINEAR))


def read(path):
    with h5py.File(path) as f:
        return {k: f[k][...] for k in f}


def manifest(out):
    import csv
    with open(os.path.join(out, "manifest.csv")) as f:
        return list(csv.DictReader(f))


def main():
    a, skip = jpeg_test_args()
    if skip:
        return skip
    c = Checker("tar shards: per-shard outputs, bad samples, PNG/WebP, manifest, --resume" +
                (", dp 2 x pp 2" if a.mpiexec else ""))
    rng = np.random.default_rng(18)
    tmp = tempfile.mkdtemp(prefix="vitrun_shards_")
    try:
        im = images(rng)
        paths = write_shards(os.path.join(tmp, "shards"), im, rng)
        stems = [os.path.basename(p).split(".")[0] for p in paths]
        listfile = os.path.join(tmp, "shards.txt")
        with open(listfile, "w") as f:
            f.write("\n".join(os.path.relpath(p, tmp) for p in paths) + "\n")

        image, patch, D, H, M, L, K = 32, 8, 48, 4, 96, 3, 7
        P = checkpoints.random_params(image, patch, 3, D, L, H, M, K, 1e-6, seed=5)
        src = checkpoints.export_timm(P, os.path.join(tmp, "vit.safetensors"))
        model = os.path.join(tmp, "model.h5")
        run([PYTHON, os.path.join(a.scripts, "convert_checkpoint.py"), "--format", "timm", src,
             model, "--heads", str(H), "--preprocess", "hf", "--act", "gelu", "--eps", "1e-6"])
        common = ["--model", model, "--batch", "3", "--topk", "3", "--logits", "--embeddings",
                  "--threads", "1", "--max-file-mb", str(LIMIT_MB), "--labels-from", "cls",
                  "--progress", "off"]

        # what each shard must give, and the reference for every image
        want = {s: expected_rows(p, s) if os.path.exists(p) else None
                for p, s in zip(paths, stems)}
        imgs = [r[3] for s in stems if want[s] for r in want[s] if r[1]]
        px = np.stack([pil_input(d, image) for d in imgs])
        ref = vit_ref.forward(P, vit_ref.normalize_u8(px, HALF, HALF))
        ref_of = {}
        k = 0
        for s in stems:
            for r in want[s] or []:
                if r[1]:
                    ref_of[r[0]] = (ref["logits"][k], ref["embedding"][k])
                    k += 1

        def check_folder(out, label):
            rows_ok = True
            got_l, ref_l, got_e, ref_e = [], [], [], []
            why = ""
            for s in stems:
                w = want[s]
                h5 = os.path.join(out, s + ".h5")
                if w is None:
                    if os.path.exists(h5):
                        rows_ok, why = False, f"{s}: an output for a missing shard"
                    continue
                if not os.path.exists(h5):
                    rows_ok, why = False, f"{s}.h5 missing"
                    continue
                r = read(h5)
                emb = np.load(os.path.join(out, s + ".npy"))
                names = [x.decode() for x in r["path"]]
                if names != [x[0] for x in w] or emb.shape[0] != len(names):
                    rows_ok, why = False, f"{s}: rows {names} vs {[x[0] for x in w]}"
                    continue
                for i, x in enumerate(w):
                    err = r["error"][i].decode()
                    if r["ok"][i] != x[1] or (x[2] and x[2] not in err):
                        rows_ok, why = False, f"{x[0]}: ok {r['ok'][i]} '{err}', want {x[1]} '{x[2]}'"
                    if x[1] and r["ok"][i]:
                        got_l.append(r["logits"][i])
                        ref_l.append(ref_of[x[0]][0])
                        got_e.append(emb[i])
                        ref_e.append(ref_of[x[0]][1])
            c.check(f"{label}: each shard's rows in its order, bad samples with ok=0 and the "
                    "reason", rows_ok, why or f"{sum(len(w or []) for w in want.values())} rows")
            if got_l:
                c.close(f"{label}: logits of the {len(got_l)} images (JPEG, PNG, WebP) vs numpy "
                        "reference on Pillow's convert('RGB')", np.array(got_l), np.array(ref_l),
                        2e-5)
                c.close(f"{label}: embeddings in STEM.npy (row i = row i of the table)",
                        np.array(got_e), np.array(ref_e), 2e-5)
            m = manifest(out)
            by = {x["shard"]: x for x in m}
            man_ok = len(m) == len(stems) and all(
                (by[s]["status"] == "unreadable") == (want[s] is None) for s in stems)
            for s in stems:
                if want[s] is None or not man_ok:
                    continue
                broken = any(x[0] == s + "/" for x in want[s])
                man_ok &= (by[s]["status"] == ("broken" if broken else "ok") and
                           int(by[s]["rows"]) == len(want[s]) and
                           int(by[s]["failed_rows"]) == sum(1 for x in want[s] if not x[1]) and
                           by[s]["files"] == f"{s}.h5;{s}.npy")
            c.check(f"{label}: manifest.csv, one line per shard (rows, failed rows, status, "
                    "files; the missing shard 'unreadable')", man_ok,
                    "; ".join(f"{x['shard']} {x['status']} {x['rows']}/{x['failed_rows']}"
                              for x in m))
            left = os.listdir(os.path.join(out, ".vitrun", "tmp"))
            claims = [x for x in os.listdir(os.path.join(out, ".vitrun", "claims"))
                      if not x.startswith(".clock")]
            c.check(f"{label}: no temporary files or claims left", not left and not claims,
                    f"{left} {claims}")

        # 1. one process, the list of shards
        out1 = os.path.join(tmp, "out1") + "/"
        p = run([a.vitrun, "--input", listfile, "--output", out1, "--retries", "1"] + common,
                check=False)
        c.check("one process: exit 0, the unreadable shard named", p.returncode == 0 and
                "00007" in p.stderr, p.stderr.strip()[-300:])
        check_folder(out1, "one process")
        # accuracy over the samples with a .cls, against the reference's own top-1
        judged = [(r[0], r[4]) for s in stems for r in (want[s] or []) if r[1] and r[4] is not None]
        top1 = sum(int(np.argmax(ref_of[n][0]) == lab) for n, lab in judged)
        line = next((ln for ln in p.stderr.splitlines() if "accuracy" in ln), "")
        c.check("--labels-from cls: accuracy over the samples with a .cls",
                f"over {len(judged)} scored" in line and
                f"top-1 {100 * top1 / len(judged):.2f}% ({top1})" in line, line)

        # 2. the same on dp 2 x pp 2: replicas take shards from the folder's queue
        if a.mpiexec:
            out4 = os.path.join(tmp, "out4") + "/"
            cmd = shlex.split(a.mpiexec) + [a.np_flag, "4"] + shlex.split(a.mpi_flags) + \
                [a.vitrun, "--input", listfile, "--output", out4, "--dp", "2", "--pp", "2",
                 "--retries", "0"] + common[:-2] + ["--progress", "log", "--progress-every",
                                                    "0.01"]
            p = run(cmd, check=False, timeout=300)
            c.check("dp 2 x pp 2: exit 0", p.returncode == 0, p.stderr.strip()[-300:])
            prog = [ln for ln in p.stderr.splitlines() if ln.startswith("vitrun: progress")]
            n_rows = sum(len(w) for w in want.values() if w)
            c.check("dp 2 x pp 2: one progress line for the job (rank 0), ending at every "
                    "readable shard and row", prog and f"{len(stems) - 1}/{len(stems)} shards" in
                    prog[-1] and f" {n_rows} images" in prog[-1], prog[-1] if prog else "none")
            check_folder(out4, "dp 2 x pp 2")
            same = all(np.array_equal(np.load(os.path.join(out1, s + ".npy")),
                                      np.load(os.path.join(out4, s + ".npy")))
                       for s in stems if want[s] is not None)
            c.check("dp 2 x pp 2: embeddings bit-identical to one process", same)
            reps = sorted({x["replica"] for x in manifest(out4) if x["status"] != "unreadable"})
            c.check("dp 2 x pp 2: both replicas wrote shards", reps == ["0", "1"], str(reps))
            # tensor parallel: TP rank 0 of the first stage reads, its peer gets the pixels
            out2 = os.path.join(tmp, "out_tp") + "/"
            cmd = shlex.split(a.mpiexec) + [a.np_flag, "2"] + shlex.split(a.mpi_flags) + \
                [a.vitrun, "--input", listfile, "--output", out2, "--tp", "2",
                 "--retries", "0"] + common
            p = run(cmd, check=False, timeout=300)
            c.check("tp 2: exit 0", p.returncode == 0, p.stderr.strip()[-300:])
            check_folder(out2, "tp 2")

        # 3. a folder grows with its dataset: first 3 shards, then --resume over all
        grow = os.path.join(tmp, "grow") + "/"
        pattern = os.path.join(tmp, "shards", "{00000,00002,00003}.tar")
        p = run([a.vitrun, "--input", pattern, "--output", grow] + common, check=False)
        c.check("brace pattern: exit 0, 3 shards", p.returncode == 0 and len(manifest(grow)) == 3,
                p.stderr.strip()[-200:])
        before = {s: os.stat(os.path.join(grow, s + ".h5")).st_ino for s in ("00000", "00002")}
        p = run([a.vitrun, "--input", listfile, "--output", grow, "--retries", "0"] + common,
                check=False)
        c.check("the same folder again without --resume: exit 2, says --resume",
                p.returncode == 2 and "--resume" in p.stderr, p.stderr.strip()[-200:])
        p = run([a.vitrun, "--input", listfile, "--output", grow, "--resume", "--retries", "0"] +
                common, check=False)
        m = manifest(grow)
        done_again = [x["shard"] for x in m[3:] if x["shard"] in ("00000", "00002", "00003")]
        c.check("--resume over more shards: only the new ones are done", p.returncode == 0 and
                not done_again and len(m) == len(stems) and
                all(os.stat(os.path.join(grow, s + ".h5")).st_ino == i
                    for s, i in before.items()), f"exit {p.returncode}, manifest "
                f"{[x['shard'] for x in m]}")
        check_folder(grow, "grown folder")
        p = run([a.vitrun, "--input", listfile, "--output", grow, "--resume"] + common +
                ["--topk", "2"], check=False)
        c.check("--resume with other options: exit 2 naming the difference",
                p.returncode == 2 and "topk" in p.stderr, p.stderr.strip()[-200:])

        # 4. usage
        for what, extra, needle in [
                ("a file as --output", ["--output", os.path.join(tmp, "x.h5")], "folder"),
                ("--labels FILE", ["--output", os.path.join(tmp, "o5/"), "--labels", listfile],
                 "--labels-from cls")]:
            p = run([a.vitrun, "--input", listfile] + extra + common[:-4], check=False)
            c.check(f"tar shards with {what}: exit 2", p.returncode == 2 and needle in p.stderr,
                    p.stderr.strip()[-200:])
        # options of tar shards refused elsewhere (exit 2, naming the option)
        for flag in (["--claim"], ["--output-format", "csv"], ["--image-keys", "png"],
                     ["--labels-from", "cls"]):
            p = run([a.vitrun, "--model", model, "--synthetic", "2", "--output",
                     os.path.join(tmp, "syn.h5")] + flag, check=False)
            c.check(f"{flag[0]} without tar shards: exit 2 naming it",
                    p.returncode == 2 and flag[0] in p.stderr, p.stderr.strip()[-160:])
        p = run([a.vitrun, "--model", model, "--input", listfile, "--no-output", "--claim"],
                check=False)
        c.check("--claim without an output folder: exit 2", p.returncode == 2 and
                "--claim" in p.stderr, p.stderr.strip()[-160:])
        p = run([a.vitrun, "--input", os.path.join(tmp, "shards", "00000.tar"), "--output",
                 os.path.join(tmp, "one") + "/", "--image-keys", "png;webp"] + common, check=False)
        r = read(os.path.join(tmp, "one", "00000.h5"))
        c.check("--image-keys png;webp: the JPEG samples have no image", p.returncode == 0 and
                not r["ok"].any(), f"exit {p.returncode}, ok {r['ok'].tolist() if 'ok' in r else ''}")
    finally:
        if c.failed == 0:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"(kept {tmp})")
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
