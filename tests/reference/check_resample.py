"""Development oracle for resample_ref (imports torch; not part of CTest).

    /usr/bin/python3 tests/reference/check_resample.py [--no-c]

1. resample_ref.interpolate against torch.nn.functional.interpolate in float64:
   bicubic / bilinear, antialias on / off, align_corners off / on, size= and
   scale_factor= (recompute_scale_factor unset and True), up and down, square
   and not.
2. resample_ref.resample_pos_embed for each library against that library's
   code transcribed with torch (the same F.interpolate call, the same
   arguments, the same reshapes), in float64; and, for information, the
   library's own float32 run against the float64 reference.
3. runtime/resample.c (Pillow's fixed-point weights, built here into a
   throwaway shared library and read through ctypes) against torch's
   antialiased weights and against the plain bicubic ones.

Prints the max abs difference per case; exits 1 if any float64 case is above
TOL.
"""
import argparse
import ctypes
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
try:
    import torch
    import torch.nn.functional as F
except ImportError:  # CTest's skip code: the oracle needs python3-torch
    print("SKIPPED: check_resample.py needs python3-torch")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import resample_ref as rr  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOL = 1e-12
failures = []


def report(label, diff, tol=TOL):
    bad = not (diff <= tol)
    if bad:
        failures.append(label)
    print(f"  {label:<64} {diff:10.3e}{'  FAIL' if bad else ''}")


def torch_interp(grid, **kw):
    return F.interpolate(torch.from_numpy(grid)[None], **kw)[0].numpy()


# ---- 1. interpolate --------------------------------------------------------

SIZE_CASES = [((14, 14), (18, 18)), ((14, 14), (16, 20)), ((16, 16), (37, 37)),
              ((24, 24), (14, 14)), ((37, 37), (16, 16)), ((7, 7), (5, 5)),
              ((14, 14), (14, 14)), ((14, 14), (14, 20)), ((16, 20), (14, 14)),
              ((5, 9), (23, 2)), ((7, 7), (1, 3)), ((32, 32), (7, 9)), ((3, 3), (40, 40))]
# (in_hw, scale_factor): the +0.1 forms of HF / DINOv2 and plain factors
SCALE_CASES = [((14, 14), ((18 + 0.1) / 14, (18 + 0.1) / 14)),
               ((16, 16), ((37 + 0.1) / 16, (20 + 0.1) / 16)),
               ((24, 24), ((14 + 0.1) / 24, (14 + 0.1) / 24)),
               ((37, 37), ((16 + 0.1) / 37, (16 + 0.1) / 37)),
               ((14, 14), ((14 + 0.1) / 14, (20 + 0.1) / 14)),  # one axis unchanged in size
               ((7, 7), ((5 + 0.1) / 7, (5 + 0.1) / 7)),
               ((16, 16), (1.37, 0.61)), ((10, 13), (2.0, 0.5)), ((14, 14), (1.0, 1.0))]


def check_interpolate(rng):
    print("1. interpolate vs torch F.interpolate, float64")
    worst = {}
    for mode in rr.MODES:
        for aa in (False, True):
            for ac in (False, True):
                key = f"{mode} antialias={aa} align_corners={ac} size="
                worst[key] = 0.0
                for (ih, iw), (oh, ow) in SIZE_CASES:
                    g = rng.standard_normal((3, ih, iw))
                    ref = rr.interpolate(g, oh, ow, mode, aa, align_corners=ac)
                    t = torch_interp(g, size=(oh, ow), mode=mode, antialias=aa, align_corners=ac)
                    assert ref.shape == t.shape, (key, ref.shape, t.shape)
                    d = float(np.abs(ref - t).max())
                    worst[key] = max(worst[key], d)
                    if d > TOL:
                        print(f"    {key} {ih}x{iw}->{oh}x{ow}: {d:.3e}")
                for rc in (None, True):
                    key = f"{mode} antialias={aa} align_corners={ac} scale_factor= rc={rc}"
                    worst[key] = 0.0
                    for (ih, iw), sf in SCALE_CASES:
                        g = rng.standard_normal((3, ih, iw))
                        ref = rr.interpolate(g, None, None, mode, aa, align_corners=ac,
                                             scale_factor=sf, recompute_scale_factor=rc)
                        t = torch_interp(g, scale_factor=sf, mode=mode, antialias=aa,
                                         align_corners=ac, recompute_scale_factor=rc)
                        assert ref.shape == t.shape, (key, sf, ref.shape, t.shape)
                        d = float(np.abs(ref - t).max())
                        worst[key] = max(worst[key], d)
                        if d > TOL:
                            print(f"    {key} {ih}x{iw} sf={sf}: {d:.3e}")
    for key, d in worst.items():
        report(key, d)
    # the sample positions really move with the +0.1 scale factor
    g = rng.standard_normal((3, 14, 14))
    a = rr.interpolate(g, 18, 18, "bicubic", False)
    b = rr.interpolate(g, None, None, "bicubic", False, scale_factor=(18.1 / 14, 18.1 / 14))
    print(f"  (size=18 vs scale_factor=18.1/14, bicubic: they differ by {np.abs(a - b).max():.3e})")


