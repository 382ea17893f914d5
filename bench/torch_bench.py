#!/usr/bin/env python3
"""Times torchvision's vit_b_16 in PyTorch for bench/bench.py.

    /usr/bin/python3 bench/torch_bench.py --pth out/bench/vit_b_16.pth
        [--batch 8] [--threads 2] [--iters 6] [--warmup 1] [--mode freeze]
        [--quantize dynamic]

Prints one JSON line: images/s of each timed iteration and of them all (batch *
iters / their total time), and the settings in force. Model loading, tracing,
freezing and the warm-up iterations are not timed. Inputs are random, contiguous
NCHW float32, made once.

--mode: eager (nn.Module under torch.inference_mode; nn.MultiheadAttention then
takes its fused fast path), trace (torch.jit.trace), freeze (trace +
torch.jit.freeze: weights folded in as constants), optimize (freeze +
torch.jit.optimize_for_inference, which hands what it can to oneDNN).

--quantize dynamic: PyTorch's dynamic int8 quantization,
torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8):
weights int8 (per tensor, symmetric), activations quantized to uint8 from
their range (per tensor) at every call, int32 products, float out; on
torch.backends.quantized.engine (Debian's torch has no FBGEMM: oneDNN). It
only replaces nn.Linear modules, and torchvision's attention keeps its input
projection as a bare parameter (nn.MultiheadAttention's in_proj_weight), so
the model is LinearViT below: the same ViT-B/16 written out of nn.Linear
layers (qkv, out-proj, fc1, fc2, head), loaded with the same state dict. Its
float logits are checked against torchvision's on one image first (worst
difference relative to the largest logit, bound 1e-4; the JSON carries it
and the int8 model's difference from float). --mode applies after
quantizing; loading, the check, quantizing, tracing are not timed.

What the library does before it is loaded is set by the environment, so the
caller (bench.py) sets it: OPENBLAS_CORETYPE (Debian's OpenBLAS 0.3.21 otherwise
picks its SSE3 kernels on AVX-512 CPUs it does not know), OMP_WAIT_POLICY,
OPENBLAS_NUM_THREADS. The JSON names the OpenBLAS kernels that were loaded.
"""
import argparse
import ctypes
import json
import os
import sys
import time

import torch
import torchvision
from torch import nn


def openblas_core():
    """The kernels OpenBLAS chose, if torch's BLAS is OpenBLAS ('' otherwise)."""
    for name in ("libblas.so.3", "libopenblas.so.0"):
        try:
            lib = ctypes.CDLL(name, mode=os.RTLD_NOLOAD | os.RTLD_GLOBAL)
        except OSError:
            continue
        for fn in ("openblas_get_config", "openblas_get_corename"):
            if not hasattr(lib, fn):
                break
        else:
            lib.openblas_get_config.restype = ctypes.c_char_p
            lib.openblas_get_corename.restype = ctypes.c_char_p
            config, core = lib.openblas_get_config().decode(), lib.openblas_get_corename().decode()
            return config if core in config.split() else f"{config} core={core}"
    return ""


def build(pth, classes):
    m = torchvision.models.vit_b_16(weights=None, num_classes=classes)
    if pth:
        m.load_state_dict(torch.load(pth, map_location="cpu"))
    return m.eval()


