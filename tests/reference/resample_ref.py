"""Position-embedding resampling in float64 numpy, written from the definitions.

When a ViT runs at a resolution other than its training size, its learned
position table (prefix rows, then a gh x gw grid of width D, row-major) is
resampled the way the checkpoint's own library does it. Every library ends in
torch.nn.functional.interpolate on the grid as an NCHW image, with arguments of
its own; this module is that interpolation and those arguments, in numpy,
without torch.

interpolate(grid, out_h, out_w, mode, antialias, align_corners=False,
            scale_factor=None, recompute_scale_factor=None, aa_skip_same_size=False)
    grid (C, H, W) -> (C, out_h, out_w), F.interpolate's result for mode
    "bicubic" / "bilinear", antialias True / False, with size= (out_h, out_w)
    or scale_factor= (out_h, out_w None or equal to floor(H * sf)).

weights_1d(in_size, out_size, mode, antialias, align_corners=False, scale_factor=None)
    The (out_size, in_size) matrix of one axis: interpolate() is
    Wh @ grid @ Ww^T. The C port can check its tables against it.

resample_pos_embed(pos, prefix, old_hw, new_hw, library, image_hw=None, **options)
    pos (prefix + gh*gw, D) -> (prefix + new_h*new_w, D), with each library's
    own call; see LIBRARIES below.

The two interpolation paths of torch (aten/src/ATen/native/UpSample.h and
cpu/UpSampleKernel.cpp, torch 1.13; the same formulas in 2.x):

Source coordinate. For output index i of an axis, with scale s:
    s = (in - 1) / (out - 1)     align_corners (0 when out == 1)
    s = 1 / scale_factor         scale_factor given and kept (recompute_scale_factor
                                 None or False): the user's factor, NOT in/out
    s = in / out                 otherwise (size=), out == 1 included
  (area_pixel_compute_scale / compute_scales_value; an older UpSample.h gave
  0 for out == 1 without align_corners too, torch 1.13 does not). With scale_factor the
  output size is floor(in * scale_factor), so the +0.1 that HF's and DINOv2's
  older code add to the target size moves every sample point a little
  without changing the output size.

Plain path (antialias=False), separable, fixed taps:
  bicubic: x = s*(i + 0.5) - 0.5 (s*i with align_corners), not clamped;
    x0 = floor(x), t = x - x0; taps x0-1 .. x0+2 with the Keys cubic,
    a = -0.75: W(t+1), W(t), W(1-t), W(2-t); tap indices clamped to
    [0, in-1] (the border value repeated), weights NOT renormalised.
  bilinear: out == in copies; x = max(s*(i + 0.5) - 0.5, 0), x0 = int(x),
    x1 = x0 + 1 unless x0 is the last; weights 1 - (x - x0), x - x0.

Antialiased path (antialias=True, _upsample_bicubic2d_aa / _bilinear2d_aa,
HelperInterpBase::_compute_weights_aa, Pillow's precompute_coeffs):
  kernel: bicubic Keys cubic with a = -0.5 (support 2), bilinear triangle
    (support 1);
  support = base * s and the kernel stretched by s when s >= 1 (shrinking),
    base and the plain kernel when s < 1 (enlarging);
  center = s * (i + 0.5); taps j in [max(int(center - support + 0.5), 0),
    min(int(center + support + 0.5), in)) (int truncates toward zero);
  w_j = K((j - center + 0.5) / max(s, 1)), then divided by their sum (when it
    is not 0): taps past the border are dropped and the rest renormalised.
  The width pass runs first, then the height pass (torch 1.13 runs both even
  when a size is unchanged; newer torch skips an axis whose size is unchanged,
  aa_skip_same_size=True: this only matters with scale_factor).

All arithmetic here is float64. The libraries run the interpolation in
float32 (timm, DINOv2 and HF DINOv2 cast to float32 first; HF ViT/CLIP/SigLIP
in the parameter dtype), so their tables differ from these by float32
rounding (about 1e-7 relative).
"""
import math