# ---- 2. each library, transcribed with torch -------------------------------

def timm_torch(posemb, new_size, old_size, num_prefix_tokens, interpolation="bicubic",
               antialias=True, dtype=torch.float64):
    """timm/layers/pos_embed.py resample_abs_pos_embed (@aa4b5850); the library
    casts to float32, `dtype` keeps float64 for the exact comparison."""
    num_pos_tokens = posemb.shape[1]
    num_new_tokens = new_size[0] * new_size[1] + num_prefix_tokens
    if num_new_tokens == num_pos_tokens and new_size[0] == new_size[1]:
        return posemb
    if old_size is None:
        hw = int(math.sqrt(num_pos_tokens - num_prefix_tokens))
        old_size = hw, hw
    if num_prefix_tokens:
        posemb_prefix, posemb = posemb[:, :num_prefix_tokens], posemb[:, num_prefix_tokens:]
    else:
        posemb_prefix, posemb = None, posemb
    embed_dim = posemb.shape[-1]
    orig_dtype = posemb.dtype
    posemb = posemb.to(dtype)
    posemb = posemb.reshape(1, old_size[0], old_size[1], -1).permute(0, 3, 1, 2)
    posemb = F.interpolate(posemb, size=new_size, mode=interpolation, antialias=antialias)
    posemb = posemb.permute(0, 2, 3, 1).reshape(1, -1, embed_dim)
    posemb = posemb.to(orig_dtype)
    if posemb_prefix is not None:
        posemb = torch.cat([posemb_prefix, posemb], dim=1)
    return posemb


