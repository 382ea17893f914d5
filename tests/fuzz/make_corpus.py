#!/usr/bin/python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/TARGET/
(docs/FUZZING.md). Small, valid inputs of every kind each parser accepts, so
that the fuzzer starts from the deep paths; the files are committed, this
script regenerates them. Needs numpy, h5py and PIL (python3-pil).

    /usr/bin/python3 tests/fuzz/make_corpus.py [--only TARGET]
"""
import argparse
import bz2
import gzip
import io
import lzma
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zlib

import h5py
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
rng = np.random.default_rng(16)


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def jpeg_bytes(im, **kw):
    b = io.BytesIO()
    im.save(b, "JPEG", **kw)
    return b.getvalue()


def noise(w, h, mode):
    bands = {"RGB": 3, "L": 1, "CMYK": 4}[mode]
    a = rng.integers(0, 256, size=(h, w, bands), dtype=np.uint8)
    # smooth it a little: real pictures compress, pure noise is all AC terms
    a = ((a.astype(np.uint16) + np.roll(a, 1, 0) + np.roll(a, 1, 1)) // 3).astype(np.uint8)
    return Image.fromarray(a[:, :, 0] if bands == 1 else a, mode)


def corpus_jpeg():
    # [preset, crop - 1, resize - crop, limits] + the file (tests/fuzz/fuzz_jpeg.c)
    seeds = {
        "rgb_baseline_hf": (bytes([0, 7, 0, 3]), jpeg_bytes(noise(16, 12, "RGB"), quality=50)),
        "rgb_progressive_torchvision": (bytes([1, 15, 0, 8 | 3]), jpeg_bytes(
            noise(20, 9, "RGB"), quality=60, progressive=True)),
        "gray_timm": (bytes([2, 3, 0, 1]), jpeg_bytes(noise(9, 17, "L"), quality=70)),
        "cmyk_exact_bicubic_file": (bytes([3 | 8, 9, 3, 16 | 2]), jpeg_bytes(
            noise(12, 12, "CMYK"), quality=50)),
        "rgb444_shorter_bilinear": (bytes([4, 31, 8, 4]), jpeg_bytes(
            noise(64, 40, "RGB"), quality=30, subsampling=0, optimize=True)),
        "gray_progressive_dct": (bytes([1, 1, 0, 8 | 4]), jpeg_bytes(
            noise(48, 40, "L"), quality=40, progressive=True)),
    }
    for name, (head, body) in seeds.items():
        write("fuzz_jpeg", name + ".bin", head + body)


def to_latest_compact(src, dst, vlen_strings, layout):
    """Copies a model into a small file: the newest object headers, compact
    or chunked+gzip datasets; string attributes fixed- or variable-length."""
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_LATEST, h5py.h5f.LIBVER_LATEST)
    out = h5py.File(h5py.h5f.create(dst.encode(), h5py.h5f.ACC_TRUNC, fapl=fapl))
    inp = h5py.File(src, "r")

    def attrs(a, b):
        for k, v in a.attrs.items():
            if isinstance(v, (bytes, str, np.bytes_, np.str_)):
                s = v.decode() if isinstance(v, (bytes, np.bytes_)) else str(v)
                if vlen_strings:
                    b.attrs.create(k, s, dtype=h5py.string_dtype("utf-8"))
                else:
                    t = h5py.string_dtype("utf-8", max(len(s.encode()), 1))
                    b.attrs.create(k, np.array(s.encode(), dtype=t), dtype=t)
            else:
                b.attrs.create(k, v, dtype=a.attrs.get_id(k).dtype)

    def walk(g, o):
        attrs(g, o)
        for k, v in g.items():
            if isinstance(v, h5py.Group):
                walk(v, o.create_group(k))
                continue
            data = v[()]
            if v.dtype.kind in "SOU":
                strs = [x.decode() if isinstance(x, bytes) else str(x) for x in data]
                if vlen_strings:
                    d = o.create_dataset(k, data=np.array(strs, dtype=object),
                                         dtype=h5py.string_dtype("utf-8"))
                else:
                    t = h5py.string_dtype("utf-8", max(len(s.encode()) for s in strs))
                    d = o.create_dataset(k, data=np.array([s.encode() for s in strs], dtype=t))
            elif layout == "compact":
                dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
                dcpl.set_layout(h5py.h5d.COMPACT)
                space = h5py.h5s.create_simple(v.shape)
                d = h5py.Dataset(h5py.h5d.create(o.id, k.encode(), v.id.get_type(), space,
                                                 dcpl=dcpl))
                d[...] = data
            else:
                d = o.create_dataset(k, data=data, chunks=True, compression="gzip")
            attrs(v, d)

    walk(inp, out)
    out.close()
    inp.close()


def corpus_model():
    tmp = tempfile.mkdtemp()
    try:
        shapes = [  # name, make_model.py arguments, vlen strings, layout
            ("hf_labels_fixed_compact", ["--preprocess", "hf", "--labels"], False, "compact"),
            ("torchvision_labels_vlen_compact", ["--preprocess", "torchvision", "--labels"],
             True, "compact"),
            ("timm_nolabels_gzip", ["--preprocess", "timm", "--layers", "2"], False, "gzip"),
            # format 2: the family's settings, registers, LayerScale, SwiGLU, the
            # attention-pool head, the distilled and projection heads
            ("v2_siglip_map_compact", ["--family", "siglip"], False, "compact"),
            ("v2_dinov2_swiglu_qknorm_gzip", ["--family", "dinov2", "--act", "swiglu",
                                              "--qk-norm", "--no-qkv-bias"], False, "gzip"),
            ("v2_deit_compact", ["--family", "deit", "--labels"], False, "compact"),
            ("v2_clip_avg_gzip", ["--family", "clip", "--pooling", "cls_avg"], False, "gzip"),
        ]
        for name, extra, vlen, layout in shapes:
            raw = os.path.join(tmp, name + ".raw.h5")
            args = ["--image-size", "4", "--patch-size", "4", "--hidden", "4", "--layers", "1",
                    "--heads", "2", "--mlp-dim", "4", "--classes", "2", "--seed", "16"]
            subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "make_model.py")] +
                           args + extra + [raw], check=True, stdout=subprocess.DEVNULL)
            out = os.path.join(tmp, name + ".h5")
            to_latest_compact(raw, out, vlen, layout)
            with open(out, "rb") as f:
                write("fuzz_model", name + ".h5", f.read())
    finally:
        shutil.rmtree(tmp)


def journal(k, classes, dim, logits, embedding, records, torn=b""):
    """A journal as io/journal.c writes it, for the fingerprint of fuzz_journal.c."""
    fp = f"model_id=fuzz\ninput=images\nbatch=4\ntopk={k}\n".encode()
    out = b"VRJRNL01" + struct.pack("<I", len(fp)) + fp + struct.pack("<I", zlib.crc32(fp))
    row = 0
    for rows in records:
        payload = b""
        for ok, err, name in rows:
            payload += struct.pack("<BHH", ok, len(err), len(name)) + err + name
            payload += struct.pack(f"<{k}i", *[(row + t) % classes for t in range(k)])
            payload += struct.pack(f"<{k}f", *[1.0 / (t + 1) for t in range(k)])
            if logits:
                payload += struct.pack(f"<{classes}f", *[0.5 * c for c in range(classes)])
            if embedding:
                payload += struct.pack(f"<{dim}f", *[-0.25 * d for d in range(dim)])
            row += 1
        out += struct.pack("<IIQQQ", 0x31425256, zlib.crc32(payload), row - len(rows),
                           len(rows), len(payload)) + payload
    return out + torn


def corpus_journal():
    two = [(1, b"", b"a.jpg"), (0, b"truncated JPEG", b"sub/b.jpg")]
    # [top-k - 1, classes - 1, width - 1, flags] + the journal (fuzz_journal.c)
    write("fuzz_journal", "k5_c10_two_records.bin",
          bytes([4, 9, 7, 0]) + journal(5, 10, 8, 0, 0, [two, two]))
    write("fuzz_journal", "k3_logits_embeddings_torn.bin",
          bytes([2, 3, 3, 3]) + journal(3, 4, 4, 1, 1, [two], torn=b"VRB1\x00\x01"))
    write("fuzz_journal", "k1_two_records_failing_replay.bin",
          bytes([0, 0, 0, 4]) + journal(1, 1, 1, 0, 0, [[(1, b"", b"0")], [(1, b"", b"1")]]))


def h5_bytes(build, libver=None):
    tmp = tempfile.mkdtemp()
    try:
        p = os.path.join(tmp, "x.h5")
        with h5py.File(p, "w", libver=libver) as f:
            build(f)
        with open(p, "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(tmp)


def corpus_input_h5():
    # images of 8x8 RGB, as fuzz_input_h5.c's model expects
    def u8_vlen_paths(f):
        f["images"] = rng.integers(0, 256, size=(2, 8, 8, 3), dtype=np.uint8)
        f.create_dataset("paths", data=np.array(["a.jpg", "sub/b.jpg"], dtype=object),
                         dtype=h5py.string_dtype("utf-8"))

    def f32_fixed_paths_gzip(f):
        f.create_dataset("images", data=rng.standard_normal((1, 3, 8, 8)).astype(np.float32),
                         chunks=(1, 3, 8, 8), compression="gzip")
        f["paths"] = np.array([b"only.jpg"])

    def u8_no_paths(f):
        f["images"] = np.zeros((3, 8, 8, 3), dtype=np.uint8)

    write("fuzz_input_h5", "u8_vlen_paths.h5", h5_bytes(u8_vlen_paths))
    write("fuzz_input_h5", "f32_fixed_paths_gzip.h5", h5_bytes(f32_fixed_paths_gzip, "latest"))
    write("fuzz_input_h5", "u8_no_paths.h5", h5_bytes(u8_no_paths, "latest"))


def tree_op(kind, name=b"", suffix=0, arg=None):
    """One op of fuzz_listing.c's tree language."""
    types = {"file": 0, "dir": 1, "link": 2, "up": 3}
    if kind == "up":
        return bytes([3])
    op = types[kind] | ((len(name) - 1) << 2) | (suffix << 6)
    return bytes([op]) + name + (bytes([arg]) if arg is not None else b"")