import numpy as np

MODES = ("bicubic", "bilinear")


def cubic(x, a):
    """Keys' cubic convolution kernel, support [-2, 2]."""
    x = np.abs(np.asarray(x, dtype=np.float64))
    near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    far = ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


def triangle(x):
    x = np.abs(np.asarray(x, dtype=np.float64))
    return np.where(x < 1.0, 1.0 - x, 0.0)


def source_scale(in_size, out_size, align_corners=False, scale_factor=None):
    """torch's area_pixel_compute_scale: input pixels per output pixel."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    if scale_factor is not None and scale_factor > 0:
        return 1.0 / scale_factor
    return in_size / out_size


def _plain_bicubic(in_size, out_size, s, align_corners):
    w = np.zeros((out_size, in_size))
    for i in range(out_size):
        x = s * i if align_corners else s * (i + 0.5) - 0.5
        x0 = min(math.floor(x), in_size - 1)
        t = min(max(x - x0, 0.0), 1.0)
        taps = cubic(np.array([t + 1.0, t, 1.0 - t, 2.0 - t]), -0.75)
        for k in range(4):
            w[i, min(max(x0 - 1 + k, 0), in_size - 1)] += taps[k]
    return w


def _plain_bilinear(in_size, out_size, s, align_corners):
    w = np.zeros((out_size, in_size))
    if out_size == in_size:
        w[np.arange(in_size), np.arange(in_size)] = 1.0
        return w
    for i in range(out_size):
        x = s * i if align_corners else max(s * (i + 0.5) - 0.5, 0.0)
        x0 = min(int(x), in_size - 1)
        x1 = x0 + 1 if x0 < in_size - 1 else x0
        l1 = min(max(x - x0, 0.0), 1.0)
        w[i, x0] += 1.0 - l1
        w[i, x1] += l1
    return w


def _antialiased(in_size, out_size, s, mode):
    kernel = (lambda x: cubic(x, -0.5)) if mode == "bicubic" else triangle
    base = 2.0 if mode == "bicubic" else 1.0
    support = base * s if s >= 1.0 else base
    stretch = s if s >= 1.0 else 1.0
    w = np.zeros((out_size, in_size))
    for i in range(out_size):
        center = s * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), in_size)
        if hi <= lo:
            continue
        taps = kernel((np.arange(lo, hi) - center + 0.5) / stretch)
        total = taps.sum()
        w[i, lo:hi] = taps / total if total != 0.0 else taps
    return w


def weights_1d(in_size, out_size, mode, antialias, align_corners=False, scale_factor=None):
    """(out_size, in_size) interpolation matrix of one axis, as torch builds it."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r}: one of {MODES}")
    if in_size < 1 or out_size < 1:
        raise ValueError(f"sizes must be positive, got {in_size} -> {out_size}")
    s = source_scale(in_size, out_size, align_corners, scale_factor)
    if antialias:
        return _antialiased(in_size, out_size, s, mode)
    if mode == "bicubic":
        return _plain_bicubic(in_size, out_size, s, align_corners)
    return _plain_bilinear(in_size, out_size, s, align_corners)


def _pair(v):
    return (v, v) if isinstance(v, (int, float)) else tuple(v)


