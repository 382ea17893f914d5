"""JPEG inputs end to end: directory walks, list files, broken files, --strict,
decoding threads, and the distributed engine reading JPEGs.

A corpus of real photographs (Debian's matplotlib and scikit-learn sample
images) cropped to many sizes and re-encoded as baseline, progressive,
grayscale and CMYK JPEGs, in nested folders with mixed-case extensions and
files that must be ignored, plus broken files: empty, truncated, a GIF named
.jpg, a corrupt header, files cut before the frame header, a decompression
bomb (header claims 40000x40000) and
a dangling symlink; a tree 1500 folders deep; a folder without JPEGs.
Checks: rows in path order; every good file scored with
logits within 2e-5 of the float64 numpy reference run on Pillow's
preprocessing of the same file; every broken file recorded with ok = 0 and
its reason; exit 0 with the failure count; --strict exits 2 naming the file;
list files resolve relative paths; decoding threads do not change a bit;
with --mpiexec, TP ranks that split the decoding and replicas give the
single-process rows.
"""
import os
import shlex
import shutil
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))
import checkpoints  # noqa: E402
import vit_ref  # noqa: E402
from testlib import PHOTOS, PYTHON, Checker, jpeg_test_args, rel_diff, run  # noqa: E402

HALF = (0.5, 0.5, 0.5)
BAD = {  # name -> a piece of the reason vitrun must give
    "broken/empty.jpg": "empty file",
    "broken/truncated.jpg": "truncated",
    "broken/really_a_gif.jpg": "not an image vitrun reads: it is a GIF image",
    "broken/bad_header.JPG": "corrupt JPEG header",
    "broken/bomb.jpg": "over the limit",
    "broken/dangling.jpg": "cannot open",
    # tables, then the end: TurboJPEG says "fine" and gives no size
    "broken/cut20.jpg": "end before the frame header",
    "broken/tables_only.jpg": "end before the frame header",
}