def corpus_listing():
    write("fuzz_listing", "list_relative.bin",
          b"\x00a.jpg\nb.jpg\n\nsub/e.jpg\r\nc.jpeg\nd.JPG\nmissing.jpg\nsub\n")
    write("fuzz_listing", "list_absolute.bin", b"\x00/nonexistent/x.jpg\na.jpg\n../a.jpg\n")
    tree = b"".join([
        tree_op("file", b"a", 1, 0), tree_op("dir", b"d"), tree_op("file", b"b", 3, 1),
        tree_op("link", b"l", 1, 0), tree_op("link", b"m", 1, 4), tree_op("up"),
        tree_op("file", b"c", 2, 2), tree_op("file", b"a-", 1, 3), tree_op("dir", b"d2"),
        tree_op("dir", b"e"), tree_op("file", b"z", 1, 0), tree_op("up"), tree_op("up"),
        tree_op("file", b"notes.txt", 0, 3),
    ])
    write("fuzz_listing", "tree_mixed.bin", b"\x01" + tree)
    write("fuzz_listing", "tree_no_jpegs.bin", b"\x01" + tree_op("file", b"readme", 0, 3))


def corpus_labels():
    sep = b"\n----\n"
    # [classes - 1, inputs, flags] + labels [+ separator + listing] (fuzz_labels.c);
    # flags: 1 check against the listing, 2 against the names "0", "1", ...
    write("fuzz_labels", "listing_ok.bin", bytes([9, 3, 1]) +
          b"0 a.jpg\n5 sub/b.jpg\n9\tc.jpg\n" + sep + b"a.jpg\nsub/b.jpg\nc.jpg\n")
    write("fuzz_labels", "by_index_crlf.bin", bytes([1, 2, 0]) + b"0 0\r\n\r\n1\t1\r\n")
    write("fuzz_labels", "hdf5_rows_named.bin", bytes([2, 3, 2]) + b"0 0\n2 1\n1\t2\n")
    write("fuzz_labels", "listing_misordered.bin", bytes([4, 2, 1]) +
          b"1 b.jpg\n2 a.jpg\n" + sep + b"a.jpg\nb.jpg\n")


