#!/usr/bin/env python3
"""Writes the int8 ONNX graph that bench/bench.py's ort-int8 engine runs.

What ONNX Runtime's own dynamic quantizer
(onnxruntime.quantization.quantize_dynamic, weight_type QInt8, its defaults:
per tensor, no reduce_range, MatMulConstBOnly) makes of the fp32 export, done
here with the onnx package alone (the onnxruntime Python wheel, which holds
the quantizer, cannot be installed here). Each MatMul whose B is a float
initializer becomes, with ORT's node and tensor names:

    X -> DynamicQuantizeLinear -> X_quantized (uint8), X_scale, X_zero_point
         (one per tensor X, shared by the MatMuls that read it)
    MatMulInteger(X_quantized, W_quantized, X_zero_point, W_zero_point)
    -> Cast(to float) -> Mul(., Mul(X_scale, W_scale)) -> the MatMul's output

W_quantized is int8, symmetric: scale = max|W| / 127 (max(|min|, |max|) with
0 in the range, as ORT's compute_scale_zp), q = round-half-even(W / scale)
clipped to [-127, 127], zero point 0; --per-channel gives a scale per output
column (ORT's per_channel=True). The bias Add after the MatMul stays, so
ORT's graph optimiser fuses the chain into DynamicQuantizeMatMul with the
bias, as it does for the quantizer's output.

ORT's quantizer leaves Gemm nodes in float (Gemm is not among its IntegerOps),
and torch's exporter writes each attention out-projection as a Gemm (transB=1,
2-D input): --gemm inner (the default) rewrites those the same way (the
weight transposed to [K, N], then the bias Add), so every linear layer of the
encoder runs in int8 as in vitrun --precision int8 and torch's quantize_dynamic;
the classifier head (the Gemm that writes a graph output) stays float, as in
vitrun. --gemm none is the quantizer's output exactly (out-projections in
float), --gemm all quantises the head too.

With --check, ONNX Runtime (bench/ort_bench.js) runs the fp32 and the int8
graph on the same random batch; the largest difference of the logits relative
to the largest fp32 logit and the share of equal top-1 are printed, and the
difference must be under --tol. Usage:

    /usr/bin/python3 bench/quantize_onnx.py out/bench/vit_b_16.onnx out/bench/vit_b_16_int8.onnx
        [--per-channel] [--gemm inner|none|all] [--check] [--check-batch 2] [--tol 0.1]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def quantize_weight(w, per_channel):
    """int8 q, float32 scale and int8 zero point of w [K, N], as ORT's quantize_data
    (symmetric int8) does per tensor, or per column with per_channel."""
    axis = 0 if per_channel else None
    lo = np.minimum(w.min(axis=axis), np.float32(0))
    hi = np.maximum(w.max(axis=axis), np.float32(0))
    absmax = np.maximum(np.abs(lo), np.abs(hi))
    scale = np.asarray((2 * absmax) / np.float32(254), dtype=np.float32)
    scale = np.where(scale < np.finfo(np.float32).tiny, np.float32(1), scale).astype(np.float32)
    q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
    return q, scale, np.zeros(scale.shape, np.int8)


class Rewriter:
    def __init__(self, model, per_channel, gemm):
        self.model, self.per_channel, self.gemm = model, per_channel, gemm
        g = model.graph
        self.inits = {i.name: i for i in g.initializer}
        self.outputs = {o.name for o in g.output}
        self.quantized_inputs = {}  # X -> (X_quantized, X_scale, X_zero_point)
        self.new_inits = []
        self.counts = {"MatMul": 0, "Gemm": 0, "float Gemm": 0, "float MatMul": 0}

    def float_weight(self, name):
        t = self.inits.get(name)
        return (numpy_helper.to_array(t) if t is not None and t.data_type == TensorProto.FLOAT
                and len(t.dims) == 2 else None)

    def quantize_input(self, x, nodes):
        """ORT's _get_quantize_input_nodes for dynamic uint8: DynamicQuantizeLinear once per X."""
        if x not in self.quantized_inputs:
            outs = (x + "_quantized", x + "_scale", x + "_zero_point")
            nodes.append(helper.make_node("DynamicQuantizeLinear", [x], list(outs),
                                          x + "_QuantizeLinear"))
            self.quantized_inputs[x] = outs
        return self.quantized_inputs[x]

    def integer_matmul(self, node, x, wname, w, out, nodes):
        """ORT's MatMulInteger.quantize: the int8 chain from x and w [K, N] to out."""
        xq, xs, xz = self.quantize_input(x, nodes)
        q, scale, zero = quantize_weight(w, self.per_channel)
        wq, ws, wz = wname + "_quantized", wname + "_scale", wname + "_zero_point"
        self.new_inits += [numpy_helper.from_array(q, wq), numpy_helper.from_array(scale, ws),
                           numpy_helper.from_array(zero, wz)]
        name = node.name + "_quant"
        mm = out + "_output_quantized"
        nodes += [
            helper.make_node("MatMulInteger", [xq, wq, xz, wz], [mm], name),
            helper.make_node("Cast", [mm], [mm + "_cast_output"], mm + "_cast",
                             to=TensorProto.FLOAT),
            helper.make_node("Mul", [xs, ws], [name + "_scales_mul:0"], name + "_scales_mul"),
            helper.make_node("Mul", [mm + "_cast_output", name + "_scales_mul:0"], [out],
                             name + "_output_scale_mul"),
        ]

    def gemm_is_linear(self, node):
        """A Gemm that is y = x W^T + c (or x W + c), W an initializer, alpha = beta = 1 (c
        may be any tensor: torch's exporter writes equal biases once, the others as Identity
        of it; Add broadcasts c as Gemm does)."""
        at = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        return (at.get("alpha", 1.0) == 1.0 and at.get("beta", 1.0) == 1.0 and
                not at.get("transA", 0) and self.float_weight(node.input[1]) is not None,
                at.get("transB", 0))

    def rewrite(self):
        nodes = []
        for node in self.model.graph.node:
            w = self.float_weight(node.input[1]) if len(node.input) > 1 else None
            if node.op_type == "MatMul" and w is not None:
                self.integer_matmul(node, node.input[0], node.input[1], w, node.output[0], nodes)
                self.counts["MatMul"] += 1
                continue
            if node.op_type == "MatMul":
                self.counts["float MatMul"] += 1  # activation x activation (attention)
            if node.op_type == "Gemm":
                linear, trans_b = self.gemm_is_linear(node)
                head = node.output[0] in self.outputs
                if linear and (self.gemm == "all" or (self.gemm == "inner" and not head)):
                    y = node.output[0]
                    mm = y + "_MatMul" if len(node.input) > 2 else y
                    self.integer_matmul(node, node.input[0], node.input[1],
                                        np.ascontiguousarray(w.T) if trans_b else w, mm, nodes)
                    if len(node.input) > 2:
                        nodes.append(helper.make_node("Add", [mm, node.input[2]], [y],
                                                      node.name + "_bias_Add"))
                    self.counts["Gemm"] += 1
                    continue
                self.counts["float Gemm"] += 1
            nodes.append(node)
        g = self.model.graph
        del g.node[:]
        g.node.extend(nodes)
        used = {i for n in g.node for i in n.input}
        kept = [t for t in g.initializer if t.name in used] + self.new_inits
        del g.initializer[:]
        g.initializer.extend(kept)
        names = {t.name for t in kept}
        kept_vi = [v for v in g.input if v.name not in self.inits or v.name in names]
        del g.input[:]
        g.input.extend(kept_vi)
        return self.model