def make_corpus(root, rng):
    from PIL import Image
    good = []
    srcs = [Image.open(p).convert("RGB") for p in PHOTOS]
    layout = ["a.jpg", "a/x.jpg", "a/b/deep.jpeg", "a-b.JPG", "B/upper.JpEg", "b/lower.jpg"]
    layout += [f"many/img{i:03d}.jpg" for i in range(30)]
    for i, name in enumerate(layout):
        im = srcs[i % 3]
        w, h = im.size
        cw, ch = int(rng.integers(40, w // 2)), int(rng.integers(40, h // 2))
        x0, y0 = int(rng.integers(0, w - cw)), int(rng.integers(0, h - ch))
        im = im.crop((x0, y0, x0 + cw, y0 + ch))
        kind = i % 5
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if kind == 1:
            im.save(path, "JPEG", quality=85, progressive=True)
        elif kind == 2:
            im.convert("L").save(path, "JPEG", quality=90)
        elif kind == 3:
            im.convert("CMYK").save(path, "JPEG", quality=90)
        else:
            im.save(path, "JPEG", quality=90)
        good.append(name)
    # PNG and WebP are walked too, and read by their bytes whatever the name
    srcs[0].resize((16, 16)).save(os.path.join(root, "a", "taken.png"))
    srcs[1].resize((20, 20)).save(os.path.join(root, "a", "really_a_png.jpg"), "PNG")
    srcs[2].resize((18, 14)).save(os.path.join(root, "b", "photo.WebP"), "WEBP", quality=80)
    good += ["a/taken.png", "a/really_a_png.jpg", "b/photo.WebP"]
    # files the walk must ignore
    with open(os.path.join(root, "notes.txt"), "w") as f:
        f.write("not an image\n")
    with open(os.path.join(root, "a", "x.jpgx"), "w") as f:
        f.write("not listed\n")
    # broken files
    os.makedirs(os.path.join(root, "broken"))
    sample = os.path.join(root, layout[0])
    data = open(sample, "rb").read()
    open(os.path.join(root, "broken/empty.jpg"), "wb").close()
    open(os.path.join(root, "broken/truncated.jpg"), "wb").write(data[: len(data) * 6 // 10])
    srcs[1].resize((20, 20)).save(os.path.join(root, "broken/really_a_gif.jpg"), "GIF")
    # a frame header declaring 0-bit samples, then nothing
    open(os.path.join(root, "broken/bad_header.JPG"), "wb").write(
        b"\xff\xd8\xff\xc0\x00\x0b\x00\x00\x10\x00\x10\x01\x01\x11\x00\xff\xd9")
    bomb = bytearray(data)
    i = 2
    while i < len(bomb):  # patch the frame header's height and width
        marker, seg = bomb[i + 1], (bomb[i + 2] << 8) | bomb[i + 3]
        if marker in (0xC0, 0xC2):
            bomb[i + 5:i + 9] = (40000).to_bytes(2, "big") * 2
            open(os.path.join(root, "broken/tables_only.jpg"), "wb").write(data[:i])
            break
        i += 2 + seg
    open(os.path.join(root, "broken/bomb.jpg"), "wb").write(bytes(bomb))
    open(os.path.join(root, "broken/cut20.jpg"), "wb").write(data[:20])
    os.symlink(os.path.join(root, "does-not-exist.jpg"), os.path.join(root, "broken/dangling.jpg"))
    return good


def pil_input(path, size):
    """HF preprocessing with Pillow: resize straight to size x size, bilinear."""
    from PIL import Image
    return np.asarray(Image.open(path).convert("RGB").resize((size, size), Image.BILINEAR))


def read(out):
    with h5py.File(out) as f:
        return {k: f[k][...] for k in f}


def main():
    a, skip = jpeg_test_args()
    if skip:
        return skip
    c = Checker("JPEG inputs: walk, lists, broken files, threads" +
                (", MPI" if a.mpiexec else ""))
    rng = np.random.default_rng(7)
    tmp = tempfile.mkdtemp(prefix="vitrun_jpeg_")
    try:
        root = os.path.join(tmp, "images")
        good = make_corpus(root, rng)
        image, patch, D, H, M, L, K = 32, 8, 48, 4, 96, 3, 7
        P = checkpoints.random_params(image, patch, 3, D, L, H, M, K, 1e-6, seed=3)
        src = checkpoints.export_timm(P, os.path.join(tmp, "vit.safetensors"))
        model = os.path.join(tmp, "model.h5")
        run([PYTHON, os.path.join(a.scripts, "convert_checkpoint.py"), "--format", "timm", src,
             model, "--heads", str(H), "--preprocess", "hf", "--shards", "2", "--act", "gelu",
             "--eps", "1e-6"])
        common = ["--model", model, "--batch", "5", "--topk", "3", "--logits", "--threads", "1"]

        # 1. the directory
        out = os.path.join(tmp, "dir.h5")
        p = run([a.vitrun, "--input", root, "--output", out] + common)
        r = read(out)
        paths = [x.decode() for x in r["path"]]
        want = sorted(good + list(BAD))
        c.check("walk: .jpg/.jpeg/.png/.webp in any case, nested, others ignored, sorted by path",
                paths == want, f"{len(paths)} rows; first {paths[:4]}")
        ok = dict(zip(paths, r["ok"]))
        err = dict(zip(paths, [x.decode() for x in r["error"]]))
        wrong = [f"{n}: '{err.get(n)}'" for n, why in BAD.items()
                 if ok.get(n) != 0 or why not in err.get(n, "")]
        c.check("broken files recorded with ok=0 and the reason", not wrong,
                "; ".join(wrong) or ", ".join(f"{n.split('/')[1]}: {err[n]}" for n in BAD))
        c.check("good files all scored", all(ok[n] == 1 for n in good),
                f"{sum(ok[n] == 1 for n in good)}/{len(good)}")
        c.check("exit 0 and the failure count in the summary",
                p.returncode == 0 and f"{len(BAD)} failed" in p.stderr, p.stderr.strip()[-160:])
        c.check("no leftovers: the output has its name, no journal, no manifest",
                os.path.exists(out) and not any(os.path.exists(out + s) for s in
                                                (".part", ".journal", ".inputs")))
        idx = [paths.index(n) for n in good]
        px = np.stack([pil_input(os.path.join(root, n), image) for n in good])
        ref = vit_ref.forward(P, vit_ref.normalize_u8(px, HALF, HALF))["logits"]
        c.close("logits of the good files vs numpy reference on Pillow's pixels",
                r["logits"][idx], ref, 2e-5)

        # 1b. --labels: accuracy against labels made from the reference's own top-1
        # (right on even rows, wrong on odd ones), broken rows not counted
        ref_top1 = ref.argmax(1)
        truth, right = [], 0
        for name in paths:
            lab = 0
            if name in good:
                g = good.index(name)
                lab = int(ref_top1[g]) if g % 2 == 0 else int((ref_top1[g] + 1) % K)
                right += g % 2 == 0
            truth.append(f"{lab} {name}")
        lab_file = os.path.join(tmp, "truth.txt")
        with open(lab_file, "w") as f:
            f.write("\n".join(truth) + "\n")
        p = run([a.vitrun, "--input", root, "--output", os.path.join(tmp, "acc.h5"),
                 "--labels", lab_file] + common)
        want = f"top-1 {100 * right / len(good):.2f}% ({right})"
        line = next((ln for ln in p.stderr.splitlines() if "accuracy" in ln), "")
        c.check("--labels: top-1 accuracy as expected, broken rows not counted",
                want in line and f"over {len(good)} scored" in line, line)
        with open(lab_file, "w") as f:
            f.write("\n".join(reversed(truth)) + "\n")
        p = run([a.vitrun, "--input", root, "--output", os.path.join(tmp, "acc2.h5"),
                 "--labels", lab_file] + common, check=False)
        c.check("--labels in another order: exit 2 naming the line",
                p.returncode == 2 and "truth.txt:1" in p.stderr, p.stderr.strip()[-160:])
        # faults at the end of the file are found before anything is scored
        last = len(truth)
        for what, lines, needle in [
                ("a line short", truth[:-1], f"{last - 1} labels for {last} inputs"),
                ("a line too many", truth + ["3 extra.jpg"], f"truth.txt:{last + 1}: more lines"),
                (f"a label of {K} on the last line", truth[:-1] + [f"{K} {paths[-1]}"],
                 f"truth.txt:{last}: expected 'LABEL PATH'"),
                ("the last two lines swapped", truth[:-2] + truth[:-3:-1],
                 f"truth.txt:{last - 1}: names")]:
            with open(lab_file, "w") as f:
                f.write("\n".join(lines) + "\n")
            o = os.path.join(tmp, "acc3.h5")
            p = run([a.vitrun, "--input", root, "--output", o, "--labels", lab_file] + common,
                    check=False)
            left = [x for x in (".part", ".journal", "") if os.path.exists(o + x)]
            c.check(f"--labels with {what}: exit 2 before scoring, naming the line",
                    p.returncode == 2 and needle in p.stderr and not left
                    and "images in" not in p.stderr,
                    f"exit {p.returncode}, left {left}: {p.stderr.strip()[-170:]}")

        # 1b. a tree 1500 folders deep (a 3000-character path), and an empty one
        deep = os.path.join(tmp, "deep")
        bottom = deep
        os.mkdir(deep)
        for _ in range(1500):  # os.makedirs recurses once per level, past Python's limit
            bottom = os.path.join(bottom, "a")
            os.mkdir(bottom)
        shutil.copy(os.path.join(root, good[0]), os.path.join(deep, "top.jpg"))
        shutil.copy(os.path.join(root, good[0]), os.path.join(bottom, "x.jpg"))
        dout = os.path.join(tmp, "deep.h5")
        dp = run([a.vitrun, "--input", deep, "--output", dout] + common, check=False)
        dr = read(dout) if dp.returncode == 0 else {"path": [], "logits": np.zeros((0, K))}
        dpaths = [x.decode() for x in dr["path"]]
        c.check("a tree 1500 folders deep: walked, both files scored alike",
                dpaths == ["a/" * 1500 + "x.jpg", "top.jpg"]
                and np.array_equal(dr["logits"][0], dr["logits"][1]),
                f"exit {dp.returncode}, {len(dpaths)} rows"
                + (f", deepest path {len(dpaths[0])} characters" if dpaths else ""))
        os.remove(os.path.join(bottom, "x.jpg"))
        while bottom != deep:  # shutil.rmtree too recurses once per level
            os.rmdir(bottom)
            bottom = os.path.dirname(bottom)
        empty = os.path.join(tmp, "empty")
        os.makedirs(os.path.join(empty, "sub"))
        eout = os.path.join(tmp, "empty.h5")
        ep = run([a.vitrun, "--input", empty, "--output", eout] + common, check=False)
        left = [s for s in (".inputs", ".inputs.tmp", ".journal", ".part", "")
                if os.path.exists(eout + s)]
        c.check("a folder without JPEGs: exit 2 naming it, nothing left behind",
                ep.returncode == 2 and "holds no .jpg" in ep.stderr and not left,
                f"exit {ep.returncode}, left {left}: {ep.stderr.strip()[:160]}")

        # 2. --strict
        p = run([a.vitrun, "--input", root, "--output", os.path.join(tmp, "strict.h5"),
                 "--strict", "--quiet"] + common, check=False)
        first_bad = sorted(BAD)[0]
        c.check("--strict: exit 2 naming the first broken file",
                p.returncode == 2 and first_bad in p.stderr,
                f"exit {p.returncode}: {p.stderr.strip()[:200]}")

        # 3. a list file: relative to its folder, absolute, blank and CRLF lines, missing
        lst_dir = os.path.join(tmp, "lists")
        os.makedirs(lst_dir)
        names = good[:6]
        lines = [os.path.relpath(os.path.join(root, names[0]), lst_dir),
                 os.path.join(root, names[1]), "", os.path.relpath(os.path.join(root, names[2]),
                                                                   lst_dir) + "\r"]
        lines += [os.path.join(root, n) for n in names[3:]] + ["missing/nothere.jpg"]
        lst = os.path.join(lst_dir, "list.txt")
        with open(lst, "w", newline="") as f:
            f.write("\n".join(lines) + "\n")
        out2 = os.path.join(tmp, "list.h5")
        run([a.vitrun, "--input", lst, "--output", out2, "--quiet"] + common)
        r2 = read(out2)
        c.check("list: rows in list order, missing file recorded",
                len(r2["ok"]) == 7 and list(r2["ok"]) == [1] * 6 + [0] and
                "cannot open" in r2["error"][6].decode(), str([x.decode() for x in r2["error"]]))
        d = rel_diff(r2["logits"][:6], r["logits"][[paths.index(n) for n in names]])
        c.check("list: same logits as the directory run (other batch positions)", d <= 1e-6,
                f"worst relative difference {d:.2e} (bound 1e-6)")

        # 4. decoding threads change nothing; progress lines in log mode
        for dec in ["0", "3"]:
            out3 = os.path.join(tmp, f"dec{dec}.h5")
            p = run([a.vitrun, "--input", root, "--output", out3, "--decoders", dec,
                     "--progress", "log", "--progress-every", "0.001"] + common)
            r3 = read(out3)
            same = all(np.array_equal(r3[k], r[k]) for k in r)
            c.check(f"--decoders {dec}: output identical", same)
        lines = [ln for ln in p.stderr.splitlines() if ln.startswith("vitrun: progress")]
        c.check("--progress log prints progress lines", len(lines) >= 2,
                lines[-1] if lines else p.stderr[:200])

        # 5. distributed: TP ranks split the decoding; replicas split the batches
        if a.mpiexec:
            for layout in (["--tp", "2"], ["--dp", "2"], ["--pp", "2"]):
                out4 = os.path.join(tmp, f"mpi{'_'.join(layout)}.h5")
                run([a.mpiexec, a.np_flag, "2"] + shlex.split(a.mpi_flags) +
                    [a.vitrun, "--input", root, "--output", out4, "--quiet"] + common + layout,
                    timeout=300)
                r4 = read(out4)
                cols = all(np.array_equal(r4[k], r[k]) for k in ("path", "ok", "error"))
                d = rel_diff(r4["logits"], r["logits"])
                c.check(f"mpirun -np 2 {' '.join(layout)}: same rows, logits within 1e-5",
                        cols and d <= 1e-5, f"worst relative difference {d:.2e}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