def corpus_cli():
    def argv(*a):
        return b"\0".join(x.encode() for x in a)
    write("fuzz_cli", "jpeg_run.bin", argv(
        "--model", "m.h5", "--input", "images", "--output", "o.csv", "--batch", "16",
        "--topk", "3", "--pp", "2", "--tp", "2", "--layers", "6.5,5.5", "--preprocess", "timm"))
    write("fuzz_cli", "plan.bin", argv("--model", "m.h5", "--plan", "--pp", "4", "--dp", "2",
                                       "--layers", "4,4,3,1"))
    write("fuzz_cli", "every_option.bin", argv(
        "--model", "m.h5", "--synthetic", "100", "--output", "o.h5", "--precision", "bf16",
        "--gemm", "openblas", "--send", "group", "--progress", "log", "--progress-every", "2.5",
        "--max-pixels", "1000", "--max-file-mb", "3", "--decoders", "0", "--dct-scale", "on",
        "--resume", "--strict", "--logits", "--embeddings", "--quiet", "--labels", "l.txt",
        "--report", "r.json", "--dump-activations", "d.h5", "--threads", "2", "--tp", "3"))
    write("fuzz_cli", "shape.bin", argv(
        "--plan", "--nodes", "4", "--ranks-per-node", "2", "--json", "--threads", "1",
        "--shape", "hidden=64,layers=4,heads=4,mlp=128,patch=8,image=32x48,classes=0,"
        "embed=16,act=swiglu,block=parallel,qkv_bias=0,qk_norm=1", "--pp", "2"))
    write("fuzz_cli", "help.bin", argv("--help"))
    write("fuzz_cli", "unknown.bin", argv("--model", "m.h5", "--bogus", "1"))