def interpolate(grid, out_h, out_w, mode, antialias, align_corners=False, scale_factor=None,
                recompute_scale_factor=None, aa_skip_same_size=False):
    """F.interpolate(grid[None], size=(out_h, out_w) or scale_factor=..., mode=mode,
    antialias=antialias, align_corners=align_corners)[0] for a (C, H, W) array."""
    grid = np.asarray(grid, dtype=np.float64)
    if grid.ndim != 3:
        raise ValueError(f"grid must be (C, H, W), got shape {grid.shape}")
    _, H, W = grid.shape
    sh = sw = None
    if scale_factor is not None:
        sh, sw = (float(v) for v in _pair(scale_factor))
        # torch: output size = floor(in * scale_factor), in double
        oh, ow = int(math.floor(H * sh)), int(math.floor(W * sw))
        if (out_h is not None and out_h != oh) or (out_w is not None and out_w != ow):
            raise ValueError(f"scale_factor {scale_factor} gives {oh}x{ow}, not {out_h}x{out_w}")
        out_h, out_w = oh, ow
        if recompute_scale_factor:
            sh = sw = None  # only the size is kept: the scale becomes in/out
    elif out_h is None or out_w is None:
        raise ValueError("give out_h and out_w, or scale_factor")
    wh = weights_1d(H, out_h, mode, antialias, align_corners, sh)
    ww = weights_1d(W, out_w, mode, antialias, align_corners, sw)
    if antialias and aa_skip_same_size:
        if out_h == H:
            wh = np.eye(H)
        if out_w == W:
            ww = np.eye(W)
    # width pass, then height pass (torch's order for the separable AA path)
    tmp = np.einsum("chw,ow->cho", grid, ww)
    return np.einsum("oh,chw->cow", wh, tmp)


# Each library's call, confirmed from its source:
#   timm      timm/layers/pos_embed.py resample_abs_pos_embed (pytorch-image-models
#             @aa4b5850): unchanged if new_h*new_w + prefix == N and new_h == new_w;
#             prefix rows kept; F.interpolate(size=new_hw, mode=interpolation,
#             antialias=antialias), align_corners unset (False); defaults bicubic,
#             antialias=True (checkpoint_filter_fn, dynamic_img_size, set_input_size);
#             flexi models and _load_weights (npz): interpolation='bilinear',
#             antialias=False. old grid given by old_size (non-square allowed).
#   hf_vit    transformers models/vit/modeling_vit.py ViTEmbeddings (@005db820),
#   hf_clip   models/clip/modeling_clip.py CLIPVisionEmbeddings (@000f1ffd),
#   hf_dinov2 models/dinov2/modeling_dinov2.py Dinov2Embeddings (@015e6876),
#   hf_siglip SiglipVisionEmbeddings (newer releases; prefix 0):
#             unchanged if the patch count is the old one and the image is square
#             (height == width in pixels); 1 prefix row (0 for SigLIP); old grid
#             int(sqrt(N)) square; F.interpolate(size=(h//p, w//p), mode="bicubic",
#             align_corners=False), no antialias.
#             legacy=True: the form of older releases (read in SigLIP @00b20656 and
#             in older copies of Dinov2Embeddings, which also casts to float32):
#             scale_factor=((h//p + 0.1)/sqrt(N), (w//p + 0.1)/sqrt(N)), bicubic,
#             align_corners=False, recompute_scale_factor unset.
#   dinov2    facebookresearch/dinov2 dinov2/models/vision_transformer.py
#             DinoVisionTransformer.interpolate_pos_encoding (@b8931f7b): unchanged
#             if npatch == N and the image is square; 1 prefix row (registers are
#             inserted after the table is added); M = int(sqrt(N)); with
#             interpolate_offset (default 0.1):
#             scale_factor=((rows+off)/M, (cols+off)/M), else size=(rows, cols);
#             mode="bicubic", antialias=interpolate_antialias (default False);
#             hub *_reg models (dinov2/hub/backbones.py): offset 0.0, antialias True.
LIBRARIES = ("timm", "hf_vit", "hf_dinov2", "hf_clip", "hf_siglip", "dinov2")
_FIXED_PREFIX = {"hf_vit": 1, "hf_dinov2": 1, "hf_clip": 1, "hf_siglip": 0, "dinov2": 1}
_OPTIONS = {
    "timm": dict(interpolation="bicubic", antialias=True),
    "hf_vit": dict(legacy=False), "hf_dinov2": dict(legacy=False),
    "hf_clip": dict(legacy=False), "hf_siglip": dict(legacy=False),
    "dinov2": dict(interpolate_offset=0.1, interpolate_antialias=False),
}


