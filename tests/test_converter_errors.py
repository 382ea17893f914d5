#!/usr/bin/env python3
"""convert_checkpoint.py refuses what it cannot convert, says why, and leaves no file.

Each case damages a valid checkpoint written by tests/reference/checkpoints.py
and expects exit code 2, a message naming the problem, and no output model.
Two positive controls make sure the cases fail for the stated reason.
"""
import argparse
import json
import os
import struct
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "reference"))
import checkpoints  # noqa: E402
from testlib import PYTHON, Checker, run  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vitrun", required=True)
    ap.add_argument("--scripts", required=True)
    a = ap.parse_args()
    conv = os.path.join(a.scripts, "convert_checkpoint.py")
    ck = Checker("converter errors")
    P = checkpoints.random_params(32, 8, 3, 60, 2, 5, 100, 11, 1e-6, seed=1)
    P192 = checkpoints.random_params(32, 8, 3, 192, 1, 3, 64, 4, 1e-6, seed=2)

    with tempfile.TemporaryDirectory() as tmp:
        def path(name):
            return os.path.join(tmp, name)

        def timm_with(name, edit):
            t = {k: v for k, v in checkpoints.export_timm_tensors(P).items()}
            edit(t)
            checkpoints.write_safetensors(path(name), t)
            return path(name)

        # what timm's names cannot tell (convert_checkpoint.py --act/--eps, or --arch)
        timm_flags = lambda args: args + ["--act", "gelu", "--eps", "1e-6"] \
            if args[:2] == ["--format", "timm"] and not {"--arch", "--eps"} & set(args) else args

        def expect_fail(what, args, needle):
            args = timm_flags(args)
            dst = path("out.h5")
            p = run([PYTHON, conv] + args + [dst], check=False)
            msg = (p.stderr or "").strip().splitlines()
            last = msg[-1] if msg else ""
            ok = p.returncode == 2 and needle in p.stderr and not os.path.exists(dst)
            ck.check(what, ok, f"exit {p.returncode}: {last[:160]}")

        def expect_ok(what, args, needle=""):
            args = timm_flags(args)
            dst = path("ok.h5")
            p = run([PYTHON, conv] + args + [dst], check=False)
            ck.check(what, p.returncode == 0 and needle in p.stderr and os.path.exists(dst),
                     f"exit {p.returncode}: {p.stderr.strip().splitlines()[-1][:160]}")
            os.remove(dst) if os.path.exists(dst) else None

        good = timm_with("good.safetensors", lambda t: None)
        expect_ok("control: the undamaged timm checkpoint converts",
                  ["--format", "timm", good, "--heads", "5"])
        expect_fail("unexpected tensor is listed",
                    ["--format", "timm", timm_with("extra.safetensors",
                     lambda t: t.update({"blocks.0.attn.extra": P["cls"]})), "--heads", "5"],
                    "unexpected tensors: blocks.0.attn.extra")
        expect_fail("missing tensor is listed",
                    ["--format", "timm", timm_with("missing.safetensors",
                     lambda t: t.pop("blocks.1.mlp.fc2.bias")), "--heads", "5"],
                    "missing tensors: blocks.1.mlp.fc2.bias")
        expect_fail("tensor of the wrong shape",
                    ["--format", "timm", timm_with("shape.safetensors",
                     lambda t: t.update({"head.bias": P["head_b"][:-1]})), "--heads", "5"],
                    "expected [11]")
        with open(good, "rb") as f:
            data = f.read()
        with open(path("trunc.safetensors"), "wb") as f:
            f.write(data[: len(data) // 2])
        expect_fail("truncated safetensors", ["--format", "timm", path("trunc.safetensors"),
                                               "--heads", "5"], "truncated")
        expect_fail("width 60 without --heads", ["--format", "timm", good], "pass --heads")
        expect_fail("timm without the activation: names --arch and --act",
                    ["--format", "timm", good, "--heads", "5", "--eps", "1e-6"],
                    "--act {gelu,gelu_tanh,quick_gelu}")
        expect_fail("an unknown --arch lists the close names",
                    ["--format", "timm", good, "--heads", "5", "--arch", "vit_base_patch16_244"],
                    "close known names: vit_base_patch16_224")
        expect_fail("a known --arch of another size",
                    ["--format", "timm", good, "--heads", "5", "--arch", "vit_small_patch16_224"],
                    "is it the right --arch?")
        Pc = checkpoints.random_params(32, 8, 3, 60, 2, 5, 100, 16, 1e-5, seed=3, variant="clip")
        oc = checkpoints.export_open_clip(Pc, path("oc.pt"))
        expect_fail("OpenCLIP: an --arch of another width",
                    ["--format", "openclip", oc, "--heads", "5", "--arch", "ViT-B-32"],
                    "is it the right --arch?")
        expect_fail("OpenCLIP: an unknown --arch lists the close names",
                    ["--format", "openclip", oc, "--arch", "ViT-B-23"], "close known names")
        expect_fail("OpenCLIP without the activation: names --arch and --act",
                    ["--format", "openclip", oc, "--heads", "5"],
                    "OpenCLIP's model name, e.g. ViT-B-16")
        expect_ok("OpenCLIP with --act converts", ["--format", "openclip", oc, "--heads", "5",
                                                   "--act", "quick_gelu"])
        expect_fail("--act given for an HF folder",
                    ["--format", "hf", checkpoints.export_hf(P, path("hf0"), [str(i) for i in range(11)]),
                     "--act", "gelu"], "checkpoints carry their settings")
        expect_fail("torchvision file given as timm",
                    ["--format", "timm", checkpoints.export_torchvision_safetensors(
                        P, path("tv.safetensors")), "--heads", "5"],
                    "patch_embed.proj.weight is missing")
        checkpoints.write_safetensors(path("w192.safetensors"),
                                            checkpoints.export_timm_tensors(P192))
        expect_ok("control: width 192 takes the standard 3 heads, and says so",
                  ["--format", "timm", path("w192.safetensors")], "assuming 3 heads")
        os.makedirs(path("empty_hf"))
        expect_fail("HF folder without config.json", ["--format", "hf", path("empty_hf")],
                    "no config.json")
        hf = checkpoints.export_hf(P, path("hf"), [str(i) for i in range(11)])
        with open(os.path.join(hf, "config.json")) as f:
            cfg = json.load(f)
        cfg["hidden_act"] = "relu"
        with open(os.path.join(hf, "config.json"), "w") as f:
            json.dump(cfg, f)
        expect_fail("HF activation vitrun does not run, refused", ["--format", "hf", hf],
                    "hidden_act 'relu' is not supported")
        with open(path("labels.txt"), "w") as f:
            f.write("a\nb\n")
        expect_fail("label file with the wrong count",
                    ["--format", "timm", good, "--heads", "5", "--labels", path("labels.txt")],
                    "2 labels")
        expect_fail("more shards than layers",
                    ["--format", "timm", good, "--heads", "5", "--shards", "3"], "--shards")

        # malformed checkpoints: a message naming the problem, never a traceback
        def raw_safetensors(name, header, body=b""):
            h = json.dumps(header).encode()
            with open(path(name), "wb") as f:
                f.write(struct.pack("<Q", len(h)) + h + body)
            return path(name)

        expect_fail("timm without the fused qkv: listed as missing",
                    ["--format", "timm", timm_with("noqkv.safetensors",
                     lambda t: t.pop("blocks.0.attn.qkv.weight")), "--heads", "5"],
                    "missing tensors: blocks.0.attn.qkv.weight")
        tv = checkpoints._torchvision_tensors(P, False)
        del tv["encoder.layers.encoder_layer_1.self_attention.in_proj_weight"]
        checkpoints.write_safetensors(path("tv2.safetensors"), tv)
        expect_fail("torchvision without in_proj_weight: listed as missing",
                    ["--format", "torchvision", path("tv2.safetensors"), "--heads", "5"],
                    "missing tensors: encoder.layers.encoder_layer_1.self_attention."
                    "in_proj_weight")
        expect_fail("layer number 999999999999",
                    ["--format", "timm", timm_with("far.safetensors", lambda t: t.update(
                        {"blocks.999999999999.norm1.weight": P["cls"]})), "--heads", "5"],
                    "layer number 999999999999 is out of range")
        expect_fail("pos_embed smaller than the width",
                    ["--format", "timm", timm_with("pos.safetensors", lambda t: t.update(
                        {"pos_embed": t["pos_embed"].reshape(-1)[:7]})), "--heads", "5"],
                    "pos_embed holds 0 tokens")
        expect_fail("patch weight with a zero size",
                    ["--format", "timm", timm_with("zero.safetensors", lambda t: t.update(
                        {"patch_embed.proj.weight": np.zeros((0, 3, 8, 8), np.float32)})),
                     "--heads", "5"], "patch_embed.proj.weight has shape [0, 3, 8, 8]")
        expect_fail("1-d head weight",
                    ["--format", "timm", timm_with("head1.safetensors", lambda t: t.update(
                        {"head.weight": t["head.weight"].reshape(-1)})), "--heads", "5"],
                    "head.weight has shape [660]; expected 2 nonzero sizes")
        expect_fail("safetensors header a JSON list",
                    ["--format", "timm", raw_safetensors("list.safetensors", [1, 2]),
                     "--heads", "5"], "a JSON list, not an object")
        expect_fail("safetensors entry without dtype",
                    ["--format", "timm", raw_safetensors("nodt.safetensors", {"a": {
                        "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4), "--heads", "5"],
                    "tensor a: the header entry needs dtype")
        expect_fail("safetensors entry with a nested shape",
                    ["--format", "timm", raw_safetensors("nest.safetensors", {"a": {
                        "dtype": "F32", "shape": [[1]], "data_offsets": [0, 4]}}, b"\0" * 4),
                     "--heads", "5"], "tensor a: the header entry needs dtype")
        expect_fail("safetensors bytes that do not fit the dtype",
                    ["--format", "timm", raw_safetensors("odd.safetensors", {"a": {
                        "dtype": "F32", "shape": [1], "data_offsets": [0, 3]}}, b"\0" * 3),
                     "--heads", "5"], "tensor a has 3 bytes")
        hf2 = checkpoints.export_hf(P, path("hf2"), [str(i) for i in range(11)])
        with open(os.path.join(hf2, "config.json"), "w") as f:
            json.dump([1], f)
        expect_fail("HF config.json a list", ["--format", "hf", hf2],
                    "config.json: a JSON list, expected an object")
        hf3 = checkpoints.export_hf(P, path("hf3"), [str(i) for i in range(11)])
        os.rename(os.path.join(hf3, "model.safetensors"), os.path.join(hf3, "part1.safetensors"))
        with open(os.path.join(hf3, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {}}, f)
        expect_fail("HF index without weight_map", ["--format", "hf", hf3], "no 'weight_map'")
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