def corpus_heads():
    """--zero-shot and --score-heads files for an 8-wide embedding (fuzz_heads.c)."""
    rng = np.random.default_rng(8)
    tmp = tempfile.mkdtemp()
    try:
        for name, arr in (("npy_f32", rng.standard_normal((3, 8)).astype(np.float32)),
                          ("npy_f64", rng.standard_normal((2, 8)))):
            p = os.path.join(tmp, name + ".npy")
            np.save(p, arr)
            with open(p, "rb") as f:
                write("fuzz_heads", name + ".bin",
                      bytes([0]) + f.read() + b"\0" + b"\n".join(b"class %d" % i
                                                                  for i in range(len(arr))))
        p = os.path.join(tmp, "zs.h5")
        with h5py.File(p, "w", libver="latest") as f:  # as fuzz_model's seeds
            f["embeddings"] = rng.standard_normal((3, 8)).astype(np.float32)
            f["names"] = np.array([b"cat", b"dog", b"bird"], dtype=h5py.string_dtype("utf-8", 4))
        with open(p, "rb") as f:
            write("fuzz_heads", "zero_shot.bin", bytes([1]) + f.read())
        p = os.path.join(tmp, "heads.h5")
        with h5py.File(p, "w", libver="latest") as f:  # as fuzz_model's seeds
            for hname, widths, acts, norm in (("mlp", [8, 6, 1], ["relu", "sigmoid"], 1),
                                             ("lin", [8, 2], ["none"], 0)):
                g = f.create_group(f"heads/{hname}")
                g.attrs["normalize_input"] = norm
                for i, act in enumerate(acts):
                    lg = g.create_group(f"layer_{i:02d}")
                    lg["weight"] = rng.standard_normal((widths[i + 1], widths[i])).astype(np.float32)
                    lg["bias"] = rng.standard_normal(widths[i + 1]).astype(np.float32)
                    lg.attrs["activation"] = np.array(act.encode(),
                                                      dtype=h5py.string_dtype("utf-8", len(act)))
        with open(p, "rb") as f:
            write("fuzz_heads", "score_heads.bin", bytes([2]) + f.read())
    finally:
        shutil.rmtree(tmp)