def library_call(library, old_hw, new_hw, **options):
    """The interpolate() keyword arguments `library` uses for old_hw -> new_hw:
    dict(out_h, out_w, mode, antialias, align_corners, scale_factor)."""
    if library not in LIBRARIES:
        raise ValueError(f"library {library!r}: one of {LIBRARIES}")
    opts = dict(_OPTIONS[library])
    unknown = set(options) - set(opts)
    if unknown:
        raise ValueError(f"{library}: unknown options {sorted(unknown)}; it takes {sorted(opts)}")
    opts.update(options)
    nh, nw = new_hw
    call = dict(out_h=nh, out_w=nw, mode="bicubic", antialias=False, align_corners=False,
                scale_factor=None)
    if library == "timm":
        call.update(mode=opts["interpolation"], antialias=bool(opts["antialias"]))
    elif library == "dinov2":
        m = old_hw[0]
        off = opts["interpolate_offset"]
        call.update(antialias=bool(opts["interpolate_antialias"]))
        if off:
            call.update(out_h=None, out_w=None,
                        scale_factor=(float(nh + off) / m, float(nw + off) / m))
    elif opts["legacy"]:
        root = math.sqrt(old_hw[0] * old_hw[1])
        call.update(out_h=None, out_w=None,
                    scale_factor=((nh + 0.1) / root, (nw + 0.1) / root))
    return call


def resample_pos_embed(pos, prefix, old_hw, new_hw, library, image_hw=None, **options):
    """The position table `library` uses at a new patch grid.

    pos      (prefix + old_h*old_w, D): prefix rows, then the grid row-major
    prefix   rows kept verbatim in front (timm: num_prefix_tokens, 0 when
             no_embed_class; fixed by the others: 1, SigLIP 0)
    old_hw   (rows, cols) of the stored grid; only timm takes a non-square one
    new_hw   (rows, cols) of the new patch grid (image size // patch)
    image_hw the image size in pixels, for the HF / DINOv2 test "same patch
             count and height == width: unchanged"; None: square iff new_hw is
    options  timm: interpolation="bicubic", antialias=True
             hf_*: legacy=False (True: the older +0.1 / scale_factor form)
             dinov2: interpolate_offset=0.1, interpolate_antialias=False
    Returns a new (prefix + new_h*new_w, D) float64 array.
    """
    pos = np.asarray(pos, dtype=np.float64)
    if pos.ndim != 2:
        raise ValueError(f"pos must be (tokens, D), got shape {pos.shape}")
    oh, ow = (int(v) for v in old_hw)
    nh, nw = (int(v) for v in new_hw)
    if library in _FIXED_PREFIX and prefix != _FIXED_PREFIX[library]:
        raise ValueError(f"{library} keeps {_FIXED_PREFIX[library]} prefix rows, not {prefix}")
    if pos.shape[0] != prefix + oh * ow:
        raise ValueError(f"pos has {pos.shape[0]} rows, not {prefix} + {oh}x{ow}")
    if library != "timm" and oh != ow:
        raise ValueError(f"{library} assumes a square stored grid, got {oh}x{ow}")
    if nh < 1 or nw < 1:
        raise ValueError(f"new grid {nh}x{nw} is empty")
    call = library_call(library, (oh, ow), (nh, nw), **options)

    same_count = nh * nw == oh * ow
    if library == "timm":
        unchanged = same_count and nh == nw
    else:
        square = (nh == nw) if image_hw is None else (image_hw[0] == image_hw[1])
        unchanged = same_count and square
    if unchanged:
        return pos.copy()

    D = pos.shape[1]
    grid = pos[prefix:].reshape(oh, ow, D).transpose(2, 0, 1)
    out = interpolate(grid, **call)
    if out.shape[1:] != (nh, nw):  # the libraries assert this too
        raise ValueError(f"{library}: interpolation gave {out.shape[1:]}, not {(nh, nw)}")
    return np.concatenate([pos[:prefix], out.transpose(1, 2, 0).reshape(nh * nw, D)], axis=0)
