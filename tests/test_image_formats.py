"""PNG and WebP inputs decode to exactly Pillow 9.4's Image.open(f).convert('RGB').

The corpus: PNGs written by Pillow (every mode it saves, APNG, palettes with
transparency, text and colour chunks) and by a small encoder here for what
Pillow cannot write (1/2/4-bit gray, 16-bit gray above 255, 16-bit gray+alpha,
RGB and RGBA, short palettes with indices past their end, Adam7 interlacing,
every filter type, data split over many IDAT chunks); WebPs written by Pillow
(lossy, lossless, with alpha, RGB kept under alpha 0, animated) and animated
ones built here whose first frame is smaller than the canvas, at an offset;
damaged files (bad CRCs, truncations, a zlib stream that ends early, bad
filters, short chunks, a missing IEND, ...) and random mutations of good
files; files whose extension lies (a PNG named .jpg, a WebP named .png).

vitrun's decoded pixels are read from --dump-activations: the model runs at
each image's own size (--image-size HxW) with the hf preset, whose resize is
then the identity, so the dumped 'pixels' are the decoded RGB. Checks: for
every file Pillow opens, the same pixels (worst difference printed, bound 0
levels); for every file Pillow refuses, ok = 0 with a reason; the whole
pipeline (decode + resize) against Pillow's resize as the reference code does
it; a declared 100000x100000 PNG and 16384x16384 WebP refused by --max-pixels
without allocating; the directory walk takes .png/.webp in any case.
"""
import io
import os
import shutil
import struct
import sys
import tempfile
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import PYTHON, Checker, jpeg_test_args, run  # noqa: E402

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]  # (x0, y0, dx, dy)
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def chunk(kind, data, crc=None):
    c = zlib.crc32(kind + data) & 0xFFFFFFFF if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", c)


def ihdr(w, h, depth, ctype, interlace=0):
    return chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace))


def pack_row(samples, depth):
    """samples: (n,) ints of one row, all channels interleaved."""
    if depth == 16:
        return samples.astype(">u2").tobytes()
    if depth == 8:
        return samples.astype(np.uint8).tobytes()
    per = 8 // depth
    s = np.zeros(-(-len(samples) // per) * per, np.uint8)
    s[:len(samples)] = samples
    s = s.reshape(-1, per)
    out = np.zeros(len(s), np.uint16)
    for k in range(per):
        out |= s[:, k].astype(np.uint16) << (8 - depth * (k + 1))
    return out.astype(np.uint8).tobytes()


def filter_row(kind, row, prev, bpp):
    r = np.frombuffer(row, np.uint8).astype(np.int32)
    p = np.frombuffer(prev, np.uint8).astype(np.int32) if prev else np.zeros_like(r)
    a = np.concatenate([np.zeros(bpp, np.int32), r[:-bpp]]) if len(r) > bpp else np.zeros_like(r)
    c = np.concatenate([np.zeros(bpp, np.int32), p[:-bpp]]) if len(r) > bpp else np.zeros_like(r)
    if len(r) <= bpp:
        a, c = np.zeros_like(r), np.zeros_like(r)
    if kind == 0:
        f = r
    elif kind == 1:
        f = r - a
    elif kind == 2:
        f = r - p
    elif kind == 3:
        f = r - (a + p) // 2
    else:
        pa, pb, pc = np.abs(p - c), np.abs(a - c), np.abs(a + p - 2 * c)
        pred = np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, p, c))
        f = r - pred
    return bytes([kind]) + (f & 255).astype(np.uint8).tobytes()