def corpus_image():
    # [preset, crop - 1, resize - crop, limits] + the file (tests/fuzz/fuzz_image.c);
    # the PNG and WebP writers of tests/test_image_formats.py
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    import test_image_formats as tif
    r = np.random.default_rng(5)
    seeds = {}
    for depth, ctype in [(1, 0), (2, 0), (4, 0), (8, 0), (16, 0), (8, 2), (16, 2), (8, 4),
                         (16, 4), (8, 6), (16, 6), (1, 3), (4, 3), (8, 3)]:
        px = tif.random_px(r, 5, 7, tif.CHANNELS[ctype], depth)
        plte = bytes(r.integers(0, 256, 3 * (1 << min(depth, 4)), dtype=np.uint8)) \
            if ctype == 3 else None
        for il in (0, 1):
            seeds[f"png_d{depth}_c{ctype}_i{il}"] = tif.encode_png(
                px, depth, ctype, r, il, plte, idat_splits=1 + il)
    bad = tif.png_damaged({"png_d8_c2_i0_13x7.png": seeds["png_d8_c2_i0"]}, r)
    for k in ("early_end_row_boundary.png", "early_end_interlaced.png", "fctl_box_before_idat.png",
              "cut_adler_in_own_chunk.png", "bad_crc_idat.png", "short_tRNS_after.png"):
        seeds["png_" + k[:-4]] = bad[k]
    files = tif.png_corpus(np.random.default_rng(6))
    seeds["png_apng"] = files["pil_apng.png"]
    seeds["png_text_chunks"] = files["png_rgb8_colour_chunks.png"]
    seeds["png_p8_trns"] = files["png_p8_trns.png"]
    webp = tif.webp_corpus(np.random.default_rng(7))
    for k in ("webp_lossy", "webp_lossless", "webp_lossy_alpha", "webp_noise_alpha",
              "webp_anim_offset", "webp_anim_lossy_first"):
        seeds[k] = webp[k + ".webp"]
    seeds["jpeg_rgb"] = jpeg_bytes(noise(16, 12, "RGB"), quality=50)
    gif = io.BytesIO()
    noise(8, 8, "RGB").save(gif, "GIF")
    seeds["gif"] = gif.getvalue()
    heads = [bytes([0, 7, 0, 4]), bytes([1, 15, 0, 16 | 3]), bytes([2, 3, 0, 2]),
             bytes([3 | 8, 9, 3, 4]), bytes([4, 5, 8, 1])]
    for i, (name, body) in enumerate(sorted(seeds.items())):
        write("fuzz_image", name + ".bin", heads[i % len(heads)] + body)


def small_tar(entries, fmt=tarfile.PAX_FORMAT):
    """A tar of (name, bytes) or (name, 'dir'|'sym'|'lnk'), without
    tarfile's padding to 10 KB: the members and the two end blocks."""
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt) as t:
        for name, what in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if isinstance(what, bytes):
                ti.size = len(what)
                t.addfile(ti, io.BytesIO(what))
            else:
                ti.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE,
                           "lnk": tarfile.LNKTYPE}[what]
                ti.linkname = "000.jpg" if what != "dir" else ""
                t.addfile(ti)
        end = t.offset
    return b.getvalue()[:end + 1024]


def corpus_tar():
    # a mode byte (tests/fuzz/fuzz_tar.c), then the shard
    basic = small_tar([
        ("000.jpg", bytes(range(40))), ("000.cls", b" 3\n"), ("000.json", b'{"a":1}'),
        ("a/b/001.jpg", b"\xff\xd8" + bytes(20)), ("a/b/001.seg.png", b"png"),
        ("002.json", b"{}"), ("002.txt", b"no image"),
        ("003.png", b"p" * 30), ("003.png", b"twice"), ("000.webp", b"key again"),
        ("dir", "dir"), ("004.jpg", b"j"), ("004.lnk", "sym"), ("004.hard", "lnk"),
        ("noext", b"x"), ("__meta__", b"m"), ("a/.hidden.jpg", b"h")])
    write("fuzz_tar", "basic_memory.bin", bytes([0]) + basic)
    write("fuzz_tar", "basic_file_limit300.bin", bytes([16 | 1]) + basic)
    write("fuzz_tar", "basic_keys.bin", bytes([4 | 2]) + basic)
    write("fuzz_tar", "basic_cut.bin", bytes([0]) + basic[:1700])
    write("fuzz_tar", "pax_long_names.bin", bytes([3]) + small_tar([
        ("x" * 150 + "/long.jpg", b"j" * 20), ("dé/ünï.jpg", b"u"), ("k" * 120 + ".cls", b"7")]))
    write("fuzz_tar", "gnu_long_names.bin", bytes([16]) + small_tar(
        [("y" * 130 + ".jpg", b"g" * 10), ("y" * 130 + ".txt", b"t")], tarfile.GNU_FORMAT))
    write("fuzz_tar", "empty_tar.bin", bytes([0]) + bytes(1024))
    write("fuzz_tar", "gzip.bin", bytes([3]) + gzip.compress(basic, mtime=0))
    write("fuzz_tar", "xz.bin", bytes([3]) + lzma.compress(basic))
    write("fuzz_tar", "bzip2.bin", bytes([16 | 3]) + bz2.compress(basic))
    if shutil.which("zstd"):
        z = subprocess.run(["zstd", "-q", "-c"], input=basic, capture_output=True, check=True)
        write("fuzz_tar", "zstd.bin", bytes([3]) + z.stdout)
    write("fuzz_tar", "names.bin", bytes([8]) + b"\n".join([
        b"a/b/c.d.jpg", b".x.jpg", b"a/.x.jpg", b"a.b/.x.jpg", b"a//.x.jpg", b"__meta__",
        b"__x__/y.jpg", b"__x__\n", b" 42 ", b"-9223372036854775808", b"9223372036854775808",
        b"+007", b"noext", b"dir/"]))