class Block(nn.Module):
    """One pre-norm encoder layer with its projections as nn.Linear."""

    def __init__(self, width, heads, mlp):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(width, eps=1e-6)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width, eps=1e-6)
        self.fc1 = nn.Linear(width, mlp)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(mlp, width)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(self.ln_1(x)).reshape(b, n, 3, self.heads, c // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (b, heads, n, head size)
        att = torch.softmax((q * (c // self.heads) ** -0.5) @ k.transpose(-2, -1), dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(b, n, c))
        return x + self.fc2(self.act(self.fc1(self.ln_2(x))))


class LinearViT(nn.Module):
    """torchvision's vit_b_16 (class token, learned positions, final LayerNorm,
    linear head on the class token) with every weight GEMM an nn.Linear."""

    def __init__(self, classes, width=768, layers=12, heads=12, mlp=3072, patch=16, size=224):
        super().__init__()
        self.conv_proj = nn.Conv2d(3, width, patch, stride=patch)
        self.class_token = nn.Parameter(torch.zeros(1, 1, width))
        self.pos_embedding = nn.Parameter(torch.zeros(1, (size // patch) ** 2 + 1, width))
        self.layers = nn.ModuleList(Block(width, heads, mlp) for _ in range(layers))
        self.ln = nn.LayerNorm(width, eps=1e-6)
        self.head = nn.Linear(width, classes)

    def forward(self, x):
        x = self.conv_proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = x + self.pos_embedding
        for layer in self.layers:
            x = layer(x)
        return self.head(self.ln(x)[:, 0])

    @staticmethod
    def from_torchvision(tv, classes):
        """A LinearViT holding torchvision model tv's parameters."""
        m, sd = LinearViT(classes), tv.state_dict()
        names = {"conv_proj.weight": "conv_proj.weight", "conv_proj.bias": "conv_proj.bias",
                 "class_token": "class_token", "pos_embedding": "encoder.pos_embedding",
                 "ln.weight": "encoder.ln.weight", "ln.bias": "encoder.ln.bias",
                 "head.weight": "heads.head.weight", "head.bias": "heads.head.bias"}
        for i in range(len(m.layers)):
            tv_layer = f"encoder.layers.encoder_layer_{i}."
            for ours, theirs in (("ln_1", "ln_1"), ("qkv", "self_attention.in_proj"),
                                 ("proj", "self_attention.out_proj"), ("ln_2", "ln_2"),
                                 ("fc1", "mlp.0"), ("fc2", "mlp.3")):
                sep = "_" if theirs.endswith("in_proj") else "."
                for p in ("weight", "bias"):
                    names[f"layers.{i}.{ours}.{p}"] = tv_layer + theirs + sep + p
        m.load_state_dict({ours: sd[theirs] for ours, theirs in names.items()})
        return m.eval()


def relative(got, ref):
    """Worst difference relative to the largest |logit| of ref."""
    return float((got.double() - ref.double()).abs().max() / ref.double().abs().max())


def build_int8(pth, classes, tol=1e-4):
    """LinearViT from pth, checked against torchvision in float, then quantize_dynamic'd;
    returns the model and {float_vs_torchvision, int8_vs_float} relative differences."""
    tv = build(pth, classes)
    m = LinearViT.from_torchvision(tv, classes)
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        ref, got = tv(x), m(x)
    check = {"float_vs_torchvision": relative(got, ref)}
    if not check["float_vs_torchvision"] <= tol:
        raise SystemExit(f"torch_bench.py: LinearViT's float logits differ from torchvision's by "
                         f"{check['float_vs_torchvision']:.2e} of the largest (bound {tol:g})")
    q = torch.ao.quantization.quantize_dynamic(m, {nn.Linear}, dtype=torch.qint8).eval()
    with torch.inference_mode():
        check["int8_vs_float"] = relative(q(x), got)
    return q, check


def prepare(m, mode, x):
    if mode == "eager":
        return m
    with torch.no_grad():
        t = torch.jit.trace(m, x, check_trace=False)
        if mode == "trace":
            return t
        t = torch.jit.freeze(t.eval())
        if mode == "optimize":
            t = torch.jit.optimize_for_inference(t)
        return t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pth", help="vit_b_16 state dict (bench/export_onnx.py); random if absent")
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--iters", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--mode", choices=["eager", "trace", "freeze", "optimize"], default="eager")
    ap.add_argument("--mkldnn", choices=["on", "off"], default="on",
                    help="torch.backends.mkldnn.enabled (oneDNN for what torch routes to it)")
    ap.add_argument("--quantize", choices=["none", "dynamic"], default="none",
                    help="dynamic: LinearViT with quantize_dynamic({nn.Linear}, qint8)")
    a = ap.parse_args()
    if a.batch < 1 or a.threads < 1 or a.iters < 1:
        ap.error("--batch, --threads and --iters must be at least 1")
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.backends.mkldnn.enabled = a.mkldnn == "on"
    torch.manual_seed(1)
    x = torch.randn(a.batch, 3, 224, 224).contiguous()
    t0 = time.perf_counter()
    check = None
    if a.quantize == "dynamic":
        m, check = build_int8(a.pth, a.classes)
    else:
        m = build(a.pth, a.classes)
    m = prepare(m, a.mode, x)
    load_s = time.perf_counter() - t0
    per, total = [], 0.0
    with torch.inference_mode():
        for _ in range(a.warmup):
            m(x)
        for _ in range(a.iters):
            s = time.perf_counter()
            m(x)
            dt = time.perf_counter() - s
            total += dt
            per.append(a.batch / dt)
    env = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS",
                                      "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT",
                                      "LD_LIBRARY_PATH") if k in os.environ}
    print(json.dumps({
        "engine": "torch", "version": torch.__version__, "torchvision": torchvision.__version__,
        "batch": a.batch, "threads": a.threads, "mode": a.mode, "mkldnn": a.mkldnn,
        "quantize": a.quantize, "quantized_engine": torch.backends.quantized.engine,
        "check": check,
        "env": env, "blas": openblas_core(), "warmup": a.warmup, "iters": a.iters,
        "images": a.batch * a.iters, "seconds": total,
        "images_per_s": a.batch * a.iters / total if total > 0 else 0.0,
        "per_iter_images_per_s": per, "load_s": load_s}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
