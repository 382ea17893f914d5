#!/usr/bin/env python3
"""Times torchvision's vit_b_16 in PyTorch for bench/bench.py.

    /usr/bin/python3 bench/torch_bench.py --pth out/bench/vit_b_16.pth
        [--batch 8] [--threads 2] [--iters 6] [--warmup 1] [--mode freeze]

Prints one JSON line: images/s of each timed iteration and of them all (batch *
iters / their total time), and the settings in force. Model loading, tracing,
freezing and the warm-up iterations are not timed. Inputs are random, contiguous
NCHW float32, made once.

--mode: eager (nn.Module under torch.inference_mode; nn.MultiheadAttention then
takes its fused fast path), trace (torch.jit.trace), freeze (trace +
torch.jit.freeze: weights folded in as constants), optimize (freeze +
torch.jit.optimize_for_inference, which hands what it can to oneDNN).

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
    a = ap.parse_args()
    if a.batch < 1 or a.threads < 1 or a.iters < 1:
        ap.error("--batch, --threads and --iters must be at least 1")
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.backends.mkldnn.enabled = a.mkldnn == "on"
    torch.manual_seed(1)
    x = torch.randn(a.batch, 3, 224, 224).contiguous()
    t0 = time.perf_counter()
    m = prepare(build(a.pth, a.classes), a.mode, x)
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
        "env": env, "blas": openblas_core(), "warmup": a.warmup, "iters": a.iters,
        "images": a.batch * a.iters, "seconds": total,
        "images_per_s": a.batch * a.iters / total if total > 0 else 0.0,
        "per_iter_images_per_s": per, "load_s": load_s}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