def quantize(src, dst, per_channel, gemm):
    model = onnx.load(src)
    r = Rewriter(model, per_channel, gemm)
    model = r.rewrite()
    if not any(o.domain in ("", "ai.onnx") and o.version >= 11 for o in model.opset_import):
        raise SystemExit(f"quantize_onnx.py: {src}: DynamicQuantizeLinear needs opset >= 11")
    model.doc_string = (f"bench/quantize_onnx.py from {os.path.basename(src)}: ONNX Runtime "
                        f"quantize_dynamic's layout, int8 weights "
                        f"{'per channel' if per_channel else 'per tensor'}, Gemms: {gemm}")
    onnx.checker.check_model(model)
    tmp = dst + ".tmp"
    onnx.save(model, tmp)
    os.replace(tmp, dst)
    return r.counts


def run_ort(model, x, threads):
    with tempfile.TemporaryDirectory() as tmp:
        xin, yout = os.path.join(tmp, "x.f32"), os.path.join(tmp, "y.f32")
        x.astype("<f4").tofile(xin)
        r = subprocess.run(["node", os.path.join(HERE, "ort_bench.js"), "--model", model,
                            "--batch", str(x.shape[0]), "--threads", str(threads), "--input", xin,
                            "--output", yout], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"ort_bench.js on {model} failed:\n{r.stderr}")
        info = json.loads(r.stdout.strip().splitlines()[-1])
        return np.fromfile(yout, dtype="<f4").astype(np.float64).reshape(info["output_dims"]), info


def check(src, dst, batch, threads, seed):
    """(relative difference, share of equal top-1, ORT version) of dst against src in ORT."""
    x = np.random.default_rng(seed).standard_normal((batch, 3, 224, 224)).astype(np.float32)
    ref, info = run_ort(src, x, threads)
    got, _ = run_ort(dst, x, threads)
    rel = float(np.abs(got - ref).max() / np.abs(ref).max())
    top1 = float((ref.argmax(1) == got.argmax(1)).mean())
    return rel, top1, info["version"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", help="fp32 ONNX graph (bench/export_onnx.py)")
    ap.add_argument("dst", help="int8 ONNX graph to write")
    ap.add_argument("--per-channel", action="store_true",
                    help="a weight scale per output column (ORT's per_channel=True)")
    ap.add_argument("--gemm", choices=["inner", "none", "all"], default="inner",
                    help="Gemms rewritten too: inner (all but the one writing a graph output, "
                         "the head), none (ORT's quantizer exactly), all")
    ap.add_argument("--check", action="store_true", help="compare ORT's int8 and fp32 logits")
    ap.add_argument("--check-batch", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--tol", type=float, default=0.1,
                    help="bound of the relative difference from the fp32 graph")
    a = ap.parse_args()
    counts = quantize(a.src, a.dst, a.per_channel, a.gemm)
    print(f"wrote {a.dst} (onnx {onnx.__version__}): {counts['MatMul']} MatMul and "
          f"{counts['Gemm']} Gemm to DynamicQuantizeLinear + MatMulInteger, int8 weights "
          f"{'per channel' if a.per_channel else 'per tensor'}; float: {counts['float Gemm']} "
          f"Gemm, {counts['float MatMul']} activation MatMul")
    if a.check:
        rel, top1, version = check(a.src, a.dst, a.check_batch, a.threads, a.seed)
        print(f"ORT {version} int8 vs fp32 graph on {a.check_batch} images: max relative "
              f"difference {rel:.2e}, same top-1 on {100 * top1:.0f}%")
        if not rel <= a.tol:
            print(f"quantize_onnx.py: int8 logits too far from fp32 (bound {a.tol:g})",
                  file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