def hf_torch(position_embeddings, num_patches, height, width, patch_size, prefix, legacy=False,
             dtype=None):
    """ViTEmbeddings / CLIPVisionEmbeddings / Dinov2Embeddings / SiglipVisionEmbeddings
    .interpolate_pos_encoding; legacy: the older +0.1 scale_factor form. `dtype`:
    Dinov2 casts to float32 (None keeps the table's dtype)."""
    num_positions = position_embeddings.shape[1] - prefix
    if num_patches == num_positions and height == width:
        return position_embeddings
    class_pos_embed = position_embeddings[:, :prefix]
    patch_pos_embed = position_embeddings[:, prefix:]
    dim = position_embeddings.shape[-1]
    target_dtype = patch_pos_embed.dtype
    x = patch_pos_embed.reshape(1, int(math.sqrt(num_positions)), int(math.sqrt(num_positions)),
                                dim).permute(0, 3, 1, 2)
    if dtype is not None:
        x = x.to(dtype)
    if legacy:
        h, w = height // patch_size + 0.1, width // patch_size + 0.1
        x = F.interpolate(x, scale_factor=(float(h / math.sqrt(num_positions)),
                                           float(w / math.sqrt(num_positions))),
                          mode="bicubic", align_corners=False)
        assert int(h) == x.shape[-2] and int(w) == x.shape[-1]
    else:
        x = F.interpolate(x, size=(height // patch_size, width // patch_size), mode="bicubic",
                          align_corners=False)
    x = x.to(target_dtype).permute(0, 2, 3, 1).reshape(1, -1, dim)
    return torch.cat((class_pos_embed, x), dim=1)


def dinov2_torch(pos_embed, npatch, w, h, patch_size, interpolate_offset=0.1,
                 interpolate_antialias=False, dtype=torch.float64):
    """facebookresearch/dinov2 DinoVisionTransformer.interpolate_pos_encoding
    (@b8931f7b); w, h are x.shape[-2], x.shape[-1] (rows, cols). The library
    casts to float32 (.float()), `dtype` keeps float64."""
    previous_dtype = pos_embed.dtype
    N = pos_embed.shape[1] - 1
    if npatch == N and w == h:
        return pos_embed
    pos_embed = pos_embed.to(dtype)
    class_pos_embed = pos_embed[:, 0]
    patch_pos_embed = pos_embed[:, 1:]
    dim = pos_embed.shape[-1]
    w0 = w // patch_size
    h0 = h // patch_size
    M = int(math.sqrt(N))
    assert N == M * M
    kwargs = {}
    if interpolate_offset:
        sx = float(w0 + interpolate_offset) / M
        sy = float(h0 + interpolate_offset) / M
        kwargs["scale_factor"] = (sx, sy)
    else:
        kwargs["size"] = (w0, h0)
    patch_pos_embed = F.interpolate(patch_pos_embed.reshape(1, M, M, dim).permute(0, 3, 1, 2),
                                    mode="bicubic", antialias=interpolate_antialias, **kwargs)
    assert (w0, h0) == patch_pos_embed.shape[-2:]
    patch_pos_embed = patch_pos_embed.permute(0, 2, 3, 1).reshape(1, -1, dim)
    return torch.cat((class_pos_embed.unsqueeze(0), patch_pos_embed), dim=1).to(previous_dtype)


GRID_CASES = [(14, (18, 18)), (14, (16, 20)), (16, (37, 37)), (24, (14, 14)), (37, (16, 16)),
              (7, (5, 5)), (14, (14, 14)), (14, (20, 14)), (16, (16, 24))]
TIMM_CASES = GRID_CASES + [((16, 20), (14, 14)), ((16, 20), (16, 20)), ((12, 18), (24, 9))]
PATCH = 14
D = 8


def check_libraries(rng):
    print("2. resample_pos_embed vs each library's call transcribed with torch")
    print("   (float64; last column: the library's own float32 run vs the float64 reference)")

    for interp, aa, prefixes in (("bicubic", True, (1, 0, 5)), ("bilinear", False, (1,))):
        for prefix in prefixes:
            w64 = w32 = 0.0
            for old, new in TIMM_CASES:
                oh, ow = (old, old) if isinstance(old, int) else old
                pos = rng.standard_normal((prefix + oh * ow, D))
                ref = rr.resample_pos_embed(pos, prefix, (oh, ow), new, "timm",
                                            interpolation=interp, antialias=aa)
                tp = torch.from_numpy(pos)[None]
                old_size = None if oh == ow else (oh, ow)
                t64 = timm_torch(tp, new, old_size, prefix, interp, aa)[0].numpy()
                t32 = timm_torch(tp.float(), new, old_size, prefix, interp, aa,
                                 dtype=torch.float32)[0].double().numpy()
                assert np.array_equal(ref[:prefix], pos[:prefix])
                w64 = max(w64, float(np.abs(ref - t64).max()))
                w32 = max(w32, float(np.abs(ref - t32).max()))
            _line(f"timm {interp} antialias={aa} prefix={prefix}", w64, w32)

    for lib, prefix in (("hf_vit", 1), ("hf_clip", 1), ("hf_dinov2", 1), ("hf_siglip", 0)):
        for legacy in (False, True):
            w64 = w32 = 0.0
            for m, (nh, nw) in GRID_CASES + [(14, (14, 14))]:
                for img in ((nh * PATCH, nw * PATCH), (nh * PATCH + 5, nw * PATCH + 3)):
                    pos = rng.standard_normal((prefix + m * m, D))
                    ref = rr.resample_pos_embed(pos, prefix, (m, m), (nh, nw), lib,
                                                image_hw=img, legacy=legacy)
                    tp = torch.from_numpy(pos)[None]
                    t64 = hf_torch(tp, nh * nw, img[0], img[1], PATCH, prefix, legacy)[0].numpy()
                    f32 = torch.float32 if lib == "hf_dinov2" else None
                    t32 = hf_torch(tp.float(), nh * nw, img[0], img[1], PATCH, prefix, legacy,
                                   dtype=f32)[0].double().numpy()
                    w64 = max(w64, float(np.abs(ref - t64).max()))
                    w32 = max(w32, float(np.abs(ref - t32).max()))
            _line(f"{lib} legacy={legacy}", w64, w32)
    # a non-square image of square patch count: size= is the identity, +0.1 is not
    pos = rng.standard_normal((1 + 14 * 14, D))
    a = rr.resample_pos_embed(pos, 1, (14, 14), (14, 14), "hf_vit", image_hw=(224, 230),
                              legacy=True)
    print(f"  (hf legacy, 14x14 grid from a 224x230 image: moved by {np.abs(a - pos).max():.3e})")

    for off, aa in ((0.1, False), (0.0, True), (0.1, True), (0.0, False)):
        w64 = w32 = 0.0
        for m, (nh, nw) in GRID_CASES:
            for img in ((nh * PATCH, nw * PATCH), (nh * PATCH + 5, nw * PATCH + 3)):
                pos = rng.standard_normal((1 + m * m, D))
                ref = rr.resample_pos_embed(pos, 1, (m, m), (nh, nw), "dinov2", image_hw=img,
                                            interpolate_offset=off, interpolate_antialias=aa)
                tp = torch.from_numpy(pos)[None]
                t64 = dinov2_torch(tp, nh * nw, img[0], img[1], PATCH, off, aa)[0].numpy()
                t32 = dinov2_torch(tp.float(), nh * nw, img[0], img[1], PATCH, off, aa,
                                   dtype=torch.float32)[0].double().numpy()
                w64 = max(w64, float(np.abs(ref - t64).max()))
                w32 = max(w32, float(np.abs(ref - t32).max()))
        _line(f"dinov2 interpolate_offset={off} antialias={aa}", w64, w32)


def _line(label, d64, d32):
    bad = not (d64 <= TOL)
    if bad:
        failures.append(label)
    print(f"  {label:<64} {d64:10.3e}   f32 {d32:9.2e}{'  FAIL' if bad else ''}")


# ---- 3. runtime/resample.c's weights ---------------------------------------

class Resampler(ctypes.Structure):  # runtime/resample.h vr_resampler
    _fields_ = [("kx", ctypes.POINTER(ctypes.c_int32)), ("ky", ctypes.POINTER(ctypes.c_int32)),
                ("bx", ctypes.POINTER(ctypes.c_int)), ("by", ctypes.POINTER(ctypes.c_int)),
                ("tmp", ctypes.POINTER(ctypes.c_uint8)), ("acc", ctypes.POINTER(ctypes.c_int32)),
                ("cap_kx", ctypes.c_size_t), ("cap_ky", ctypes.c_size_t),
                ("cap_bx", ctypes.c_size_t), ("cap_by", ctypes.c_size_t),
                ("cap_tmp", ctypes.c_size_t), ("cap_acc", ctypes.c_size_t)]


PRECISION_BITS = 22  # resample.c: 32 - 8 - 2


def c_weights(lib, in_size, out_size, interp):
    """resample.c's fixed-point horizontal weights of a 1-row in_size -> out_size
    resize, as an (out_size, in_size) int matrix."""
    r = Resampler()
    src = (ctypes.c_uint8 * in_size)()
    dst = (ctypes.c_uint8 * out_size)()
    st = lib.vr_resize_window_u8(ctypes.byref(r), dst, 1, out_size, 0, 1, 0, out_size, src, 1,
                                 in_size, 1, interp)
    assert st == 0, st
    support = (2.0 if interp == 1 else 1.0) * max(in_size / out_size, 1.0)
    ksize = int(math.ceil(support)) * 2 + 1
    w = np.zeros((out_size, in_size), dtype=np.int64)
    for i in range(out_size):
        xmin, n = r.bx[2 * i], r.bx[2 * i + 1]
        for k in range(n):
            w[i, xmin + k] = r.kx[i * ksize + k]
    lib.vr_resampler_free(ctypes.byref(r))
    return w


def quantise(w):
    """Pillow's normalize_coeffs_8bpc rounding, as resample.c does it."""
    s = w * (1 << PRECISION_BITS)
    return np.where(w < 0, np.trunc(-0.5 + s), np.trunc(0.5 + s)).astype(np.int64)


def torch_weights(in_size, out_size, mode, antialias):
    """torch's (out, in) matrix of one axis, read off by interpolating unit vectors."""
    eye = np.eye(in_size)[:, None, :]  # (in, 1, in): a 1 x in image per unit vector
    y = F.interpolate(torch.from_numpy(eye)[:, :, None, :].expand(-1, -1, 1, -1).contiguous(),
                      size=(1, out_size), mode=mode, antialias=antialias, align_corners=False)
    return y[:, 0, 0, :].numpy().T


def check_c(tmpdir):
    print("3. runtime/resample.c weights vs torch (one axis, in -> out)")
    so = os.path.join(tmpdir, "resample.so")
    subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-I", os.path.join(ROOT, "runtime"),
                    os.path.join(ROOT, "runtime", "resample.c"),
                    os.path.join(ROOT, "runtime", "status.c"), "-lm", "-o", so], check=True)
    lib = ctypes.CDLL(so)
    sz = ctypes.c_size_t
    lib.vr_resize_window_u8.argtypes = [ctypes.POINTER(Resampler), ctypes.c_void_p, sz, sz, sz,
                                        sz, sz, sz, ctypes.c_void_p, sz, sz, sz, ctypes.c_int]
    lib.vr_resize_window_u8.restype = ctypes.c_int
    lib.vr_resampler_free.argtypes = [ctypes.POINTER(Resampler)]
    pairs = [(14, 18), (14, 16), (14, 20), (16, 37), (24, 14), (37, 16), (7, 5), (32, 7), (3, 40)]
    for mode, interp in (("bicubic", 1), ("bilinear", 0)):
        exact = True
        d_aa = d_plain = d_ref = 0.0
        for i, o in pairs:
            cw = c_weights(lib, i, o, interp)
            ref = rr.weights_1d(i, o, mode, True)
            exact &= bool(np.array_equal(cw, quantise(ref)))
            tw = torch_weights(i, o, mode, True)
            d_ref = max(d_ref, float(np.abs(ref - tw).max()))
            d_aa = max(d_aa, float(np.abs(cw / (1 << PRECISION_BITS) - tw).max()))
            d_plain = max(d_plain, float(np.abs(cw / (1 << PRECISION_BITS)
                                                - torch_weights(i, o, mode, False)).max()))
        report(f"{mode}: weights_1d(antialias) vs torch antialias", d_ref)
        print(f"  {mode + ': resample.c ints == round(weights_1d(antialias) * 2^22)':<64} {exact}")
        print(f"  {mode + ': resample.c / 2^22 vs torch antialias':<64} {d_aa:10.3e}"
              f"  (2^-23 = {2.0 ** -23:.3e})")
        print(f"  {mode + ': resample.c / 2^22 vs torch plain (no antialias)':<64} {d_plain:10.3e}")
        if not exact:
            failures.append(f"resample.c {mode} weights")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-c", action="store_true", help="skip the runtime/resample.c check")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, numpy {np.__version__}")
    rng = np.random.default_rng(0)
    check_interpolate(rng)
    check_libraries(rng)
    if not args.no_c:
        with tempfile.TemporaryDirectory() as d:
            check_c(d)
    print("FAILED: " + ", ".join(failures) if failures else f"all within {TOL:g}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