def scanlines(px, depth, ctype, interlace, rng):
    """The filtered scanlines of px (h, w, channels), every filter type used."""
    h, w, ch = px.shape
    bpp = max(1, ch * depth // 8)
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    out = b""
    for x0, y0, dx, dy in passes:
        sub = px[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        prev = None
        for row in sub:
            raw = pack_row(row.reshape(-1), depth)
            out += filter_row(int(rng.integers(0, 5)), raw, prev, bpp)
            prev = raw
    return out


def encode_png(px, depth, ctype, rng, interlace=0, plte=None, extra=b"", idat_splits=1,
               raw=None, tail=b""):
    data = zlib.compress(raw if raw is not None else scanlines(px, depth, ctype, interlace, rng))
    h, w = px.shape[:2]
    out = b"\x89PNG\r\n\x1a\n" + ihdr(w, h, depth, ctype, interlace) + extra
    if plte is not None:
        out += chunk(b"PLTE", plte)
    cuts = sorted(int(x) for x in rng.integers(0, len(data) + 1, idat_splits - 1))
    for a, b in zip([0] + cuts, cuts + [len(data)]):
        out += chunk(b"IDAT", data[a:b])
    return out + tail + chunk(b"IEND", b"")


def random_px(rng, h, w, ch, depth):
    return rng.integers(0, 1 << depth, (h, w, ch), dtype=np.int64)


def png_corpus(rng):
    """name -> bytes of good PNGs of many kinds."""
    from PIL import Image
    files = {}
    photo = rng.integers(0, 256, (23, 29, 3), dtype=np.uint8)
    # smooth content so that filters and palettes matter
    yy, xx = np.mgrid[0:23, 0:29]
    photo[..., 0] = (xx * 9 + yy * 3) % 256
    for depth, ctype in [(1, 0), (2, 0), (4, 0), (8, 0), (16, 0), (8, 2), (16, 2), (8, 4),
                         (16, 4), (8, 6), (16, 6), (1, 3), (2, 3), (4, 3), (8, 3)]:
        for interlace in (0, 1):
            for h, w in [(7, 13), (23, 29)]:
                px = random_px(rng, h, w, CHANNELS[ctype], depth)
                plte = None
                if ctype == 3:
                    n = int(rng.integers(1, (1 << depth) + 1))
                    plte = rng.integers(0, 256, 3 * n, dtype=np.uint8).tobytes()
                name = f"png_d{depth}_c{ctype}_i{interlace}_{w}x{h}.png"
                files[name] = encode_png(px, depth, ctype, rng, interlace, plte,
                                         idat_splits=int(rng.integers(1, 4)))
    # 16-bit gray above 255: Pillow's mode I clips in convert('RGB')
    px = rng.integers(0, 65536, (7, 13, 1))
    px[0, :4, 0] = [255, 256, 300, 65535]
    files["png_gray16_over255.png"] = encode_png(px, 16, 0, rng)
    # palettes: shorter than the indices (Pillow's gray ramp), a partial entry,
    # 769 bytes (256 entries), with tRNS; gAMA, sRGB, iCCP, cHRM, text chunks
    idx = rng.integers(0, 256, (7, 13, 1))
    files["png_p8_short_palette.png"] = encode_png(idx, 8, 3, rng, plte=bytes(range(30)))
    files["png_p8_partial_entry.png"] = encode_png(idx, 8, 3, rng, plte=bytes(range(31)))
    files["png_p8_769.png"] = encode_png(idx, 8, 3, rng, plte=bytes(769))
    files["png_p8_no_plte.png"] = encode_png(idx, 8, 3, rng)
    trns = chunk(b"tRNS", bytes(rng.integers(0, 256, 40, dtype=np.uint8)))
    files["png_p8_trns.png"] = encode_png(idx, 8, 3, rng, plte=bytes(range(60)) * 4,
                                          tail=trns)
    colour = (chunk(b"gAMA", struct.pack(">I", 45455)) + chunk(b"sRGB", b"\0") +
              chunk(b"cHRM", bytes(32)) +
              chunk(b"iCCP", b"prof\0\0" + zlib.compress(b"not really a profile")) +
              chunk(b"tEXt", b"Comment\0hello") + chunk(b"zTXt", b"k\0\0" + zlib.compress(b"z")) +
              chunk(b"iTXt", b"k\0\0\0en\0kk\0text"))
    files["png_rgb8_colour_chunks.png"] = encode_png(random_px(rng, 7, 13, 3, 8), 8, 2, rng,
                                                     extra=colour)
    files["png_rgb16_gamma_interlaced.png"] = encode_png(random_px(rng, 23, 29, 3, 16), 16, 2,
                                                         rng, 1, extra=colour)
    # many IDAT chunks, some empty, and one image over Pillow's 64 KiB reads
    files["png_many_idat.png"] = encode_png(random_px(rng, 23, 29, 4, 8), 8, 6, rng,
                                            idat_splits=40)
    files["png_big_noise.png"] = encode_png(random_px(rng, 160, 224, 3, 8), 8, 2, rng,
                                            idat_splits=2)
    # Pillow's own writer
    base = Image.fromarray(photo)
    for mode in ["1", "L", "LA", "RGB", "RGBA", "I;16", "I", "P"]:
        im = base.convert(mode) if mode not in ("I;16", "I") else base.convert("L").convert(mode)
        buf = io.BytesIO()
        im.save(buf, "PNG")
        files[f"pil_{mode.replace(';', '')}.png"] = buf.getvalue()
    for bits in (1, 2, 4):
        buf = io.BytesIO()
        base.quantize(1 << bits).save(buf, "PNG", bits=bits)
        files[f"pil_P_bits{bits}.png"] = buf.getvalue()
    buf = io.BytesIO()
    base.quantize(16).save(buf, "PNG", transparency=3, optimize=True)
    files["pil_P_transparency.png"] = buf.getvalue()
    buf = io.BytesIO()
    frames = [base, Image.fromarray(np.roll(photo, 5, axis=1))]
    frames[0].save(buf, "PNG", save_all=True, append_images=frames[1:], duration=100)
    files["pil_apng.png"] = buf.getvalue()
    return files


def png_damaged(good, rng):
    """name -> bytes of damaged PNGs, from the good ones and built here."""
    d = {}
    src = good["png_d8_c2_i0_13x7.png"]
    ihdr_end = 8 + 25
    px = random_px(rng, 4, 4, 1, 8)
    rows = scanlines(px, 8, 0, 0, np.random.default_rng(1))
    z = zlib.compress(rows)
    hdr = b"\x89PNG\r\n\x1a\n" + ihdr(4, 4, 8, 0)
    d["bad_crc_ihdr.png"] = src[:ihdr_end - 4] + b"\0\0\0\0" + src[ihdr_end:]
    d["bad_crc_text_before.png"] = hdr + chunk(b"tEXt", b"a\0b", 5) + chunk(b"IDAT", z) + \
        chunk(b"IEND", b"")
    d["bad_crc_idat.png"] = hdr + chunk(b"IDAT", z, 7) + chunk(b"IEND", b"")
    d["bad_crc_after.png"] = hdr + chunk(b"IDAT", z) + chunk(b"tEXt", b"a\0b", 5) + \
        chunk(b"IEND", b"")
    d["no_iend.png"] = hdr + chunk(b"IDAT", z)
    d["trailing_garbage.png"] = hdr + chunk(b"IDAT", z) + chunk(b"IEND", b"") + b"junk" * 9
    whole = hdr + chunk(b"IDAT", z) + chunk(b"IEND", b"")
    d["cut_in_adler.png"] = whole[:-18]
    d["cut_in_data.png"] = whole[:-24]
    d["cut_half.png"] = src[:len(src) // 2]
    d["cut_after_signature.png"] = src[:8]
    d["cut_adler_in_own_chunk.png"] = (hdr + chunk(b"IDAT", z[:-4]) + chunk(b"IDAT", z[-4:]))[:-6]
    d["early_end_row_boundary.png"] = hdr + chunk(b"IDAT", zlib.compress(rows[:10])) + \
        chunk(b"IEND", b"")
    d["early_end_mid_row.png"] = hdr + chunk(b"IDAT", zlib.compress(rows[:12])) + \
        chunk(b"IEND", b"")
    px7 = random_px(rng, 9, 11, 1, 8)
    rows7 = scanlines(px7, 8, 0, 1, np.random.default_rng(2))
    d["early_end_interlaced.png"] = b"\x89PNG\r\n\x1a\n" + ihdr(11, 9, 8, 0, 1) + \
        chunk(b"IDAT", zlib.compress(rows7[:len(rows7) // 2 - 3])) + chunk(b"IEND", b"")
    d["bad_adler.png"] = hdr + chunk(b"IDAT", z[:-1] + bytes([z[-1] ^ 1])) + chunk(b"IEND", b"")
    d["filter_5.png"] = hdr + chunk(b"IDAT", zlib.compress(b"\5" + rows[1:])) + \
        chunk(b"IEND", b"")
    d["zlib_garbage.png"] = hdr + chunk(b"IDAT", z[:6] + bytes(rng.integers(0, 256, 30,
                                                                  dtype=np.uint8))) + \
        chunk(b"IEND", b"")
    for kind, data in [(b"gAMA", b"\0\1"), (b"pHYs", bytes(8)), (b"sRGB", b""),
                       (b"cHRM", bytes(5)), (b"tRNS", b"\1")]:
        d[f"short_{kind.decode()}_before.png"] = hdr + chunk(kind, data) + chunk(b"IDAT", z) + \
            chunk(b"IEND", b"")
        d[f"short_{kind.decode()}_after.png"] = hdr + chunk(b"IDAT", z) + chunk(kind, data) + \
            chunk(b"IEND", b"")
    d["ztxt_too_large.png"] = hdr + chunk(b"zTXt", b"k\0\0" + zlib.compress(bytes(1 << 21))) + \
        chunk(b"IDAT", z) + chunk(b"IEND", b"")
    d["iend_first.png"] = hdr + chunk(b"IEND", b"") + chunk(b"IDAT", z)
    d["no_ihdr.png"] = b"\x89PNG\r\n\x1a\n" + chunk(b"IDAT", z) + chunk(b"IEND", b"")
    d["bad_depth.png"] = b"\x89PNG\r\n\x1a\n" + ihdr(4, 4, 3, 0) + chunk(b"IDAT", z) + \
        chunk(b"IEND", b"")
    d["zero_width.png"] = b"\x89PNG\r\n\x1a\n" + ihdr(0, 4, 8, 0) + chunk(b"IDAT", z) + \
        chunk(b"IEND", b"")
    d["palette_771.png"] = b"\x89PNG\r\n\x1a\n" + ihdr(4, 4, 8, 3) + chunk(b"PLTE", bytes(771)) + \
        chunk(b"IDAT", z) + chunk(b"IEND", b"")
    d["idat_after_gap.png"] = hdr + chunk(b"IDAT", z[:10]) + chunk(b"tEXt", b"a\0b") + \
        chunk(b"IDAT", z[10:]) + chunk(b"IEND", b"")
    d["extra_data_after_stream.png"] = hdr + chunk(b"IDAT", z + b"junkjunk") + chunk(b"IEND", b"")
    d["bad_chunk_name.png"] = hdr + chunk(b"a b!", b"") + chunk(b"IDAT", z) + chunk(b"IEND", b"")
    # cut inside its IDAT after zlib took in the last bytes but before it gave
    # out the last rows: Pillow inflates only while input remains (found by
    # fuzz_image's corpus against Pillow)
    d["cut_output_pending.png"] = bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000070000000504030000007bb4ebeb00000030504c5445e3"
        "264d00f0fe9974ec14e30252aeadb2ab2b687dc95885340636a87486d251eff4f3b055728cb04b7673c9"
        "1d5a99a082e93457e40000002249444154789c639c1b75ea3ccb819bf7773307701474336082")
    # an fcTL before the IDAT gives Pillow a box smaller than the image
    fctl = struct.pack(">IIIIIHHBB", 0, 3, 2, 1, 1, 1, 10, 0, 0)
    sub = scanlines(random_px(rng, 2, 3, 1, 8), 8, 0, 0, np.random.default_rng(3))
    d["fctl_box_before_idat.png"] = hdr + chunk(b"acTL", struct.pack(">II", 1, 0)) + \
        chunk(b"fcTL", fctl) + chunk(b"IDAT", zlib.compress(sub)) + chunk(b"IEND", b"")
    return d


def mutants(files, rng, n):
    """n copies of random good files with a few bytes changed, cut or repeated."""
    names = sorted(files)
    out = {}
    for i in range(n):
        b = bytearray(files[names[int(rng.integers(len(names)))]])
        how = i % 3
        if how == 0:
            for _ in range(int(rng.integers(1, 4))):
                b[int(rng.integers(8, len(b)))] = int(rng.integers(0, 256))
        elif how == 1:
            b = b[:int(rng.integers(8, len(b)))]
        else:
            a = int(rng.integers(8, len(b)))
            b = b[:a] + b[a:a + int(rng.integers(1, 20))] + b[a:]
        out[f"mutant_{i:03d}.png"] = bytes(b)
    return out


def webp_still(px, **kw):
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(px).save(buf, "WEBP", **kw)
    return buf.getvalue()


def riff_chunks(webp):
    """The chunks of a still WebP after its VP8X, if any."""
    b = webp[12:]
    return b[18:] if b[:4] == b"VP8X" else b


def le24(v):
    return struct.pack("<I", v)[:3]


def webp_anim(canvas_w, canvas_h, frames, bg=0xFF0000FF):
    """An animated WebP: frames are (x, y, w, h, blend, chunks); x, y even."""
    body = b"VP8X" + struct.pack("<I", 10) + bytes([0x12, 0, 0, 0]) + le24(canvas_w - 1) + \
        le24(canvas_h - 1)
    body += b"ANIM" + struct.pack("<IIH", 6, bg, 0)
    for x, y, w, h, blend, data in frames:
        payload = le24(x // 2) + le24(y // 2) + le24(w - 1) + le24(h - 1) + le24(100) + \
            bytes([0 if blend else 2]) + data
        body += b"ANMF" + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) % 2)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def webp_corpus(rng):
    from PIL import Image
    files = {}
    yy, xx = np.mgrid[0:23, 0:29]
    rgb = np.stack([(xx * 9) % 256, (yy * 11) % 256, (xx * yy) % 256], -1).astype(np.uint8)
    rgba = np.concatenate([rgb, rng.integers(0, 256, (23, 29, 1), dtype=np.uint8)], -1)
    rgba[::3, ::2, 3] = 0  # transparent pixels over varied RGB
    files["webp_lossy.webp"] = webp_still(rgb, quality=80)
    files["webp_lossless.webp"] = webp_still(rgb, lossless=True)
    files["webp_lossy_alpha.webp"] = webp_still(rgba, quality=70)
    files["webp_lossless_alpha_exact.webp"] = webp_still(rgba, lossless=True, exact=True)
    files["webp_lossless_alpha.webp"] = webp_still(rgba, lossless=True)
    noise = rng.integers(0, 256, (7, 13, 4), dtype=np.uint8)
    noise[..., 3] = np.where(rng.random((7, 13)) < 0.5, 0, noise[..., 3])
    files["webp_noise_alpha.webp"] = webp_still(noise, lossless=True, exact=True)
    # Pillow's animation writer, frames of other content
    buf = io.BytesIO()
    fr = [Image.fromarray(rgba), Image.fromarray(np.roll(rgba, 7, 1)), Image.fromarray(rgba[::-1])]
    fr[0].save(buf, "WEBP", save_all=True, append_images=fr[1:], duration=50, lossless=True)
    files["webp_anim_pillow.webp"] = buf.getvalue()
    # built here: a first frame smaller than the canvas, at an offset, with
    # and without blending, lossless and lossy+alpha
    small = riff_chunks(webp_still(rgba[:9, :11], lossless=True, exact=True))
    lossy = riff_chunks(webp_still(rgba[:7, :5], quality=60))
    full = riff_chunks(webp_still(rgb, lossless=True))
    files["webp_anim_offset.webp"] = webp_anim(29, 23, [(4, 6, 11, 9, True, small),
                                                        (0, 0, 29, 23, False, full)])
    files["webp_anim_offset_noblend.webp"] = webp_anim(29, 23, [(10, 2, 11, 9, False, small),
                                                                (2, 2, 5, 7, True, lossy)])
    files["webp_anim_lossy_first.webp"] = webp_anim(29, 23, [(18, 10, 5, 7, True, lossy),
                                                             (0, 0, 11, 9, True, small),
                                                             (6, 4, 11, 9, False, small)])
    return files


def webp_damaged(good):
    src = good["webp_lossless_alpha_exact.webp"]
    lossy = good["webp_lossy.webp"]
    anim = good["webp_anim_offset.webp"]
    return {
        "webp_cut_half.webp": src[:len(src) // 2],
        "webp_cut_header.webp": src[:14],
        "webp_lossy_cut.webp": lossy[:len(lossy) - 10],
        "webp_anim_cut.webp": anim[:len(anim) - 30],
        "webp_other_first_chunk.webp": src[:12] + b"ICCP" + src[16:],
        "webp_garbage_bitstream.webp": lossy[:30] + bytes(range(200, 256)) + lossy[86:],
        "webp_riff_size_short.webp": src[:4] + struct.pack("<I", 8) + src[8:],
    }


def pillow_rgb(data):
    """Pillow's pixels, or None and why it refused the file."""
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im.convert("RGB")), None
    except Exception as e:  # noqa: BLE001 - any refusal is the answer
        return None, f"{type(e).__name__}: {e}"


class Runner:
    """Runs vitrun on files of one size with the identity preprocessing and
    returns the decoded pixels, ok flags and reasons."""

    def __init__(self, a, tmp):
        self.a, self.tmp, self.n = a, tmp, 0
        self.models = {}
        for patch in (1, 8):
            m = os.path.join(tmp, f"model_p{patch}.h5")
            run([PYTHON, os.path.join(a.scripts, "make_model.py"), "--image-size", 8 * patch,
                 "--patch-size", patch, "--hidden", 8, "--layers", 1, "--heads", 1,
                 "--mlp-dim", 8, "--classes", 2, "--preprocess", "hf", m])
            self.models[patch] = m

    def run(self, paths, h, w, extra=()):
        import h5py
        self.n += 1
        lst = os.path.join(self.tmp, f"list{self.n}.txt")
        with open(lst, "w") as f:
            f.write("\n".join(paths) + "\n")
        out, dump = os.path.join(self.tmp, f"out{self.n}.h5"), os.path.join(self.tmp,
                                                                            f"dump{self.n}.h5")
        patch = 8 if h % 8 == 0 and w % 8 == 0 else 1
        run([self.a.vitrun, "--model", self.models[patch], "--input", lst, "--output", out,
             "--dump-activations", dump, "--image-size", f"{h}x{w}", "--preprocess", "hf",
             "--batch", 8, "--quiet", *extra])
        with h5py.File(dump) as d, h5py.File(out) as o:
            px = d["pixels"][...].reshape(len(paths), 3, h, w)
            ok = o["ok"][...]
            err = [e.decode() for e in o["error"][...]]
        # hf: (x / 255 - 0.5) / 0.5 in float32; inverted exactly to 8-bit levels
        got = np.rint((px.astype(np.float64) * 0.5 + 0.5) * 255).transpose(0, 2, 3, 1)
        return got.astype(np.int64), ok, err


def compare(c, runner, root, files, what, expect_all_open=False):
    """Each file through Pillow and vitrun: same refusals, same pixels.
    Returns {name: (ok, error)}."""
    ref = {n: pillow_rgb(b) for n, b in files.items()}
    groups = {}
    for n, (px, _) in ref.items():
        groups.setdefault(px.shape[:2] if px is not None else (4, 4), []).append(n)
    worst, where, opened, mism, res = 0, "", 0, [], {}
    for (h, w), names in sorted(groups.items()):
        got, ok, err = runner.run([os.path.join(root, n) for n in names], h, w)
        for i, n in enumerate(names):
            res[n] = (int(ok[i]), err[i])
            px, why = ref[n]
            if (px is not None) != bool(ok[i]):
                mism.append(f"{n}: Pillow {'opens it' if px is not None else 'refuses (' + why + ')'}"
                            f", vitrun {'decodes it' if ok[i] else 'refuses (' + err[i] + ')'}")
                continue
            if px is None:
                if not err[i]:
                    mism.append(f"{n}: refused without a reason")
                continue
            opened += 1
            d = int(np.abs(got[i] - px.astype(np.int64)).max())
            if d > worst:
                worst, where = d, n
    refused = len(files) - opened - len(mism)
    c.check(f"{what}: refused where Pillow refuses ({refused}), decoded where it opens",
            not mism and (opened == len(files) or not expect_all_open),
            "; ".join(mism[:6]) + (f" (+{len(mism) - 6} more)" if len(mism) > 6 else ""))
    c.check(f"{what}: {opened} images decoded to Pillow's convert('RGB') pixels", worst == 0,
            f"worst difference {worst} levels{' in ' + where if where else ''} (bound 0)")
    return res


def write(root, files):
    for n, b in files.items():
        os.makedirs(os.path.dirname(os.path.join(root, n)), exist_ok=True)
        with open(os.path.join(root, n), "wb") as f:
            f.write(b)


def main():
    a, skip = jpeg_test_args(mpi=False)
    if skip:
        return skip
    import h5py
    from PIL import Image
    c = Checker("PNG and WebP decoding vs Pillow's convert('RGB')")
    rng = np.random.default_rng(11)
    tmp = a.workdir or tempfile.mkdtemp(prefix="vitrun_fmt_")
    os.makedirs(tmp, exist_ok=True)
    try:
        runner = Runner(a, tmp)
        root = os.path.join(tmp, "files")
        png = png_corpus(rng)
        bad_png = png_damaged(png, rng)
        webp = webp_corpus(rng)
        bad_webp = webp_damaged(webp)
        muts = mutants({k: v for k, v in png.items() if len(v) < 4000}, rng, 90)
        for group in (png, bad_png, webp, bad_webp, muts):
            write(root, group)
        compare(c, runner, root, png, f"{len(png)} PNGs of every mode", expect_all_open=True)
        res = compare(c, runner, root, bad_png, f"{len(bad_png)} damaged PNGs")
        want = {"bad_crc_ihdr.png": "bad CRC", "cut_half.png": "truncated",
                "filter_5.png": "filter", "short_gAMA_before.png": "gAMA chunk of 2 bytes",
                "palette_771.png": "palette of 771 bytes", "iend_first.png": "IEND before",
                "cut_adler_in_own_chunk.png": "truncated"}
        bad = [f"{n}: '{res[n][1]}'" for n, w in want.items() if res[n][0] or w not in res[n][1]]
        c.check("damaged PNGs: the reasons name what is wrong", not bad,
                "; ".join(bad) or "; ".join(f"{n}: {res[n][1]}" for n in list(want)[:3]))
        compare(c, runner, root, muts, f"{len(muts)} mutated PNGs (bytes changed, cut, repeated)")
        compare(c, runner, root, webp, f"{len(webp)} WebPs (lossy, lossless, alpha, animated)",
                expect_all_open=True)
        compare(c, runner, root, bad_webp, f"{len(bad_webp)} damaged WebPs")

        # formats from the bytes, not the name
        lying = {"png_named.jpg": png["pil_RGB.png"], "webp_named.png": webp["webp_lossy.webp"],
                 "jpeg_named.webp": None, "gif_named.png": None}
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (23, 29, 3), dtype=np.uint8)).save(buf, "JPEG")
        lying["jpeg_named.webp"] = buf.getvalue()
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (23, 29, 3), dtype=np.uint8)).save(buf, "GIF")
        lying["gif_named.png"] = buf.getvalue()
        write(root, lying)
        res = compare(c, runner, root, {k: v for k, v in lying.items() if "gif" not in k},
                      "a PNG named .jpg, a WebP named .png, a JPEG named .webp",
                      expect_all_open=True)
        _, ok, err = runner.run([os.path.join(root, "gif_named.png")], 4, 4)
        c.check("a GIF named .png: refused, naming what it is and what vitrun reads",
                ok[0] == 0 and "GIF" in err[0] and "PNG" in err[0], err[0])

        # the whole pipeline: decoding then the hf preset's resize to 12x12,
        # against Pillow's resize (the reference code's pil_input)
        good = sorted(n for n in list(png) + list(webp))
        got, ok, _ = runner.run([os.path.join(root, n) for n in good], 12, 12)
        worst = 0
        for i, n in enumerate(good):
            with Image.open(os.path.join(root, n)) as im:
                ref = np.asarray(im.convert("RGB").resize((12, 12), Image.BILINEAR))
            worst = max(worst, int(np.abs(got[i] - ref.astype(np.int64)).max()))
        c.check(f"{len(good)} PNGs/WebPs resized by the hf preset vs Pillow's resize",
                bool(ok.all()) and worst == 0, f"worst difference {worst} levels (bound 0)")

        # decompression bombs: refused from the header, in bounded memory
        bombs = {"bomb.png": b"\x89PNG\r\n\x1a\n" + ihdr(100000, 100000, 8, 2) +
                 chunk(b"IDAT", zlib.compress(bytes(1000))) + chunk(b"IEND", b""),
                 "bomb.webp": webp_anim(16384, 16384, [(0, 0, 11, 9, True, riff_chunks(
                     webp_still(np.zeros((9, 11, 4), np.uint8), lossless=True)))])}
        write(root, bombs)
        meter = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:]); "
                 "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        for n in bombs:
            out = os.path.join(tmp, n + ".h5")
            lst = os.path.join(tmp, n + ".txt")
            with open(lst, "w") as f:
                f.write(os.path.join(root, n) + "\n")
            p = run([PYTHON, "-c", meter, a.vitrun, "--model", runner.models[1], "--input", lst,
                     "--output", out, "--quiet"])
            rc, kb = (int(x) for x in p.stdout.split()[-2:])
            with h5py.File(out) as o:
                ok, err = int(o["ok"][0]), o["error"][0].decode()
            c.check(f"{n}: declared {'100000x100000' if 'png' in n else '16384x16384'} pixels "
                    "refused from the header", rc == 0 and ok == 0 and "over the limit" in err
                    and kb < 300 * 1024, f"'{err}', peak RSS {kb / 1024:.0f} MB (bound 300 MB)")

        # the directory walk takes .png and .webp in any letter case
        walk = os.path.join(tmp, "walk")
        write(walk, {"a.PNG": png["pil_RGB.png"], "b.webp": webp["webp_lossy.webp"],
                     "c/d.WebP": webp["webp_lossless.webp"], "e.Png": png["pil_L.png"],
                     "f.txt": b"not an image", "g.gif": lying["gif_named.png"]})
        out = os.path.join(tmp, "walk.h5")
        run([a.vitrun, "--model", runner.models[1], "--input", walk, "--output", out,
             "--image-size", "23x29", "--quiet"])
        with h5py.File(out) as o:
            paths = [p.decode() for p in o["path"][...]]
            ok = o["ok"][...]
        c.check("walk: .png/.webp in any case taken, others ignored",
                paths == ["a.PNG", "b.webp", "c/d.WebP", "e.Png"] and bool(ok.all()),
                f"{paths}, ok {ok.tolist()}")
        p = run([a.vitrun, "--model", runner.models[1], "--input", os.path.join(root, "pil_L.png"),
                 "--output", os.path.join(tmp, "x.h5")], check=False)
        c.check("a PNG given as --input: refused as an image, not read as a list",
                p.returncode == 2 and "is a PNG image" in p.stderr, p.stderr.strip()[-160:])
    finally:
        if not a.workdir:
            shutil.rmtree(tmp, ignore_errors=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