def corpus_pattern():
    # a mode byte (tests/fuzz/fuzz_pattern.c): 0x40 a pattern capped at 257
    for name, p in [("laion", b"/data/laion/{00000..00099}.tar"),
                    ("product", b"{a,b,c}/x{1..3}.tar.gz"), ("step", b"s{10..0..-3}.tgz"),
                    ("padded_sign", b"x{-05..3}{,.tar}"), ("nested", b"a{{b,c}.tar"),
                    ("huge_end", b"{1..99999999999999999999}"), ("same_stem", b"{a,b}/x.tar"),
                    ("images", b"{1..3}.jpg")]:
        write("fuzz_pattern", f"pattern_{name}.bin", bytes([0x40]) + p)
    write("fuzz_pattern", "pattern_over_cap.bin", bytes([0]) + b"{0..9}{0..9}.tar")
    write("fuzz_pattern", "list.bin", bytes([1]) + b"a.tar\n\n/abs/b.tar.gz\r\nsub/c.tgz\n")
    write("fuzz_pattern", "list_mixed.bin", bytes([1]) + b"a.tar\nb.jpg\n")
    write("fuzz_pattern", "list_same_stem.bin", bytes([1]) + b"x/a.tar\ny/a.tar.xz\n")


def corpus_claims():
    # [layout] + claim 0 + ff fe + claim 1 + ff fe + failure mark (fuzz_claims.c)
    sep = b"\xff\xfe"
    live = b"who=job-a/r0@n1:42\nstarted=1700000000.000\nrows=17\n"
    other = b"who=job-b/r1@n2:7\nstarted=1700000100.500\nrows=-1\n"
    for name, lay, c0, c1, mark in [
            ("unclaimed", 0, b"", b"", b""),
            ("held", 1, live, b"", b"job\n"),
            ("held_stale", 1 | 128, live, b"", b""),
            ("two_gens", 1 | 2, live, other, b""),
            ("hole", 1 | 2 | 4, live, other, b"job"),
            ("helped", 1 | 8, live, b"", b""),
            ("done", 1 | 16, live, b"", b""),
            ("done_npy_missing", 1 | 16 | 32, live, b"", b""),
            ("done_npy", 16 | 32 | 64, b"", b"", b""),
            ("empty_claim", 1 | 128, b"", b"", b""),
            ("junk", 1 | 2, b"who=" + b"x" * 600 + b"\nstarted=nan\nrows=99999999999999999999\n",
             b"\x00\x01\x02", b"\n\n")]:
        write("fuzz_claims", name + ".bin", bytes([lay]) + c0 + sep + c1 + sep + mark)


TARGETS = {"fuzz_jpeg": corpus_jpeg, "fuzz_image": corpus_image, "fuzz_model": corpus_model,
           "fuzz_journal": corpus_journal,
           "fuzz_input_h5": corpus_input_h5, "fuzz_listing": corpus_listing,
           "fuzz_labels": corpus_labels, "fuzz_cli": corpus_cli, "fuzz_heads": corpus_heads,
           "fuzz_tar": corpus_tar, "fuzz_pattern": corpus_pattern, "fuzz_claims": corpus_claims}

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=sorted(TARGETS))
    a = ap.parse_args()
    for t, make in TARGETS.items():
        if a.only in (None, t):
            d = os.path.join(HERE, "corpus", t)
            # v1_*: files of model format 1, written before format 2 (kept, not remade)
            for f in os.listdir(d) if os.path.isdir(d) else []:
                if not f.startswith("v1_"):
                    os.remove(os.path.join(d, f))
            make()
            d = os.path.join(HERE, "corpus", t)
            size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
            print(f"{t}: {len(os.listdir(d))} files, {size} bytes")
